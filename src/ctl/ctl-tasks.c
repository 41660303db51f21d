/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl tasks, task, outbox and report: the caseworkers' worklist and
 * actions, the operators' view of deliveries, the committee's figures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/ctl/ctl.h"
#include "bokvar/db/db.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/ctl/output.h"
#include "bokvar/basic/util.h"

static const char *const contact_channels[] = { "letter", "phone", "home_visit", "digital", NULL };
static const char *const outcomes[] = { "kept_home", "payment_plan", "referred", "declined", "not_reached",
                                        "moved",     "evicted",      "duplicate", "other",    NULL };

static bool one_of(const char *s, const char *const *l) {
        for (; *l; l++)
                if (streq(s, *l))
                        return true;
        return false;
}

static void print_choices(FILE *f, const char *const *l) {
        for (size_t i = 0; l[i]; i++)
                fprintf(f, "%s%s", i ? ", " : "", l[i]);
}

/* Runs a statement whose errors a person can act on: no such task or row
 * is exit 5, a refused action (closing twice) exit 1, anything else 3. */
static int call(struct ctl *ctl, PGresult **ret, const char *verb, const char *sql, int n, const char *const *params) {
        PGresult *res = PQexecParams(ctl->conn, sql, n, NULL, params, NULL, NULL, 0);
        const char *state;
        char line[256];
        int r;

        if (res && (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)) {
                *ret = res;
                return EXIT_OK;
        }
        state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        r = streq_ptr(state, "P0002") ? EXIT_NOT_FOUND : streq_ptr(state, "22023") ? EXIT_FAIL : EXIT_DATABASE;
        if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
                fprintf(stderr, "bokvarctl %s: %s\n", verb, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        else
                fprintf(stderr, "bokvarctl %s: %s\n", verb, db_error_line(ctl->conn, res, line, sizeof line));
        PQclear(res);
        return r;
}

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
                "The open outreach tasks, in priority order: the urgent class first, then\n"
                "households with children, the nearest legal deadline, the score. OVERDUE\n"
                "marks a task past its due date. `bokvarctl task show ID` shows one.\n";
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
                      "SELECT priority, task_id AS task, team, coalesce(assignee, '') AS assignee, class, score, "
                      "children, deadline, due, CASE WHEN overdue THEN 'OVERDUE' ELSE '' END AS overdue, "
                      "CASE WHEN first_contact_at IS NOT NULL THEN 'contacted' "
                      "     WHEN acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'new' END AS state, "
                      "coalesce(rules, '') AS rules "
                      "FROM bokvar.worklist WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR assignee = $2) "
                      "ORDER BY priority",
                      2, (const char *[]){ a.team, a.assignee });
        if (r != EXIT_OK)
                return r;
        if (!ctl->json && PQntuples(res) == 0) {
                printf("No open tasks%s.\n", a.team || a.assignee ? " here" : "");
                return EXIT_OK;
        }
        output_result(stdout, res, ctl->json);
        return EXIT_OK;
}

/* --- task show|ack|contact|close ------------------------------------- */

struct task_args {
        const char *by, *note, *channel, *reached, *outcome;
};

static int task_option(int c, const char *arg, void *userdata) {
        struct task_args *a = userdata;

        switch (c) {
        case 'b':
                a->by = arg;
                break;
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
        default:
                return EXIT_USAGE;
        }
        return -1;
}

static int task_show(struct ctl *ctl, const char *id) {
        _cleanup_pgresult_ PGresult *task = NULL, *events = NULL, *contacts = NULL;
        const char *p[1] = { id };
        int r;

        r = ctl_query(ctl, &task,
                      "SELECT t.id, t.status, t.team, t.assignee, t.class, t.opened_class, t.top_class, t.score, "
                      "t.deadline, t.due, t.due < current_date AND t.status = 'open' AS overdue, t.created_at, "
                      "t.acknowledged_at, t.acknowledged_by, t.first_contact_at, t.closed_at, t.closed_by, t.outcome, "
                      "t.note, t.household_id AS _household "
                      "FROM bokvar.task t WHERE t.id = $1::bigint",
                      1, p);
        if (r != EXIT_OK)
                return r;
        if (PQntuples(task) == 0) {
                fprintf(stderr, "bokvarctl task show: no task %s\n", id);
                return EXIT_NOT_FOUND;
        }
        r = ctl_query(ctl, &events,
                      "SELECT at, kind, coalesce(by, '') AS by, class, "
                      "CASE WHEN detail = '{}' THEN '' ELSE detail::text END AS detail, "
                      "(SELECT string_agg(o.channel || ' ' || o.status, ', ' ORDER BY o.channel) FROM bokvar.outbox o "
                      " WHERE o.event_id = e.event_id) AS sent "
                      "FROM bokvar.task_event e WHERE task_id = $1::bigint ORDER BY id",
                      1, p);
        if (r != EXIT_OK)
                return r;
        r = ctl_query(ctl, &contacts,
                      "SELECT at, by, channel, reached, coalesce(note, '') AS note FROM bokvar.contact "
                      "WHERE task_id = $1::bigint ORDER BY at, id",
                      1, p);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("{\"task\": ");
                output_record(stdout, task, 0, true);
                printf(", \"events\": ");
                output_result(stdout, events, true);
                printf(", \"contacts\": ");
                output_result(stdout, contacts, true);
                printf(", ");
                r = ctl_household_print(ctl, PQgetvalue(task, 0, 19), NULL, "task show");
                printf("}\n");
                return r;
        }
        output_record(stdout, task, 0, false);
        printf("\nEvents:\n");
        output_result(stdout, events, false);
        printf("\nContacts:\n");
        if (PQntuples(contacts) == 0)
                printf("  none yet\n");
        else
                output_result(stdout, contacts, false);
        printf("\nHousehold %s:\n", PQgetvalue(task, 0, 19));
        return ctl_household_print(ctl, PQgetvalue(task, 0, 19), NULL, "task show");
}

static int task_act(struct ctl *ctl, const char *action, const char *id, const struct task_args *a) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *by = ctl_actor(a->by);
        char verb[32];
        int r;

        (void) snprintf(verb, sizeof verb, "task %s", action);
        if (streq(action, "ack"))
                r = call(ctl, &res, verb, "SELECT id, status, acknowledged_at, acknowledged_by FROM bokvar.task_ack($1, $2)",
                         2, (const char *[]){ id, by });
        else if (streq(action, "contact"))
                r = call(ctl, &res, verb,
                         "SELECT id, status, first_contact_at FROM "
                         "bokvar.task_contact($1, $2, $3::bokvar.contact_channel, $4::boolean, $5)",
                         5, (const char *[]){ id, by, a->channel, streq(a->reached, "yes") ? "t" : "f", a->note });
        else
                r = call(ctl, &res, verb,
                         "SELECT id, status, outcome, closed_at, closed_by FROM "
                         "bokvar.task_close($1, $2, $3::bokvar.task_outcome, $4)",
                         4, (const char *[]){ id, by, a->outcome, a->note });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                output_record(stdout, res, 0, true);
                printf("\n");
        } else if (streq(action, "ack"))
                printf("Task %s acknowledged by %s.\n", id, PQgetvalue(res, 0, 3));
        else if (streq(action, "contact"))
                printf("Task %s: %s contact by %s recorded (%s).\n", id, a->channel, by,
                       streq(a->reached, "yes") ? "reached" : "not reached");
        else
                printf("Task %s closed by %s: %s.\n", id, by, a->outcome);
        return EXIT_OK;
}

int verb_task(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl task show ID [--json]\n"
                "       bokvarctl task ack ID [--by NAME]\n"
                "       bokvarctl task contact ID --channel letter|phone|home_visit|digital --reached yes|no\n"
                "                                 [--note TEXT] [--by NAME]\n"
                "       bokvarctl task close ID --outcome OUTCOME [--note TEXT] [--by NAME]\n"
                "\n"
                "show: the task, what happened to it, the contacts made, and the household\n"
                "with its signals and its score explained.\n"
                "ack: the task is seen and taken on. contact: an attempt to reach the\n"
                "household, and whether it reached them. close: the task ends with an\n"
                "outcome: kept_home, payment_plan, referred, declined, not_reached, moved,\n"
                "evicted, duplicate or other. Only a person closes a task.\n"
                "Each action records who (--by, else $SUDO_USER, else the login name) and when.\n"
                "Exit status: 0 done, 1 refused (e.g. closed already), 2 usage, 3 database\n"
                "error, 5 no such task.\n";
        static const struct option options[] = {
                { "by", required_argument, NULL, 'b' },
                { "note", required_argument, NULL, 'n' },
                { "channel", required_argument, NULL, 'C' },
                { "reached", required_argument, NULL, 'r' },
                { "outcome", required_argument, NULL, 'o' },
                {}
        };
        struct task_args a = {};
        const char *action, *id;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, task_option, &a);
        if (r >= 0)
                return r;
        if (optind + 2 != argc) {
                fprintf(stderr, "Usage: bokvarctl task show|ack|contact|close ID [OPTIONS]; see bokvarctl task --help\n");
                return EXIT_USAGE;
        }
        action = argv[optind];
        id = argv[optind + 1];
        if (!one_of(action, (const char *const[]){ "show", "ack", "contact", "close", NULL })) {
                fprintf(stderr, "bokvarctl task: unknown action '%s' (show, ack, contact, close)\n", action);
                return EXIT_USAGE;
        }
        if (!ctl_valid_id(id)) {
                fprintf(stderr, "bokvarctl task %s: '%s' is not a task id\n", action, id);
                return EXIT_USAGE;
        }
        if (streq(action, "contact")) {
                if (!a.channel || !one_of(a.channel, contact_channels)) {
                        fprintf(stderr, "bokvarctl task contact: --channel is one of ");
                        print_choices(stderr, contact_channels);
                        fprintf(stderr, "\n");
                        return EXIT_USAGE;
                }
                if (!a.reached || (!streq(a.reached, "yes") && !streq(a.reached, "no"))) {
                        fprintf(stderr, "bokvarctl task contact: --reached yes or --reached no\n");
                        return EXIT_USAGE;
                }
        }
        if (streq(action, "close") && (!a.outcome || !one_of(a.outcome, outcomes))) {
                fprintf(stderr, "bokvarctl task close: --outcome is one of ");
                print_choices(stderr, outcomes);
                fprintf(stderr, "\n");
                return EXIT_USAGE;
        }
        if ((a.channel && !streq(action, "contact")) || (a.reached && !streq(action, "contact")) ||
            (a.outcome && !streq(action, "close")) || (a.note && (streq(action, "show") || streq(action, "ack"))) ||
            (a.by && streq(action, "show"))) {
                fprintf(stderr, "bokvarctl task %s: an option there does not apply; see bokvarctl task --help\n",
                        action);
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (streq(action, "show"))
                return task_show(ctl, id);
        return task_act(ctl, action, id, &a);
}

/* --- outbox ------------------------------------------------------------ */

struct outbox_args {
        bool dead, all_dead;
        const char *by;
        long limit;
};

static int outbox_option(int c, const char *arg, void *userdata) {
        struct outbox_args *a = userdata;
        char *end;

        switch (c) {
        case 'd':
                a->dead = true;
                break;
        case 'A':
                a->all_dead = true;
                break;
        case 'b':
                a->by = arg;
                break;
        case 'l':
                a->limit = strtol(arg, &end, 10);
                if (*end || a->limit < 0) {
                        fprintf(stderr, "bokvarctl outbox: --limit takes a number (0: all)\n");
                        return EXIT_USAGE;
                }
                break;
        default:
                return EXIT_USAGE;
        }
        return -1;
}

static int outbox_retry(struct ctl *ctl, const char *id, const struct outbox_args *a) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = call(ctl, &res, "outbox retry", "SELECT bokvar.outbox_retry($1::bigint, $2)", 2,
                 (const char *[]){ id, ctl_actor(a->by) });
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                printf("{\"requeued\": %s}\n", PQgetvalue(res, 0, 0));
        else if (streq(PQgetvalue(res, 0, 0), "0")) {
                fprintf(stderr, id ? "bokvarctl outbox retry: no dead letter %s\n"
                                   : "bokvarctl outbox retry: no dead letters%s\n",
                        id ? id : "");
                return id ? EXIT_NOT_FOUND : EXIT_OK;
        } else
                printf("%s event%s queued again; bokvard sends %s now.\n", PQgetvalue(res, 0, 0),
                       streq(PQgetvalue(res, 0, 0), "1") ? "" : "s", streq(PQgetvalue(res, 0, 0), "1") ? "it" : "them");
        return EXIT_OK;
}

int verb_outbox(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl outbox [--dead] [--limit N] [--json]\n"
                "       bokvarctl outbox retry ID|--all-dead [--by NAME]\n"
                "\n"
                "Task events on their way to the channels. Without --dead: the events not\n"
                "yet delivered, the next attempt first, with the last error; with --dead:\n"
                "the dead letters, which a channel refused for good or which ran out of\n"
                "attempts. `retry` queues dead letters again (the audit log records who).\n"
                "--limit: at most N rows (default 100; 0: all).\n";
        static const struct option options[] = {
                { "dead", no_argument, NULL, 'd' },
                { "all-dead", no_argument, NULL, 'A' },
                { "by", required_argument, NULL, 'b' },
                { "limit", required_argument, NULL, 'l' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL, *sum = NULL;
        struct outbox_args a = { .limit = 100 };
        char limit[24];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, outbox_option, &a);
        if (r >= 0)
                return r;
        if (optind < argc && streq(argv[optind], "retry")) {
                const char *id = optind + 1 < argc ? argv[optind + 1] : NULL;

                if ((id && a.all_dead) || (!id && !a.all_dead) || optind + 2 < argc || a.dead) {
                        fprintf(stderr, "Usage: bokvarctl outbox retry ID|--all-dead [--by NAME]\n");
                        return EXIT_USAGE;
                }
                if (id && !ctl_valid_id(id)) {
                        fprintf(stderr, "bokvarctl outbox retry: '%s' is not an outbox id\n", id);
                        return EXIT_USAGE;
                }
                r = ctl_connect(ctl, true);
                if (r != EXIT_OK)
                        return r;
                return outbox_retry(ctl, id, &a);
        }
        if (optind < argc || a.all_dead || a.by) {
                fprintf(stderr, "Usage: bokvarctl outbox [--dead] [--limit N] [--json]; see --help\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        (void) snprintf(limit, sizeof limit, "%ld", a.limit);
        r = ctl_query(ctl, &res,
                      "SELECT id, task_id AS task, kind, channel, attempts, "
                      "CASE WHEN status = 'dead' THEN last_attempt_at ELSE next_attempt_at END AS "
                      "\"when\", coalesce(last_status::text, '') AS last_status, coalesce(last_error, '') AS last_error, "
                      "event_id FROM bokvar.outbox WHERE status = $1 "
                      "ORDER BY CASE WHEN status = 'dead' THEN -id ELSE 0 END, next_attempt_at, id "
                      "LIMIT nullif($2::bigint, 0)",
                      2, (const char *[]){ a.dead ? "dead" : "pending", limit });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                output_result(stdout, res, true);
                return EXIT_OK;
        }
        r = ctl_query(ctl, &sum,
                      "SELECT count(*) FILTER (WHERE status = 'pending'), "
                      "count(*) FILTER (WHERE status = 'pending' AND attempts > 0), "
                      "count(*) FILTER (WHERE status = 'dead'), count(*) FILTER (WHERE status = 'delivered') "
                      "FROM bokvar.outbox",
                      0, NULL);
        if (r != EXIT_OK)
                return r;
        printf("%s waiting (%s of them after a failed attempt), %s dead, %s delivered.\n", PQgetvalue(sum, 0, 0),
               PQgetvalue(sum, 0, 1), PQgetvalue(sum, 0, 2), PQgetvalue(sum, 0, 3));
        if (PQntuples(res) > 0) {
                printf("\n%s:\n", a.dead ? "Dead letters, newest first" : "Waiting, the next attempt first");
                output_result(stdout, res, false);
        }
        return EXIT_OK;
}

/* --- report ------------------------------------------------------------ */

static int report_option(int c, const char *arg, void *userdata) {
        const char **a = userdata;

        if (c == 'y')
                a[0] = arg;
        else if (c == 'C')
                a[1] = "csv";
        else
                return EXIT_USAGE;
        return -1;
}

int verb_report(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl report [--year YYYY] [--json|--csv]\n"
                "\n"
                "The year's figures for the social services committee (default: this year):\n"
                "signals by source and kind; outreach tasks opened and closed; outcomes;\n"
                "households that kept their home (outcome kept_home or payment_plan), the\n"
                "families with children among them and their children; families with\n"
                "children reached out to; eviction applications and executed evictions from\n"
                "the enforcement agency's feeds; the median days from a task's first signal\n"
                "to the first contact; the share of tasks with contact before the legal\n"
                "deadline (or, without one, the due date). --csv: figure,value lines.\n";
        static const struct option options[] = {
                { "year", required_argument, NULL, 'y' },
                { "csv", no_argument, NULL, 'C' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *a[2] = {};
        char year[16];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, report_option, a);
        if (r >= 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "bokvarctl report: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (a[0]) {
                if (strlen(a[0]) != 4 || strspn(a[0], "0123456789") != 4) {
                        fprintf(stderr, "bokvarctl report: --year takes a year such as 2026\n");
                        return EXIT_USAGE;
                }
                (void) snprintf(year, sizeof year, "%s", a[0]);
        } else {
                time_t now = time(NULL);
                struct tm tm;

                (void) localtime_r(&now, &tm);
                (void) snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
        }
        if (a[1] && ctl->json) {
                fprintf(stderr, "bokvarctl report: --json or --csv, not both\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                r = ctl_query(ctl, &res, "SELECT jsonb_pretty(bokvar.report($1::integer))", 1,
                              (const char *[]){ year });
                if (r == EXIT_OK)
                        printf("%s\n", PQgetvalue(res, 0, 0));
                return r;
        }
        /* The figures as rows: a figure's name (for --csv), its label, its value. */
        r = ctl_query(ctl, &res,
                      "WITH r AS (SELECT bokvar.report($1::integer) AS j) "
                      "SELECT f, l, v FROM ("
                      " SELECT 1 AS o, 0::bigint AS n, 'signals.' || (e->>'source') || '.' || (e->>'kind') AS f, "
                      "        format('  %-12s %s', e->>'source', e->>'kind') AS l, e->>'count' AS v "
                      " FROM r, jsonb_array_elements(j->'signals') WITH ORDINALITY x(e, n) "
                      " UNION ALL SELECT 2, 0, 'tasks_opened', '  opened', j->>'tasks_opened' FROM r "
                      " UNION ALL SELECT 2, 1, 'tasks_closed', '  closed', j->>'tasks_closed' FROM r "
                      " UNION ALL SELECT 3, n, 'outcomes.' || key, '  ' || key, value "
                      " FROM r, jsonb_each_text(j->'outcomes') WITH ORDINALITY x(key, value, n) "
                      " UNION ALL SELECT 4, 0, 'households_kept_home', 'Households that kept their home', "
                      "        j->>'households_kept_home' FROM r "
                      " UNION ALL SELECT 4, 1, 'families_with_children_kept_home', '  families with children', "
                      "        j->>'families_with_children_kept_home' FROM r "
                      " UNION ALL SELECT 4, 2, 'children_kept_home', '  children in them', j->>'children_kept_home' FROM r "
                      " UNION ALL SELECT 4, 3, 'families_with_children_reached_out_to', "
                      "        'Families with children reached out to', j->>'families_with_children_reached_out_to' FROM r "
                      " UNION ALL SELECT 4, 4, 'children_in_them', '  children in them', j->>'children_in_them' FROM r "
                      " UNION ALL SELECT 5, 0, 'eviction_applications', '  eviction applications', "
                      "        j->>'eviction_applications' FROM r "
                      " UNION ALL SELECT 5, 1, 'evictions_executed', '  evictions executed', j->>'evictions_executed' FROM r "
                      " UNION ALL SELECT 6, 0, 'median_days_signal_to_contact', "
                      "        'Median days from first signal to first contact', "
                      "        coalesce(j->>'median_days_signal_to_contact', '') FROM r "
                      " UNION ALL SELECT 6, 1, 'contact_before_deadline_share', "
                      "        'Tasks with contact before their deadline', "
                      "        coalesce(j->>'contact_before_deadline_share', '') FROM r "
                      ") x ORDER BY o, n",
                      1, (const char *[]){ year });
        if (r != EXIT_OK)
                return r;
        if (a[1]) {
                printf("figure,value\n");
                for (int i = 0; i < PQntuples(res); i++)
                        printf("%s,%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
                return EXIT_OK;
        }
        printf("bokvar: the year %s\n", year);
        for (int i = 0, section = 0; i < PQntuples(res); i++) {
                const char *f = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 2);
                int s = startswith(f, "signals.")    ? 1
                        : startswith(f, "tasks_")    ? 2
                        : startswith(f, "outcomes.") ? 3
                        : startswith(f, "evictions") || startswith(f, "eviction_") ? 5
                        : 4;

                if (s != section) {
                        static const char *const heads[] = { NULL, "Signals, by source and kind", "Outreach tasks",
                                                             "Outcomes of the tasks closed", NULL,
                                                             "From the enforcement agency" };

                        if (heads[s])
                                printf("\n%s\n", heads[s]);
                        else if (section != 4)
                                printf("\n");
                        section = s;
                }
                if (streq(f, "contact_before_deadline_share") && *v)
                        printf("%-50s %8.1f %%\n", PQgetvalue(res, i, 1), strtod(v, NULL) * 100);
                else
                        printf("%-50s %8s\n", PQgetvalue(res, i, 1), *v ? v : "-");
        }
        return EXIT_OK;
}
