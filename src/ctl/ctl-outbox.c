/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl outbox: events waiting to be sent, dead letters, and sending them
 * again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"

struct outbox_args {
        bool dead, all_dead;
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

static int outbox_retry(struct ctl *ctl, const char *id) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_call(ctl, &res, "outbox retry", "SELECT bokvar.outbox_retry($1::bigint)", 1, (const char *[]){ id });
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
                "       bokvarctl outbox retry ID|--all-dead\n"
                "\n"
                "Task events on their way to the channels. Without --dead: the events not\n"
                "yet delivered, the next attempt first, with the last error; with --dead:\n"
                "the dead letters, which a channel refused for good or which ran out of\n"
                "attempts. `retry` queues dead letters again (an operator's job; the audit log\n"
                "records who).\n"
                "--limit: at most N rows (default 100; 0: all).\n";
        static const struct option options[] = {
                { "dead", no_argument, NULL, 'd' },
                { "all-dead", no_argument, NULL, 'A' },
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
                        fprintf(stderr, "Usage: bokvarctl outbox retry ID|--all-dead\n");
                        return EXIT_USAGE;
                }
                if (id && !ctl_valid_id(id)) {
                        fprintf(stderr, "bokvarctl outbox retry: '%s' is not an outbox id\n", id);
                        return EXIT_USAGE;
                }
                r = ctl_connect(ctl, true);
                if (r != EXIT_OK)
                        return r;
                return outbox_retry(ctl, id);
        }
        if (optind < argc || a.all_dead) {
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
