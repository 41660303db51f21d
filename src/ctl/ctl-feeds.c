/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl feeds and quarantine: what the feeds brought in, what they could
 * not, and ingesting that again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/ingest/mapping.h"

/* The accounting over every fetch of every feed, as one sum: bokvard fails
 * (and records) a fetch whose counts do not add up, so this holds. */
static int print_accounting(struct ctl *ctl) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_query(ctl, &res,
                      "SELECT coalesce(sum(total_rows_read), 0), coalesce(sum(total_accepted), 0), "
                      "coalesce(sum(total_updated), 0), coalesce(sum(total_duplicate), 0), "
                      "coalesce(sum(total_quarantined), 0), coalesce(sum(total_rows_read - total_accepted - "
                      "total_updated - total_duplicate - total_quarantined), 0) FROM bokvar.feed",
                      0, NULL);
        if (r != EXIT_OK)
                return r;
        printf("\nAll fetches: %s rows read = %s accepted + %s updated + %s duplicate + %s quarantined",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
               PQgetvalue(res, 0, 4));
        if (!streq(PQgetvalue(res, 0, 5), "0"))
                printf(" (%s unaccounted for)", PQgetvalue(res, 0, 5));
        printf(".\n");
        return EXIT_OK;
}

int verb_feeds(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl feeds [--json]\n"
                "\n"
                "Each feed's last attempt and last success, HTTP status, the rows of its last\n"
                "fetch (read, accepted, updated, duplicate, quarantined), totals, how many\n"
                "fetches in a row failed and the last error. Every row read is accepted,\n"
                "updated, a duplicate or quarantined: a fetch whose counts do not add up\n"
                "fails, is undone and shows here as failed. Times are the database server's.\n";
        int r;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                return ctl_print_query(ctl,
                                   "SELECT name, source, last_attempt_at, last_success_at, last_status, last_duration_ms, "
                                   "failures, next_due_at, last_rows_read, last_accepted, last_updated, last_duplicate, "
                                   "last_quarantined, total_fetches, total_failures, total_rows_read, total_accepted, "
                                   "total_updated, total_duplicate, total_quarantined, last_error "
                                   "FROM bokvar.feed ORDER BY name",
                                   0, NULL);
        r = ctl_print_query(ctl,
                           "SELECT name AS feed, source, to_char(last_attempt_at, 'YYYY-MM-DD HH24:MI') AS last_attempt, "
                           "to_char(last_success_at, 'YYYY-MM-DD HH24:MI') AS last_success, "
                           "nullif(last_status, 0) AS http, last_rows_read AS rows, last_accepted AS accepted, "
                           "last_updated AS updated, last_duplicate AS duplicate, last_quarantined AS quarantined, "
                           "total_rows_read AS total_rows, total_quarantined AS total_quar, failures, "
                           "coalesce(last_error, '') AS last_error "
                           "FROM bokvar.feed ORDER BY name",
                           0, NULL);
        return r != EXIT_OK ? r : print_accounting(ctl);
}

struct quarantine_args {
        const char *feed;
        const char *limit;
        bool raw;
};

static int quarantine_option(int c, const char *arg, void *userdata) {
        struct quarantine_args *a = userdata;

        if (c == 'f')
                a->feed = arg;
        else if (c == 'n')
                a->limit = arg;
        else if (c == 'R')
                a->raw = true;
        else
                return EXIT_USAGE;
        return -1;
}

/* Re-runs quarantined rows through the mappings of the current configuration. */
static int quarantine_retry(struct ctl *ctl, const char *feed) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct buf mappings = {};
        struct json_writer w;
        const char *params[2];
        bool found = !feed;
        int r;

        r = ctl_config(ctl);
        if (r != EXIT_OK)
                return r;
        json_writer_init(&w, &mappings);
        json_object_begin(&w);
        for (size_t i = 0; i < ctl->config->n_feeds; i++) {
                const struct feed_config *f = &ctl->config->feeds[i];

                if (feed && !streq(feed, f->name))
                        continue;
                found = true;
                json_key(&w, f->name);
                mapping_write_json(&w, f);
        }
        json_object_end(&w);
        if (json_writer_finish(&w) < 0) {
                buf_free(&mappings);
                return log_oom(), EXIT_FAIL;
        }
        if (!found) {
                fprintf(stderr, "bokvarctl quarantine retry: no feed '%s' in %s\n", feed, ctl->config_path);
                buf_free(&mappings);
                return EXIT_NOT_FOUND;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK) {
                buf_free(&mappings);
                return r;
        }
        params[0] = feed;
        params[1] = mappings.data;
        r = ctl_query(ctl, NULL, "BEGIN", 0, NULL);
        if (r == EXIT_OK)
                r = ctl_call(ctl, &res, "quarantine retry",
                             "SELECT key AS feed, (value->>'retried')::integer AS retried, "
                             "(value->>'accepted')::integer AS accepted, (value->>'updated')::integer AS updated, "
                             "(value->>'duplicate')::integer AS duplicate, "
                             "(value->>'still_quarantined')::integer AS still_quarantined "
                             "FROM jsonb_each(bokvar.quarantine_retry($1, $2::jsonb)) ORDER BY key",
                             2, params);
        if (r == EXIT_OK)
                r = ctl_query(ctl, NULL, "COMMIT", 0, NULL);
        buf_free(&mappings);
        if (r != EXIT_OK)
                return r;
        if (!ctl->json && PQntuples(res) == 0) {
                printf("Nothing to retry: no quarantined row%s could be read.\n", feed ? " of that feed" : "");
                return EXIT_OK;
        }
        output_result(stdout, res, ctl->json);
        return EXIT_OK;
}

int verb_quarantine(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl quarantine [--feed NAME] [--limit N] [--raw] [--json]\n"
                "       bokvarctl quarantine retry [--feed NAME] [--json]\n"
                "\n"
                "Lists the rows feeds delivered that could not be ingested, with the line\n"
                "they came on and the reason. Only the fields that are never personal are\n"
                "shown (ids, kinds, dates, counts, amounts); identity numbers as their date\n"
                "of birth, names, addresses and anything unmapped as ***. --raw shows the\n"
                "rows as delivered, and is written to the access log.\n"
                "`retry` runs them through the mapping of the\n"
                "current configuration again, after an operator fixed it: rows that now pass\n"
                "are ingested and leave the quarantine. Rows that could not be read at all\n"
                "(broken encoding, CSV or JSON) stay: only a corrected delivery mends them.\n";
        static const struct option options[] = {
                { "feed", required_argument, NULL, 'f' },
                { "limit", required_argument, NULL, 'n' },
                { "raw", no_argument, NULL, 'R' },
                {}
        };
        struct quarantine_args a = { .limit = "1000" };
        const char *params[2];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, quarantine_option, &a);
        if (r >= 0)
                return r;
        if (optind < argc && streq(argv[optind], "retry")) {
                if (optind + 1 < argc || a.raw) {
                        fprintf(stderr, "bokvarctl quarantine retry: unexpected argument '%s'\n", argv[optind + 1]);
                        return EXIT_USAGE;
                }
                return quarantine_retry(ctl, a.feed);
        }
        if ((r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (strspn(a.limit, "0123456789") != strlen(a.limit) || !a.limit[0] || strlen(a.limit) > 9) {
                fprintf(stderr, "bokvarctl quarantine: --limit needs a number\n");
                return EXIT_USAGE;
        }
        params[0] = a.feed;
        params[1] = a.limit;
        if (a.raw) {
                _cleanup_pgresult_ PGresult *res = NULL;

                r = ctl_call(ctl, &res, "quarantine",
                             ctl->json ? "SELECT id, feed, fetch_id, line, reason, raw, created_at "
                                         "FROM bokvar.quarantine_raw($1, $2::integer)"
                                       : "SELECT id, feed, fetch_id AS fetch, line, reason, raw "
                                         "FROM bokvar.quarantine_raw($1, $2::integer)",
                             2, params);
                if (r == EXIT_OK)
                        output_result(stdout, res, ctl->json);
                return r;
        }
        if (ctl->json)
                return ctl_print_query(ctl,
                                   "SELECT id, feed, fetch_id, line, reason, raw, created_at FROM bokvar.quarantine_masked "
                                   "WHERE $1::text IS NULL OR feed = $1 ORDER BY feed, id LIMIT $2::integer",
                                   2, params);
        return ctl_print_query(ctl,
                           "SELECT id, feed, fetch_id AS fetch, line, reason, "
                           "CASE WHEN length(raw) > 60 THEN left(raw, 59) || '…' ELSE raw END AS raw "
                           "FROM bokvar.quarantine_masked WHERE $1::text IS NULL OR feed = $1 "
                           "ORDER BY feed, id LIMIT $2::integer",
                           2, params);
}
