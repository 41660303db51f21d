/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl access-log, purge and subject: what the law asks of bokvar —
 * a record of who read whose data, deleting what is kept too long, and a
 * person's copy of everything held about them. The database decides who
 * may (auditors, operators, caseworkers and coordinators); these print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/ingest/identity.h"

/* --- access-log --------------------------------------------------------- */

struct access_log_args {
        const char *household, *actor, *since, *limit;
        bool unusual;
};

static int access_log_option(int c, const char *arg, void *userdata) {
        struct access_log_args *a = userdata;

        switch (c) {
        case 'H':
                a->household = arg;
                break;
        case 'a':
                a->actor = arg;
                break;
        case 's':
                a->since = arg;
                break;
        case 'u':
                a->unusual = true;
                break;
        case 'l':
                a->limit = arg;
                break;
        default:
                return EXIT_USAGE;
        }
        return -1;
}

int verb_access_log(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl access-log [--household ID] [--actor LOGIN] [--since TIME]\n"
                "                            [--unusual] [--limit N] [--json]\n"
                "\n"
                "Who read which household's personal data, when, through what and why: every\n"
                "task show, household show, case-system read, subject export and quarantine\n"
                "--raw leaves one entry. --unusual: only reads of a household the reader had\n"
                "no task for at the time (none open that was theirs or that they had acted\n"
                "on). --since: e.g. 2026-03-01 or '2026-03-01 08:00'. --limit: at most N\n"
                "entries, oldest first (default 1000; 0: all). For auditors.\n";
        static const struct option options[] = {
                { "household", required_argument, NULL, 'H' },
                { "actor", required_argument, NULL, 'a' },
                { "since", required_argument, NULL, 's' },
                { "unusual", no_argument, NULL, 'u' },
                { "limit", required_argument, NULL, 'l' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        struct access_log_args a = { .limit = "1000" };
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, access_log_option, &a);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        if (a.household && !ctl_valid_id(a.household)) {
                fprintf(stderr, "bokvarctl access-log: '%s' is not a household id\n", a.household);
                return EXIT_USAGE;
        }
        if (strspn(a.limit, "0123456789") != strlen(a.limit) || !a.limit[0] || strlen(a.limit) > 9) {
                fprintf(stderr, "bokvarctl access-log: --limit needs a number\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        r = ctl_call(ctl, &res, "access-log",
                     ctl->json ? "SELECT id, at, actor, function, via, household_id, task_id, path, reason, unusual "
                                 "FROM bokvar.access_log_read($1::bigint, $2, $3::timestamptz, $4::boolean, "
                                 "nullif($5::integer, 0))"
                               : "SELECT id, to_char(at, 'YYYY-MM-DD HH24:MI:SS') AS at, actor, "
                                 "coalesce(function::text, 'system') AS function, "
                                 "CASE WHEN via = actor THEN '' ELSE via END AS via, household_id AS household, "
                                 "task_id AS task, path, coalesce(reason, '') AS reason, "
                                 "CASE WHEN unusual THEN 'UNUSUAL' ELSE '' END AS unusual "
                                 "FROM bokvar.access_log_read($1::bigint, $2, $3::timestamptz, $4::boolean, "
                                 "nullif($5::integer, 0))",
                     5, (const char *[]){ a.household, a.actor, a.since, a.unusual ? "t" : "f", a.limit });
        if (r != EXIT_OK)
                return r;
        if (!ctl->json && PQntuples(res) == 0) {
                printf("%s\n", a.household || a.actor || a.since || a.unusual ? _("No entries match.")
                                                                              : _("No entries yet."));
                return EXIT_OK;
        }
        if (ctl->json)
                output_result(stdout, res, true);
        else
                output_people_table(stdout, res);
        return EXIT_OK;
}

/* --- purge --------------------------------------------------------------- */

static int purge_option(int c, const char *arg _unused_, void *userdata) {
        if (c != 'n')
                return EXIT_USAGE;
        *(bool *) userdata = true;
        return -1;
}

int verb_purge(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl purge [--dry-run] [--json]\n"
                "\n"
                "Deletes what the retention: of bokvar.yaml no longer allows (bokvard does this\n"
                "once a day): households that never got a task, some time after their last\n"
                "signal; households whose tasks all closed long enough ago, with everything\n"
                "about them (people, signals and their earlier versions, scores, tasks,\n"
                "events, contacts, outbox rows, the counts of children caseworkers gave, the\n"
                "addresses of households merged into them); quarantined rows; old access and\n"
                "audit log entries. The yearly report keeps the figures the deleted rows made.\n"
                "Prints how many of each went; an audit log entry records the counts.\n"
                "--dry-run: what a purge now would delete, deleting nothing. For operators.\n"
                "Exit status: 0 done, 1 refused, 3 database error.\n";
        static const struct option options[] = {
                { "dry-run", no_argument, NULL, 'n' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL, *rows = NULL;
        bool dry = false;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, purge_option, &dry);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        r = ctl_call(ctl, &res, "purge", "SELECT bokvar.purge($1::boolean)", 1, (const char *[]){ dry ? "t" : "f" });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(res, 0, 0));
                return EXIT_OK;
        }
        r = ctl_query(ctl, &rows,
                      "SELECT l, coalesce(($1::jsonb ->> k)::bigint, 0) FROM (VALUES "
                      "(1, 'households_without_task', 'households that never got a task'), "
                      "(2, 'households_with_tasks', 'households whose tasks closed long enough ago'), "
                      "(3, 'signal', '  their signals'), (4, 'signal_version', '  earlier versions of signals'), "
                      "(5, 'task', '  their tasks'), (6, 'children_correction', '  counts of children caseworkers gave'), "
                      "(7, 'quarantine', 'quarantined rows'), "
                      "(8, 'access_log', 'access log entries'), (9, 'audit_log', 'audit log entries')) x(o, k, l) "
                      "ORDER BY o",
                      1, (const char *[]){ PQgetvalue(res, 0, 0) });
        if (r != EXIT_OK)
                return r;
        printf("%s\n", dry ? "A purge now would delete:" : "Deleted:");
        for (int i = 0; i < PQntuples(rows); i++)
                printf("  %-48s %8s\n", PQgetvalue(rows, i, 0), PQgetvalue(rows, i, 1));
        return EXIT_OK;
}

/* --- subject export ------------------------------------------------------- */

/* Prints one part of the copy as a table, under its heading. */
static int print_part(struct ctl *ctl, const char *doc, const char *heading, const char *sql) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_query(ctl, &res, sql, 1, (const char *[]){ doc });
        if (r != EXIT_OK)
                return r;
        printf("\n%s:\n", heading);
        if (PQntuples(res) == 0)
                printf("  %s\n", _("none"));
        else
                output_people_table(stdout, res);
        return EXIT_OK;
}

/* One household of the copy (its part of the document, {household, score,
 * children_corrections, merged_households, score_history, rulesets, tasks,
 * read_by}). */
static int subject_household_print(struct ctl *ctl, const char *part) {
        int r;

        if ((r = print_part(ctl, part, _("What is known of the home"),
                            "SELECT id, children, postal_code, city, landlord, "
                            "first_signal_at, last_signal_at, persons "
                            "FROM jsonb_to_record($1::jsonb -> 'household') AS x(id bigint, "
                            "children integer, postal_code text, city text, landlord text, first_signal_at date, "
                            "last_signal_at date, persons bigint)")) ||
            (r = print_part(ctl, part, _("The children as caseworkers counted them"),
                            "SELECT at, before, children, by, "
                            "coalesce(note, '') AS how_they_knew "
                            "FROM jsonb_to_recordset($1::jsonb -> 'children_corrections') AS x(at timestamptz, "
                            "before integer, children integer, by text, note text)")) ||
            (r = print_part(ctl, part, _("Households a caseworker merged into it, and their addresses"),
                            "SELECT household, at, address_key AS address "
                            "FROM jsonb_to_recordset($1::jsonb -> 'merged_households') AS x(household bigint, "
                            "at timestamptz, address_key text)")) ||
            (r = print_part(ctl, part, _("Its scores over time, and the rules that gave them"),
                            "SELECT scored_at, as_of, score, class, ruleset_version, "
                            "(SELECT string_agg(format('%s (%s)', e ->> 'rule', e ->> 'points'), ', ') "
                            " FROM jsonb_array_elements(explanation) e) AS rules "
                            "FROM jsonb_to_recordset($1::jsonb -> 'score_history') AS x(scored_at timestamptz, "
                            "as_of date, score integer, class text, ruleset_version integer, explanation jsonb)")) ||
            (r = print_part(ctl, part, _("The rulesets those scores were computed under"),
                            "SELECT version, loaded_at, (SELECT string_agg(format('%s: %s', u ->> 'rule', "
                            "coalesce(u ->> 'description', '')), '; ') FROM jsonb_array_elements(rules) u) AS rules "
                            "FROM jsonb_to_recordset($1::jsonb -> 'rulesets') AS x(version integer, "
                            "loaded_at timestamptz, rules jsonb)")) ||
            (r = print_part(ctl, part, _("Outreach tasks"),
                            "SELECT (t -> 'task' ->> 'id')::bigint AS task, t -> 'task' ->> 'status' AS status, "
                            "t -> 'task' ->> 'team' AS team, (t -> 'task' ->> 'created_at')::timestamptz AS created_at, "
                            "(t -> 'task' ->> 'closed_at')::timestamptz AS closed_at, t -> 'task' ->> 'outcome' AS outcome, "
                            "coalesce(t -> 'task' ->> 'note', '') AS note "
                            "FROM jsonb_array_elements($1::jsonb -> 'tasks') t")) ||
            (r = print_part(ctl, part, _("What happened to them"),
                            "SELECT (t -> 'task' ->> 'id')::bigint AS task, (e ->> 'at')::timestamptz AS at, "
                            "e ->> 'kind' AS kind, e ->> 'by' AS by "
                            "FROM jsonb_array_elements($1::jsonb -> 'tasks') t, jsonb_array_elements(t -> 'events') e")) ||
            (r = print_part(ctl, part, _("Contacts"),
                            "SELECT (t -> 'task' ->> 'id')::bigint AS task, (c ->> 'at')::timestamptz AS at, "
                            "c ->> 'by' AS by, c ->> 'channel' AS channel, (c ->> 'reached')::boolean AS reached, "
                            "c ->> 'note' AS note "
                            "FROM jsonb_array_elements($1::jsonb -> 'tasks') t, jsonb_array_elements(t -> 'contacts') c")) ||
            (r = print_part(ctl, part, _("Who read the household's data"),
                            "SELECT at, who, coalesce(function, 'system') AS function, through "
                            "FROM jsonb_to_recordset($1::jsonb -> 'read_by') AS x(at timestamptz, who text, "
                            "function text, through text)")))
                return r;
        return EXIT_OK;
}

static int subject_print(struct ctl *ctl, const char *doc) {
        _cleanup_pgresult_ PGresult *head = NULL, *homes = NULL;
        int r;

        r = ctl_query(ctl, &head,
                      "SELECT $1::jsonb ->> 'identity_number', ($1::jsonb ->> 'exported_at')::timestamptz", 1,
                      (const char *[]){ doc });
        if (r == EXIT_OK)
                r = ctl_query(ctl, &homes,
                              "SELECT n, h #>> '{household,id}', h::text FROM jsonb_array_elements("
                              "jsonb_build_array($1::jsonb -> 'household') || ($1::jsonb -> 'earlier_households')) "
                              "WITH ORDINALITY x(h, n) ORDER BY n",
                              1, (const char *[]){ doc });
        if (r != EXIT_OK)
                return r;
        {
                char at[L10N_TEXT_MAX];

                ctl_sentence(stdout, _("What bokvar holds about the person with identity number %1$s (exported %2$s)."),
                             PQgetvalue(head, 0, 0),
                             l10n_timestamp(PQgetvalue(head, 0, 1), at) >= 0 ? at : PQgetvalue(head, 0, 1));
        }
        printf("%s\n", _("Signals about other members of the household are theirs and not included."));
        if ((r = print_part(ctl, doc, _("Signals about the person"),
                            "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'signals') AS x(feed text, source text, "
                            "external_id text, kind text, occurred_at date, deadline date, person_id text, "
                            "name text, address text, postal_code text, city text, apartment text, children integer, "
                            "amount numeric, months_in_arrears integer, landlord text, received_at timestamptz)")) ||
            (r = print_part(ctl, doc, _("Earlier versions of those signals"),
                            "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'earlier_versions') AS x(feed text, "
                            "external_id text, version integer, kind text, occurred_at date, deadline date, "
                            "person_id text, name text, address text, postal_code text, city text, "
                            "apartment text, children integer, amount numeric, months_in_arrears integer, "
                            "landlord text, replaced_at timestamptz)")))
                return r;
        /* The person's home, then the homes they left. */
        for (int i = 0; i < PQntuples(homes); i++) {
                printf("\n== ");
                ctl_sentence(stdout, i == 0 ? _("The household (%s)") : _("An earlier home of the person: household %s"),
                             PQgetvalue(homes, i, 1));
                r = subject_household_print(ctl, PQgetvalue(homes, i, 2));
                if (r != EXIT_OK)
                        return r;
        }
        return EXIT_OK;
}

int verb_subject(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl subject export NUMBER|- [--reason TEXT] [--json]\n"
                "\n"
                "The data subject's copy (GDPR art. 15): everything bokvar holds about the\n"
                "person with this identity number (- reads it from standard input): their\n"
                "signals with the feeds they came from and earlier versions; the household\n"
                "they live in and those they left (any with signals about them), each with\n"
                "its scores, the rules and ruleset versions behind them, the counts of\n"
                "children caseworkers gave, the households merged into it, the outreach\n"
                "tasks, what happened to them, the contacts and outcomes, and who read the\n"
                "household's data when. The export is written to the access log, once for\n"
                "each household. Caseworkers export the households with a task of their\n"
                "teams, coordinators anyone's.\n"
                "Exit status: 0 done, 1 refused, 2 usage, 3 database error, 5 not a valid\n"
                "identity number, or nothing about it that you may see (which of the two\n"
                "the message says; it never repeats the number).\n";
        static const struct option options[] = {
                { "reason", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *reason = NULL, *number;
        char line[128], id[IDENTITY_MAX];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, ctl_string_option, &reason);
        if (r >= 0)
                return r;
        if (optind + 2 != argc || !streq(argv[optind], "export")) {
                fprintf(stderr, "Usage: bokvarctl subject export NUMBER|- [--reason TEXT] [--json]\n");
                return EXIT_USAGE;
        }
        number = argv[optind + 1];
        if (streq(number, "-")) {
                r = ctl_read_number("subject export", line, sizeof line);
                if (r >= 0)
                        return r;
                number = line;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        /* The database takes the number normalised. */
        r = ctl_identity_number(ctl, "subject export", number, EXIT_NOT_FOUND, id);
        if (r >= 0) {
                explicit_bzero(line, sizeof line);
                return r;
        }
        r = ctl_call(ctl, &res, "subject export", "SELECT bokvar.subject_export($1, $2)", 2,
                     (const char *[]){ id, reason });
        explicit_bzero(line, sizeof line);
        explicit_bzero(id, sizeof id);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(res, 0, 0));
                return EXIT_OK;
        }
        return subject_print(ctl, PQgetvalue(res, 0, 0));
}
