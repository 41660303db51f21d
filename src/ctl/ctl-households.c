/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl households and household: the homes signals were matched to, in
 * priority order; one of them with its score explained; and what a
 * caseworker mends: the count of its children, two households that are one
 * home, a person who belongs to another. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/ingest/identity.h"

struct households_args {
        const char *top;
        const char *class;
};

static int households_option(int c, const char *arg, void *userdata) {
        struct households_args *a = userdata;

        if (c == 't')
                a->top = arg;
        else if (c == 'c')
                a->class = arg;
        else
                return EXIT_USAGE;
        return -1;
}

int verb_households(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl households [--class none|watch|outreach|urgent] [--top N] [--json]\n"
                "\n"
                "The households (homes at risk) in priority order: a family with children whose\n"
                "eviction is scheduled (EVICTION) first, whatever its class; then the class;\n"
                "then children present (yes, unknown, no; not how many); then the nearest\n"
                "deadline; then the score; with the rules that fired. CHILDREN is \"unknown\"\n"
                "when no feed or caseworker has said. No identity numbers, names or addresses.\n"
                "A caseworker sees the households with a task of their teams, a coordinator\n"
                "all of them.\n";
        static const struct option options[] = {
                { "top", required_argument, NULL, 't' },
                { "class", required_argument, NULL, 'c' },
                {}
        };
        struct households_args a = { .top = "100000" };
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[2];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, households_option, &a);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        if (a.class && !ctl_one_of(a.class, risk_class_names)) {
                fprintf(stderr, "bokvarctl households: unknown class '%s' (", a.class);
                ctl_print_choices(stderr, risk_class_names);
                fprintf(stderr, ")\n");
                return EXIT_USAGE;
        }
        if (strspn(a.top, "0123456789") != strlen(a.top) || !a.top[0] || strlen(a.top) > 9) {
                fprintf(stderr, "bokvarctl households: --top needs a number\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        params[0] = a.class;
        params[1] = a.top;
        r = ctl_query(ctl, &res,
                      "SELECT priority, household_id AS id, class, score, children, eviction_date AS eviction, "
                      "next_deadline, rules, postal_code, city FROM bokvar.household_list "
                      "WHERE $1::text IS NULL OR class = $1::bokvar.risk_class "
                      "ORDER BY priority LIMIT $2::integer",
                      2, params);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                output_result(stdout, res, true);
        else
                output_people_table(stdout, res);
        return EXIT_OK;
}

struct household_args {
        const char *at, *reason, *source, *person;
};

static int household_option(int c, const char *arg, void *userdata) {
        struct household_args *a = userdata;

        switch (c) {
        case 'a':
                a->at = arg;
                break;
        case 'r':
                a->reason = arg;
                break;
        case 's':
                a->source = arg;
                break;
        case 'p':
                a->person = arg;
                break;
        default:
                return EXIT_USAGE;
        }
        return -1;
}

/* The score's explanation in words, one line per rule that fired. */
static void print_explanation(const PGresult *why) {
        for (int i = 0; i < PQntuples(why); i++) {
                _cleanup_free_ char *rule = output_escape(PQgetvalue(why, i, 1), true),
                                    *text = output_escape(PQgetvalue(why, i, 2), true);

                printf("  %6s  %s: %s\n", PQgetvalue(why, i, 0), rule ? rule : "?", text ? text : "?");
                if (!PQgetisnull(why, i, 3)) {
                        printf("         ");
                        ctl_sentence(stdout, _("because of %s"), PQgetvalue(why, i, 3));
                }
        }
}

int ctl_household_print(struct ctl *ctl, const char *doc) {
        _cleanup_pgresult_ PGresult *home = NULL, *signals = NULL, *score = NULL, *why = NULL, *children = NULL;
        const char *p[1] = { doc };
        int r;

        /* The document's parts as typed rows, for the tables. */
        r = ctl_query(ctl, &home,
                      "SELECT id, children, scheduled_eviction, postal_code, city, landlord, first_signal_at, "
                      "last_signal_at, persons FROM jsonb_to_record($1::jsonb -> 'household') AS x(id bigint, "
                      "children integer, scheduled_eviction date, postal_code text, city text, landlord text, "
                      "first_signal_at date, last_signal_at date, persons bigint)",
                      1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &score,
                              "SELECT score, class, ruleset_version, scored_at FROM jsonb_to_record($1::jsonb -> 'score') "
                              "AS x(score integer, class text, ruleset_version integer, scored_at timestamptz) "
                              "WHERE jsonb_typeof($1::jsonb -> 'score') = 'object'",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &why,
                              "SELECT points, rule, description, because FROM jsonb_to_recordset($1::jsonb -> 'why') "
                              "AS x(points text, rule text, description text, because text)",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &children,
                              "SELECT CASE WHEN how = 'corrected' THEN to_char(at::timestamptz, 'YYYY-MM-DD HH24:MI') "
                              "ELSE at END AS at, children, how, by, source AS children_source, in_force "
                              "FROM jsonb_to_recordset($1::jsonb -> 'children_history') AS x(at text, children integer, "
                              "how text, by text, source text, in_force boolean)",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &signals,
                              "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'signals') AS x(id bigint, feed text, "
                              "external_id text, source text, kind text, occurred_at date, deadline date, person text, "
                              "name text, address text, postal_code text, apartment text, children integer, "
                              "amount numeric, months_in_arrears integer, landlord text, version integer)",
                              1, p);
        if (r != EXIT_OK)
                return r;
        output_people_record(stdout, home, 0);
        if (PQntuples(score) == 0)
                printf("\n%s\n", _("No score."));
        else {
                char at[L10N_TEXT_MAX];
                const char *scored = l10n_timestamp(PQgetvalue(score, 0, 3), at) >= 0 ? at : PQgetvalue(score, 0, 3);

                printf("\n");
                ctl_sentence(stdout,
                             PQntuples(why) > 0 ? _("Score %1$s, class %2$s (ruleset version %3$s, scored %4$s), "
                                                    "because:")
                                                : _("Score %1$s, class %2$s (ruleset version %3$s, scored %4$s): no "
                                                    "rule fired."),
                             PQgetvalue(score, 0, 0), label_risk_class(PQgetvalue(score, 0, 1)),
                             PQgetvalue(score, 0, 2), scored);
                print_explanation(why);
        }
        if (PQntuples(children) == 0)
                printf("\n%s\n", _("Children: unknown; no feed reported a count and no caseworker gave one."));
        else {
                printf("\n%s\n", _("Children, as reported by feeds and corrected by caseworkers (the latest counts):"));
                output_people_table(stdout, children);
        }
        printf("\n%s\n", _("Signals:"));
        output_people_table(stdout, signals);
        return EXIT_OK;
}

static int household_show(struct ctl *ctl, const char *id, const struct household_args *a) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_call(ctl, &res, "household show", "SELECT bokvar.household_show($1::bigint, $2::timestamptz, $3)", 3,
                     (const char *[]){ id, a->at, a->reason });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(res, 0, 0));
                return EXIT_OK;
        }
        return ctl_household_print(ctl, PQgetvalue(res, 0, 0));
}

/* Runs one of the actions below: its object, then the columns it is told
 * by in words. --json prints the object. Returns an exit status; *ret the
 * result when there is words to print. */
static int household_act(struct ctl *ctl, const char *verb, const char *sql, int n, const char *const *params,
                         PGresult **ret) {
        PGresult *res = NULL;
        int r;

        r = ctl_call(ctl, &res, verb, sql, n, params);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(res, 0, 0));
                PQclear(res);
                res = NULL;
        }
        *ret = res;
        return EXIT_OK;
}

/* A household after an action: columns col, col + 1 and col + 2 of res
 * are its children (NULL: unknown), class and score. */
static void print_now(const char *id, const PGresult *res, int col) {
        ctl_sentence(stdout, _("Household %1$s: %2$s children, class %3$s, score %4$s."), id,
                     PQgetisnull(res, 0, col) ? _("unknown") : PQgetvalue(res, 0, col),
                     label_risk_class(PQgetvalue(res, 0, col + 1)), PQgetvalue(res, 0, col + 2));
}

static int household_children(struct ctl *ctl, const char *id, const char *n, const char *source) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        /* The web's form calls the same function; what it answers is the
         * household as the list shows it now. */
        r = ctl_call(ctl, NULL, "household children",
                     "SELECT bokvar.household_children_correct($1::bigint, $2::integer, $3)", 3,
                     (const char *[]){ id, n, source });
        if (r == EXIT_OK)
                r = household_act(ctl, "household children",
                                  "SELECT jsonb_build_object('household', household_id, 'children', children, "
                                  "'class', class, 'score', score)::text, children, class, "
                                  "score FROM bokvar.household_list WHERE household_id = $1::bigint",
                                  1, (const char *[]){ id }, &res);
        if (r == EXIT_OK && res)
                print_now(id, res, 1);
        return r;
}

static int household_merge(struct ctl *ctl, const char *id, const char *other) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = household_act(ctl, "household merge",
                          "SELECT x::text, x ->> 'signals', x ->> 'tasks', x ->> 'people', x ->> 'closed_as_duplicate', "
                          "x ->> 'children', x ->> 'class', x ->> 'score' "
                          "FROM bokvar.household_merge($1::bigint, $2::bigint) x",
                          2, (const char *[]){ id, other }, &res);
        if (r == EXIT_OK && res) {
                if (PQgetisnull(res, 0, 4))
                        ctl_sentence(stdout,
                                     _("Household %1$s merged into household %2$s: %3$s signals, %4$s tasks and %5$s "
                                       "people moved."),
                                     other, id, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
                else
                        ctl_sentence(stdout,
                                     _("Household %1$s merged into household %2$s: %3$s signals, %4$s tasks and %5$s "
                                       "people moved; its open task %6$s is closed as a duplicate."),
                                     other, id, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
                                     PQgetvalue(res, 0, 4));
                print_now(id, res, 5);
        }
        return r;
}

static int household_split(struct ctl *ctl, const char *id, const char *number) {
        _cleanup_pgresult_ PGresult *res = NULL;
        char person[IDENTITY_MAX];
        int r;

        /* The database takes the number normalised. */
        r = ctl_identity_number(ctl, "household split", number, EXIT_FAIL, person);
        if (r >= 0)
                return r;
        r = household_act(ctl, "household split",
                          "SELECT x::text, x ->> 'signals', x #>> '{new,household}', "
                          "x #>> '{new,children}', x #>> '{new,class}', x #>> '{new,score}', "
                          "x ->> 'children', x ->> 'class', x ->> 'score' "
                          "FROM bokvar.household_split($1::bigint, $2) x",
                          2, (const char *[]){ id, person }, &res);
        if (r == EXIT_OK && res) {
                ctl_sentence(stdout, _("Household %1$s split: %2$s signals moved to the new household %3$s."), id,
                             PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
                print_now(PQgetvalue(res, 0, 2), res, 3);
                print_now(id, res, 6);
        }
        explicit_bzero(person, sizeof person);
        return r;
}

int verb_household(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl household show ID [--at TIME] [--reason TEXT] [--json]\n"
                "       bokvarctl household children ID N --source TEXT [--json]\n"
                "       bokvarctl household merge ID OTHER [--json]\n"
                "       bokvarctl household split ID --person NUMBER|- [--json]\n"
                "\n"
                "show: what is known of the home, its score and class with the rules that\n"
                "gave them and the signals that made each rule fire, its children as feeds\n"
                "reported and caseworkers corrected them, and every signal about it, with\n"
                "names and addresses as the feeds gave them. Identity numbers are shown\n"
                "masked (date of birth only). With --at, the score the household had then\n"
                "(e.g. --at 2026-03-03), from the score history. Every look is written to\n"
                "the access log, with --reason if given (say why when the household has no\n"
                "task of yours).\n"
                "children: the household has N children (0 to 30), as you learned it: --source\n"
                "says how (\"home visit\", \"call with the family\"). The latest count, reported\n"
                "by a feed (as of its signal's date) or corrected (as of now), is the\n"
                "household's; every count is kept, with the one before. The household is\n"
                "scored again. (The web's household page corrects the same way.)\n"
                "merge: OTHER is the same home as ID. Its signals, people, tasks, children's\n"
                "corrections and score history move to ID; its open task is closed as a\n"
                "duplicate when ID has one; signals at its address go to ID from now on.\n"
                "split: the person with identity number NUMBER belongs to another home: their\n"
                "signals in ID move to a new household, and later signals about them at ID's\n"
                "address go there too. - reads NUMBER from standard input, which keeps it\n"
                "out of the process list and the shell's history (at a terminal it is asked\n"
                "for and not shown). Both are scored again.\n"
                "Caseworkers see and mend the households with a task of their teams (both, to\n"
                "merge), coordinators any. Each action is in the audit log, by login.\n"
                "Exit status: 0 done, 1 refused, 2 usage, 3 database error, 5 no such\n"
                "household (or none you may see), or no such person in it.\n";
        static const struct option options[] = {
                { "at", required_argument, NULL, 'a' },
                { "reason", required_argument, NULL, 'r' },
                { "source", required_argument, NULL, 's' },
                { "person", required_argument, NULL, 'p' },
                {}
        };
        struct household_args a = {};
        const char *action, *id;
        char number[128] = "";
        int r, args;

        r = ctl_parse_options(ctl, argc, argv, options, usage, household_option, &a);
        if (r >= 0)
                return r;
        action = optind < argc ? argv[optind] : "";
        args = streq(action, "children") || streq(action, "merge") ? 3 : 2;
        if (!ctl_one_of(action, (const char *const[]){ "show", "children", "merge", "split", NULL }) ||
            optind + args != argc) {
                fprintf(stderr, "Usage: bokvarctl household show|children|merge|split ID ...; "
                                "see bokvarctl household --help\n");
                return EXIT_USAGE;
        }
        id = argv[optind + 1];
        if (!ctl_valid_id(id) || (streq(action, "merge") && !ctl_valid_id(argv[optind + 2]))) {
                fprintf(stderr, "bokvarctl household %s: '%s' is not a household id\n", action,
                        ctl_valid_id(id) ? argv[optind + 2] : id);
                return EXIT_USAGE;
        }
        if ((a.at || a.reason) && !streq(action, "show")) {
                fprintf(stderr, "bokvarctl household %s: --at and --reason are show's\n", action);
                return EXIT_USAGE;
        }
        if (!a.source != !streq(action, "children")) {
                fprintf(stderr, "bokvarctl household children: --source says how you know the number, and is "
                                "children's only\n");
                return EXIT_USAGE;
        }
        if (!a.person != !streq(action, "split")) {
                fprintf(stderr, "bokvarctl household split: --person NUMBER|- names the person, and is split's only\n");
                return EXIT_USAGE;
        }
        if (streq(action, "children") && (strlen(argv[optind + 2]) > 2 ||
                                          strspn(argv[optind + 2], "0123456789") != strlen(argv[optind + 2]) ||
                                          !argv[optind + 2][0])) {
                fprintf(stderr, "bokvarctl household children: '%s' is not a number of children (0 to 30)\n",
                        argv[optind + 2]);
                return EXIT_USAGE;
        }
        if (a.person && streq(a.person, "-")) {
                r = ctl_read_number("household split", number, sizeof number);
                if (r >= 0)
                        return r;
                a.person = number;
        }
        r = ctl_connect(ctl, true);
        if (r == EXIT_OK) {
                if (streq(action, "show"))
                        r = household_show(ctl, id, &a);
                else if (streq(action, "children"))
                        r = household_children(ctl, id, argv[optind + 2], a.source);
                else if (streq(action, "merge"))
                        r = household_merge(ctl, id, argv[optind + 2]);
                else
                        r = household_split(ctl, id, a.person);
        }
        explicit_bzero(number, sizeof number);
        return r;
}
