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
#include "bokvar/basic/json-tree.h"
#include "bokvar/ingest/stage.h"

/* The accounting over every fetch of every feed, as one sum: bokvard fails
 * (and records) a fetch whose counts do not add up, so this holds. */
static int print_accounting(struct ctl *ctl) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_query(ctl, &res,
                      "SELECT coalesce(sum(total_rows_read), 0), coalesce(sum(total_accepted), 0), "
                      "coalesce(sum(total_updated), 0), coalesce(sum(total_duplicate), 0), "
                      "coalesce(sum(total_quarantined), 0), coalesce(sum(total_rows_read - total_accepted - "
                      "total_updated - total_duplicate - total_quarantined - total_filtered), 0), "
                      "coalesce(sum(total_filtered), 0) FROM bokvar.feed",
                      0, NULL);
        if (r != EXIT_OK)
                return r;
        printf("\nAll fetches: %s rows read = %s accepted + %s updated + %s duplicate + %s quarantined",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3),
               PQgetvalue(res, 0, 4));
        /* Rows a regional feed's only: left out, when any did. */
        if (!streq(PQgetvalue(res, 0, 6), "0"))
                printf(" + %s filtered", PQgetvalue(res, 0, 6));
        if (!streq(PQgetvalue(res, 0, 5), "0"))
                printf(" (%s unaccounted for)", PQgetvalue(res, 0, 5));
        printf(".\n");
        return EXIT_OK;
}

int verb_feeds(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl feeds [--files FEED] [--json]\n"
                "\n"
                "Each feed's last attempt and last success, HTTP status, the rows of its last\n"
                "fetch (read, accepted, updated, duplicate, quarantined, filtered), totals,\n"
                "how many fetches in a row failed and the last error. Every row read is\n"
                "accepted, updated, a duplicate, quarantined or filtered (outside a regional\n"
                "feed's area, only:, and stored nowhere): a fetch whose counts do not add up\n"
                "fails, is undone and shows here as failed. Times are the database server's.\n"
                "--files FEED: the files a drop folder ingested, oldest first: name, size,\n"
                "SHA-256 of the content (a file seen again with it is not ingested again),\n"
                "the fetch it was and when.\n";
        static const struct option options[] = {
                { "files", required_argument, NULL, 'f' },
                {}
        };
        const char *files = NULL;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, ctl_string_option, &files);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (files)
                return ctl_print_query(ctl,
                                       "SELECT name, size, sha256, fetch_id AS fetch, "
                                       "to_char(ingested_at, 'YYYY-MM-DD HH24:MI:SS') AS ingested_at "
                                       "FROM bokvar.feed_file WHERE feed = $1 ORDER BY ingested_at, fetch_id",
                                       1, (const char *[]){ files });
        if (ctl->json)
                return ctl_print_query(ctl,
                                       "SELECT name, source, last_attempt_at, last_success_at, last_status, "
                                       "last_duration_ms, failures, next_due_at, last_rows_read, last_accepted, "
                                       "last_updated, last_duplicate, last_quarantined, last_filtered, total_fetches, "
                                       "total_failures, total_rows_read, total_accepted, total_updated, "
                                       "total_duplicate, total_quarantined, total_filtered, last_error "
                                       "FROM bokvar.feed ORDER BY name",
                                       0, NULL);
        r = ctl_print_query(ctl,
                           "SELECT name AS feed, source, to_char(last_attempt_at, 'YYYY-MM-DD HH24:MI') AS last_attempt, "
                           "to_char(last_success_at, 'YYYY-MM-DD HH24:MI') AS last_success, "
                           "nullif(last_status, 0) AS http, last_rows_read AS rows, last_accepted AS accepted, "
                           "last_updated AS updated, last_duplicate AS duplicate, last_quarantined AS quarantined, "
                           "last_filtered AS filtered, "
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

/* A JSON array of strings (and nulls) as a NULL-terminated vector, the
 * nulls as NULL entries counted in *ret_n. */
static int json_string_array(const char *json, char ***ret, size_t *ret_n) {
        _cleanup_(json_tree_done) struct json_tree t = {};
        const struct json_node *root;
        char **l;
        size_t n = 0;
        int k;

        k = json_tree_parse(&t, json, strlen(json));
        if (k < 0)
                return k;
        root = json_tree_get(&t, NULL);
        if (!root || root->type != JSON_ARRAY)
                return -EBADMSG;
        l = calloc(root->count + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (int32_t c = root->first; c >= 0; c = t.nodes[c].next, n++) {
                struct buf v = {};

                if (t.nodes[c].type == JSON_NULL)
                        continue;
                if (json_tree_text(&t, &t.nodes[c], &v) < 0 || !(l[n] = v.data ? buf_steal(&v) : strdup(""))) {
                        buf_free(&v);
                        for (size_t i = 0; i < root->count; i++)
                                free(l[i]);
                        free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static void free_fields(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

/* What a retry of a feed came to. */
struct retried {
        long long retried, accepted, updated, duplicate, still_quarantined, filtered;
};

/* Hands the staged COPY text to the server. */
static int copy_flush(struct ctl *ctl, struct stage *st) {
        if (st->out.len == 0)
                return EXIT_OK;
        if (PQputCopyData(ctl->conn, st->out.data, (int) st->out.len) != 1) {
                fprintf(stderr, "bokvarctl quarantine retry: %s", PQerrorMessage(ctl->conn));
                return EXIT_DATABASE;
        }
        buf_clear(&st->out);
        return EXIT_OK;
}

/* Maps and stages the quarantined rows [from, to) of rows (one fetch's)
 * through feed f's mapping, the way a fetch stages its records, and
 * ingests them again. */
static int retry_fetch(struct ctl *ctl, const struct feed_config *f, day_t today, PGresult *rows, int from, int to,
                       struct retried *sum) {
        _cleanup_pgresult_ PGresult *res = NULL, *copy = NULL;
        _cleanup_(buf_free) struct buf ids = {}, outside = {};
        struct stage st = {};
        bool csv = f->format == FEED_FORMAT_CSV;
        const char *params[4];
        int r = EXIT_OK, k = 0;

        stage_init(&st, f, today);
        if (csv && !PQgetisnull(rows, from, 1)) {
                _cleanup_strv_free_ char **header = NULL;
                size_t n = 0;

                k = json_string_array(PQgetvalue(rows, from, 1), &header, &n);
                if (k >= 0)
                        k = stage_reader_ops.header(&st, header, n);
        }
        if (k < 0)
                goto fail;
        r = ctl_call(ctl, NULL, "quarantine retry", STAGE_CREATE_SQL, 0, NULL);
        if (r != EXIT_OK)
                goto out;
        copy = PQexec(ctl->conn, STAGE_COPY_SQL);
        if (PQresultStatus(copy) != PGRES_COPY_IN) {
                fprintf(stderr, "bokvarctl quarantine retry: %s", PQerrorMessage(ctl->conn));
                r = EXIT_DATABASE;
                goto out;
        }
        for (int i = from; i < to && r == EXIT_OK; i++) {
                unsigned line = (unsigned) strtoul(PQgetvalue(rows, i, 3), NULL, 10);
                uint64_t filtered = st.filtered;
                struct buf *list;

                /* A row of another format than the feed's now stays. */
                if (csv && !PQgetisnull(rows, i, 4)) {
                        char **fields = NULL;
                        size_t n = 0;

                        k = json_string_array(PQgetvalue(rows, i, 4), &fields, &n);
                        if (k >= 0)
                                k = stage_reader_ops.fields(&st, line, fields, n);
                        free_fields(fields, n);
                } else if (!csv && !PQgetisnull(rows, i, 5))
                        k = stage_reader_ops.json(&st, line, PQgetvalue(rows, i, 5),
                                                  (size_t) PQgetlength(rows, i, 5));
                else
                        continue;
                if (k < 0)
                        break;
                /* Outside a regional feed's area now: not staged. */
                list = st.filtered > filtered ? &outside : &ids;
                if (buf_printf(list, "%s%s", list->len ? "," : "{", PQgetvalue(rows, i, 2)) < 0) {
                        k = -ENOMEM;
                        break;
                }
                if (st.out.len >= 65536)
                        r = copy_flush(ctl, &st);
        }
        if (k < 0) {
                (void) PQputCopyEnd(ctl->conn, "the retry failed");
                PQclear(PQgetResult(ctl->conn));
                goto fail;
        }
        if (r == EXIT_OK)
                r = copy_flush(ctl, &st);
        if (PQputCopyEnd(ctl->conn, r == EXIT_OK ? NULL : "the retry failed") != 1) {
                r = EXIT_DATABASE;
                goto out;
        }
        PQclear(copy);
        copy = PQgetResult(ctl->conn);
        if (r == EXIT_OK && PQresultStatus(copy) != PGRES_COMMAND_OK) {
                fprintf(stderr, "bokvarctl quarantine retry: %s", PQerrorMessage(ctl->conn));
                r = EXIT_DATABASE;
        }
        PQclear(PQgetResult(ctl->conn));
        if (r != EXIT_OK)
                goto out;
        if (outside.len > 0) {
                _cleanup_pgresult_ PGresult *gone = NULL;

                if (buf_putc(&outside, '}') < 0) {
                        k = -ENOMEM;
                        goto fail;
                }
                r = ctl_call(ctl, &gone, "quarantine retry",
                             "SELECT bokvar.quarantine_outside($1, $2::bigint, $3::bigint[])", 3,
                             (const char *[]){ f->name, PQgetvalue(rows, from, 0), outside.data });
                if (r != EXIT_OK)
                        goto out;
                sum->retried += atoll(PQgetvalue(gone, 0, 0));
                sum->filtered += atoll(PQgetvalue(gone, 0, 0));
        }
        if (ids.len == 0)
                goto out;
        if (buf_putc(&ids, '}') < 0) {
                k = -ENOMEM;
                goto fail;
        }
        params[0] = f->name;
        params[1] = feed_source_names[f->source];
        params[2] = PQgetvalue(rows, from, 0);
        params[3] = ids.data;
        r = ctl_call(ctl, &res, "quarantine retry",
                     "SELECT rows_read, accepted, updated, duplicate, quarantined "
                     "FROM bokvar.quarantine_retry_fetch($1, $2::bokvar.feed_source, $3::bigint, $4::bigint[])", 4,
                     params);
        if (r == EXIT_OK) {
                sum->retried += atoll(PQgetvalue(res, 0, 0));
                sum->accepted += atoll(PQgetvalue(res, 0, 1));
                sum->updated += atoll(PQgetvalue(res, 0, 2));
                sum->duplicate += atoll(PQgetvalue(res, 0, 3));
                sum->still_quarantined += atoll(PQgetvalue(res, 0, 4));
        }
        goto out;
fail:
        fprintf(stderr, "bokvarctl quarantine retry: cannot stage the rows of feed %s: %s\n", f->name, strerror(-k));
        r = k == -ENOMEM ? EXIT_FAIL : EXIT_DATABASE;
        if (ctl_query(ctl, NULL, "SELECT 1", 0, NULL) != EXIT_OK)
                r = EXIT_DATABASE;
out:
        stage_done(&st);
        return r;
}

/* Retries the quarantined rows of one feed, fetch by fetch. */
static int retry_feed(struct ctl *ctl, const struct feed_config *f, day_t today, struct json_writer *w) {
        _cleanup_pgresult_ PGresult *rows = NULL;
        struct retried sum = {};
        const char *params[2] = { f->name };
        _cleanup_(buf_free) struct buf detail = {};
        struct json_writer dw;
        int n, r;

        r = ctl_call(ctl, &rows, "quarantine retry",
                     "SELECT fetch_id, header, id, line, fields, doc FROM bokvar.quarantine_retry_rows($1)", 1, params);
        if (r != EXIT_OK)
                return r;
        n = PQntuples(rows);
        for (int from = 0, to; from < n; from = to) {
                for (to = from + 1; to < n && streq(PQgetvalue(rows, to, 0), PQgetvalue(rows, from, 0)); to++)
                        ;
                r = retry_fetch(ctl, f, today, rows, from, to, &sum);
                if (r != EXIT_OK)
                        return r;
        }
        if (sum.retried == 0)
                return EXIT_OK;
        json_writer_init(&dw, &detail);
        json_object_begin(&dw);
        json_key_int(&dw, "retried", sum.retried);
        json_key_int(&dw, "accepted", sum.accepted);
        json_key_int(&dw, "updated", sum.updated);
        json_key_int(&dw, "duplicate", sum.duplicate);
        json_key_int(&dw, "still_quarantined", sum.still_quarantined);
        if (sum.filtered > 0)
                json_key_int(&dw, "filtered", sum.filtered);
        json_object_end(&dw);
        if (json_writer_finish(&dw) < 0)
                return log_oom(), EXIT_FAIL;
        json_key(w, f->name);
        json_raw(w, detail.data);
        params[1] = detail.data;
        return ctl_call(ctl, NULL, "quarantine retry", "SELECT bokvar.quarantine_retried($1, $2::jsonb)", 2, params);
}

/* Re-runs quarantined rows through the mappings of the current
 * configuration: mapped and validated here, as a fetch's records are, then
 * ingested again; all in one transaction. */
static int quarantine_retry(struct ctl *ctl, const char *feed) {
        _cleanup_pgresult_ PGresult *res = NULL, *day = NULL;
        _cleanup_(buf_free) struct buf results = {};
        struct json_writer w;
        const char *params[1];
        bool found = !feed;
        day_t today;
        int r;

        r = ctl_config(ctl);
        if (r != EXIT_OK)
                return r;
        for (size_t i = 0; i < ctl->config->n_feeds; i++)
                found = found || streq(feed, ctl->config->feeds[i].name);
        if (!found) {
                fprintf(stderr, "bokvarctl quarantine retry: no feed '%s' in %s\n", feed, ctl->config_path);
                return EXIT_NOT_FOUND;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        r = ctl_query(ctl, NULL, "BEGIN", 0, NULL);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &day, "SELECT current_date - DATE '2000-01-01'", 0, NULL);
        if (r != EXIT_OK)
                return r;
        today = (day_t) atoi(PQgetvalue(day, 0, 0));
        json_writer_init(&w, &results);
        json_object_begin(&w);
        for (size_t i = 0; r == EXIT_OK && i < ctl->config->n_feeds; i++)
                if (!feed || streq(feed, ctl->config->feeds[i].name))
                        r = retry_feed(ctl, &ctl->config->feeds[i], today, &w);
        json_object_end(&w);
        if (r != EXIT_OK)
                return r;
        if (json_writer_finish(&w) < 0)
                return log_oom(), EXIT_FAIL;
        params[0] = results.data;
        r = ctl_query(ctl, &res,
                      "SELECT key AS feed, (value->>'retried')::integer AS retried, "
                      "(value->>'accepted')::integer AS accepted, (value->>'updated')::integer AS updated, "
                      "(value->>'duplicate')::integer AS duplicate, "
                      "(value->>'still_quarantined')::integer AS still_quarantined, "
                      "coalesce((value->>'filtered')::integer, 0) AS filtered "
                      "FROM jsonb_each($1::jsonb) ORDER BY key",
                      1, params);
        if (r == EXIT_OK)
                r = ctl_query(ctl, NULL, "COMMIT", 0, NULL);
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
