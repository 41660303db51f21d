/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl tasks and task: the caseworkers' worklist, and what they do with
 * a task (acknowledge it, record contacts, close it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"

struct tasks_args {
        const char *team, *assignee;
};

static int tasks_option(int c, const char *arg, void *userdata) {
        struct tasks_args *a = userdata;

        if (c == 't')
                a->team = arg;
        else if (c == 'a')
                a->assignee = arg;
        else
                return EXIT_USAGE;
        return -1;
}

int verb_tasks(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl tasks [--team NAME] [--assignee NAME] [--json]\n"
                "\n"
                "The open outreach tasks, in priority order: a family with children whose\n"
                "eviction is scheduled (EVICTION) first, whatever its class; then the class,\n"
                "urgent first; then children present (yes, unknown, no; not how many); the\n"
                "nearest legal deadline; the score. CHILDREN is \"unknown\" when no feed or\n"
                "caseworker has said. OVERDUE marks a task past its due date.\n"
                "`bokvarctl task show ID` shows one.\n";
        static const struct option options[] = {
                { "team", required_argument, NULL, 't' },
                { "assignee", required_argument, NULL, 'a' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        struct tasks_args a = {};
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, tasks_option, &a);
        if (r >= 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "bokvarctl tasks: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (a.team) {
                r = ctl_query(ctl, &res, "SELECT 1 FROM bokvar.team WHERE name = $1", 1, (const char *[]){ a.team });
                if (r != EXIT_OK)
                        return r;
                if (PQntuples(res) == 0) {
                        fprintf(stderr, "bokvarctl tasks: no team '%s' (teams come from the configuration)\n",
                                a.team);
                        return EXIT_NOT_FOUND;
                }
                PQclear(TAKE_PTR(res));
        }
        r = ctl_query(ctl, &res,
                      "SELECT priority, task_id AS task, household_id AS household, team, "
                      "coalesce(assignee, '') AS assignee, class, score, "
                      "children, eviction_date AS eviction, deadline, due, "
                      "CASE WHEN overdue THEN 'OVERDUE' ELSE '' END AS overdue, "
                      "CASE WHEN first_contact_at IS NOT NULL THEN 'contacted' "
                      "     WHEN acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'new' END AS state, "
                      "coalesce(rules, '') AS rules "
                      "FROM bokvar.worklist WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR assignee = $2) "
                      "ORDER BY priority",
                      2, (const char *[]){ a.team, a.assignee });
        if (r != EXIT_OK)
                return r;
        if (!ctl->json && PQntuples(res) == 0) {
                printf("%s\n", a.team || a.assignee ? _("No open tasks here.") : _("No open tasks."));
                return EXIT_OK;
        }
        if (ctl->json)
                output_result(stdout, res, true);
        else
                output_people_table(stdout, res);
        return EXIT_OK;
}

/* --- task show|ack|contact|close ------------------------------------- */

struct task_args {
        const char *note, *channel, *reached, *outcome, *reason;
};

static int task_option(int c, const char *arg, void *userdata) {
        struct task_args *a = userdata;

        switch (c) {
        case 'n':
                a->note = arg;
                break;
        case 'C':
                a->channel = arg;
                break;
        case 'r':
                a->reached = arg;
                break;
        case 'o':
                a->outcome = arg;
                break;
        case 'R':
                a->reason = arg;
                break;
        default:
                return EXIT_USAGE;
        }
        return -1;
}

static int task_show(struct ctl *ctl, const char *id, const char *reason) {
        _cleanup_pgresult_ PGresult *doc = NULL, *task = NULL, *events = NULL, *contacts = NULL;
        const char *p[1];
        int r;

        /* One read, one access-log row: the document is fetched once and
         * its parts turned into rows from it. */
        r = ctl_call(ctl, &doc, "task show", "SELECT bokvar.task_show($1::bigint, $2)", 2,
                     (const char *[]){ id, reason });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(doc, 0, 0));
                return EXIT_OK;
        }
        p[0] = PQgetvalue(doc, 0, 0);
        r = ctl_query(ctl, &task,
                      "SELECT id, status, team, assignee, class, opened_class, top_class, score, deadline, due, overdue, "
                      "created_at, acknowledged_at, acknowledged_by, first_contact_at, closed_at, closed_by, outcome, "
                      "note, household_id AS _household "
                      "FROM jsonb_to_record($1::jsonb -> 'task') AS x(id bigint, status text, team text, "
                      "assignee text, class text, opened_class text, top_class text, score integer, deadline date, "
                      "due date, overdue boolean, created_at timestamptz, acknowledged_at timestamptz, "
                      "acknowledged_by text, first_contact_at timestamptz, closed_at timestamptz, closed_by text, "
                      "outcome text, note text, household_id bigint)",
                      1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &events,
                              "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'events') AS x(at timestamptz, kind text, "
                              "by text, class text, detail text, sent text)",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &contacts,
                              "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'contacts') AS x(at timestamptz, by text, "
                              "channel text, reached boolean, note text)",
                              1, p);
        if (r != EXIT_OK)
                return r;
        output_people_record(stdout, task, 0);
        printf("\n%s\n", _("Events:"));
        output_people_table(stdout, events);
        printf("\n%s\n", _("Contacts:"));
        if (PQntuples(contacts) == 0)
                printf("  %s\n", _("none yet"));
        else
                output_people_table(stdout, contacts);
        printf("\n");
        ctl_sentence(stdout, _("Household %s:"), PQgetvalue(task, 0, 19));
        return ctl_household_print(ctl, p[0]);
}

static int task_act(struct ctl *ctl, const char *action, const char *id, const struct task_args *a) {
        _cleanup_pgresult_ PGresult *res = NULL;
        char verb[32];
        int r;

        /* Who acts is the database's to say: the login this runs as. */
        (void) snprintf(verb, sizeof verb, "task %s", action);
        if (streq(action, "ack"))
                r = ctl_call(ctl, &res, verb,
                             "SELECT id, status, acknowledged_at, acknowledged_by FROM bokvar.task_ack($1)", 1,
                             (const char *[]){ id });
        else if (streq(action, "contact"))
                r = ctl_call(ctl, &res, verb,
                             "SELECT id, status, first_contact_at, bokvar.current_actor() AS by FROM "
                             "bokvar.task_contact($1, $2::bokvar.contact_channel, $3::boolean, $4)",
                             4, (const char *[]){ id, a->channel, streq(a->reached, "yes") ? "t" : "f", a->note });
        else
                r = ctl_call(ctl, &res, verb,
                             "SELECT id, status, outcome, closed_at, closed_by FROM "
                             "bokvar.task_close($1, $2::bokvar.task_outcome, $3)",
                             3, (const char *[]){ id, a->outcome, a->note });
        if (r != EXIT_OK)
                return r;
        _cleanup_free_ char *who = output_escape(PQgetvalue(res, 0, streq(action, "close") ? 4 : 3), true);
        if (ctl->json) {
                output_record(stdout, res, 0, true);
                printf("\n");
        } else if (streq(action, "ack"))
                ctl_sentence(stdout, _("Task %1$s acknowledged by %2$s."), id, who ? who : "?");
        else if (streq(action, "contact"))
                ctl_sentence(stdout,
                             streq(a->reached, "yes") ? _("Task %1$s: a contact attempt by %2$s (%3$s) is recorded; it "
                                                          "reached them.")
                                                      : _("Task %1$s: a contact attempt by %2$s (%3$s) is recorded; it "
                                                          "did not reach them."),
                             id, who ? who : "?", label_contact_channel(a->channel));
        else
                ctl_sentence(stdout, _("Task %1$s closed by %2$s: %3$s."), id, who ? who : "?",
                             label_task_outcome(a->outcome));
        return EXIT_OK;
}

int verb_task(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage_fmt[] =
                "Usage: bokvarctl task show ID [--reason TEXT] [--json]\n"
                "       bokvarctl task ack ID\n"
                "       bokvarctl task contact ID --channel %s --reached yes|no\n"
                "                                 [--note TEXT]\n"
                "       bokvarctl task close ID --outcome OUTCOME [--note TEXT]\n"
                "\n"
                "show: the task, what happened to it, the contacts made, and the household\n"
                "with its signals and its score explained (written to the access log).\n"
                "ack: the task is seen and taken on. contact: an attempt to reach the\n"
                "household, and whether it reached them. close: the task ends with an\n"
                "outcome, one of: %s.\n"
                "Only a person closes a task, and only a task of their teams. Each action\n"
                "records who (the database login bokvarctl runs as) and when. A note is at\n"
                "most 2000 characters, without control characters but line breaks.\n"
                "Exit status: 0 done, 1 refused (e.g. closed already, not yours to act on),\n"
                "2 usage, 3 database error, 5 no such task.\n";
        _cleanup_free_ char *usage = NULL, *channel_list = ctl_choices(contact_channel_names, "|"),
                            *outcome_list = ctl_choices(task_outcome_names, ", ");
        static const struct option options[] = {
                { "note", required_argument, NULL, 'n' },
                { "channel", required_argument, NULL, 'C' },
                { "reached", required_argument, NULL, 'r' },
                { "outcome", required_argument, NULL, 'o' },
                { "reason", required_argument, NULL, 'R' },
                {}
        };
        struct task_args a = {};
        const char *action, *id;
        int r;

        if (!channel_list || !outcome_list || asprintf(&usage, usage_fmt, channel_list, outcome_list) < 0)
                return log_oom(), EXIT_FAIL;
        r = ctl_parse_options(ctl, argc, argv, options, usage, task_option, &a);
        if (r >= 0)
                return r;
        if (optind + 2 != argc) {
                fprintf(stderr, "Usage: bokvarctl task show|ack|contact|close ID [OPTIONS]; see bokvarctl task --help\n");
                return EXIT_USAGE;
        }
        action = argv[optind];
        id = argv[optind + 1];
        if (!ctl_one_of(action, (const char *const[]){ "show", "ack", "contact", "close", NULL })) {
                fprintf(stderr, "bokvarctl task: unknown action '%s' (show, ack, contact, close)\n", action);
                return EXIT_USAGE;
        }
        if (!ctl_valid_id(id)) {
                fprintf(stderr, "bokvarctl task %s: '%s' is not a task id\n", action, id);
                return EXIT_USAGE;
        }
        if (streq(action, "contact")) {
                if (!a.channel || !ctl_one_of(a.channel, contact_channel_names)) {
                        fprintf(stderr, "bokvarctl task contact: --channel is one of ");
                        ctl_print_choices(stderr, contact_channel_names);
                        fprintf(stderr, "\n");
                        return EXIT_USAGE;
                }
                if (!a.reached || (!streq(a.reached, "yes") && !streq(a.reached, "no"))) {
                        fprintf(stderr, "bokvarctl task contact: --reached yes or --reached no\n");
                        return EXIT_USAGE;
                }
        }
        if (streq(action, "close") && (!a.outcome || !ctl_one_of(a.outcome, task_outcome_names))) {
                fprintf(stderr, "bokvarctl task close: --outcome is one of ");
                ctl_print_choices(stderr, task_outcome_names);
                fprintf(stderr, "\n");
                return EXIT_USAGE;
        }
        if ((a.channel && !streq(action, "contact")) || (a.reached && !streq(action, "contact")) ||
            (a.outcome && !streq(action, "close")) || (a.note && (streq(action, "show") || streq(action, "ack"))) ||
            (a.reason && !streq(action, "show"))) {
                fprintf(stderr, "bokvarctl task %s: an option there does not apply; see bokvarctl task --help\n",
                        action);
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (streq(action, "show"))
                return task_show(ctl, id, a.reason);
        return task_act(ctl, action, id, &a);
}
