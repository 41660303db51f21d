/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The round's transaction steps, written in the order they happen. One
 * round of one feed:
 *
 *   connect → session set-up → BEGIN → bokvar.feed_claim() (the feed's row
 *   lock, validators, cursor) → SAVEPOINT → CREATE TEMP TABLE stage →
 *   COPY stage FROM STDIN while the transfer runs → bokvar.ingest_fetch()
 *   → COMMIT
 *
 * A failed transfer, and an ingest that fails or whose counts do not add
 * up, roll back to the savepoint and record the failure in the same
 * transaction, still under the lock, then commit: the feed's row says when,
 * why and how many times in a row. A crash at any point leaves the
 * transaction uncommitted: the fetch is simply done again.
 * Paged feeds commit page by page, the cursor advancing with each, and a
 * round that finds a cursor resumes the interrupted chain where it stopped.
 *
 * Each step is the callback of the statement before it and sends the next
 * statement: the happy path reads from here down to on_committed(), then
 * the failure path, then how a round ends.
 *
 * A drop folder's round begins with the listing of its folder (dropdir.h)
 * and fetches each ready file as a page of its own; bokvar.ingest_file()
 * skips a file whose content was ingested before, and a local file is
 * moved to done/ after its page's COMMIT (a crash before the move leaves
 * it for the next round, which finds its content known and just moves
 * it). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"
#include "bokvar/ingest/fetch.h"
#include "bokvar/ingest/stage.h"

#define MAX_PAGES 10000    /* a paged feed that never ends is a bug at the source */

/* The steps, in order. */
static void on_scanned(struct drop_scan *s, const char *error, void *userdata);
static void round_connect(struct round *r);
static void on_connected(struct pgconn *c, int error, void *userdata);
static void on_session_set(struct pgconn *c, PGresult *res, void *userdata);
static void page_start(struct round *r);
static void on_begun(struct pgconn *c, PGresult *res, void *userdata);
static void on_claimed(struct pgconn *c, PGresult *res, void *userdata);
static void on_known_files(struct pgconn *c, PGresult *res, void *userdata);
static void on_savepoint(struct pgconn *c, PGresult *res, void *userdata);
static void on_stage_created(struct pgconn *c, PGresult *res, void *userdata);
static void on_copy_started(struct pgconn *c, PGresult *res, void *userdata);
static void on_transfer_done(struct transfer *t, void *userdata);
static void on_copy_ended(struct pgconn *c, PGresult *res, void *userdata);
static void ingest(struct round *r);
static void on_ingested(struct pgconn *c, PGresult *res, void *userdata);
static void on_committed(struct pgconn *c, PGresult *res, void *userdata);
static void drop_file_committed(struct round *r);
/* The failure path, from on_copy_ended() or on_ingested() to on_committed(). */
static void page_fail(struct round *r, const char *fmt, ...) _printf_(2, 3);
static void on_rolled_back(struct pgconn *c, PGresult *res, void *userdata);
static void on_failure_recorded(struct pgconn *c, PGresult *res, void *userdata);
/* The end of a round. */
static bool result_ok(struct round *r, PGresult *res, const char *step);
static void round_abort(struct round *r, const char *what);
static void round_finish(struct round *r, const struct fetch_result *res, enum round_end end);
static void log_result(const struct fetch_result *res);
static double elapsed(const struct round *r);
static void replace_string(char **dest, char *value);

void fetch_round_init(struct round *r, sd_event *event, struct curl_glue *glue, const char *name, bool once,
                      const struct round_ops *ops, void *userdata) {
        *r = (struct round){
                .event = event,
                .name = name,
                .once = once,
                .ops = ops,
                .userdata = userdata,
        };
        transfer_init(&r->transfer, event, glue, on_transfer_done, r);
}

void fetch_round_start(struct round *r, struct config *config, const struct feed_config *cfg) {
        r->config = config_ref(config);
        r->cfg = cfg;
        r->pages = 0;
        r->cursor_at_start = false;
        r->url = strdup(cfg->url);
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        if (cfg->drop) {
                drop_scan_start(&r->scan, r->event, r->transfer.glue, cfg, on_scanned, r);
                return;
        }
        round_connect(r);
}

/* The drop folder is listed: its first ready file is the first page. A
 * folder that cannot be listed is a failed fetch, recorded as one. */
static void on_scanned(struct drop_scan *s, const char *error, void *userdata) {
        struct round *r = userdata;

        r->drop_next = 0;
        r->drop_error[0] = 0;
        if (error)
                (void) snprintf(r->drop_error, sizeof r->drop_error, "%s", error);
        else if (s->n_files > 0)
                replace_string(&r->url, strdup(s->files[0].source));
        round_connect(r);
}

static void round_connect(struct round *r) {
        int k;

        k = pgconn_new(r->event, r->config, "bokvard", &r->pg);
        if (k >= 0)
                k = pgconn_connect(r->pg, on_connected, r);
        if (k < 0 || !r->url) {
                char msg[400];

                (void) snprintf(msg, sizeof msg, "cannot connect to the database: %s",
                                r->pg ? pgconn_error(r->pg) : strerror(-k));
                round_abort(r, msg);
        }
}

static void on_connected(struct pgconn *c, int error, void *userdata) {
        struct round *r = userdata;
        char msg[400];

        if (error < 0) {
                (void) snprintf(msg, sizeof msg, "cannot connect to the database: %s", pgconn_error(c));
                round_abort(r, msg);
                return;
        }
        /* Room for the staging tables in the backend's memory (an ingest
         * works on temporary tables of the size of a fetch), and a backend
         * that notices soon when its daemon is gone, so it does not hold
         * the feed's lock to the end of a long ingest nobody will commit. */
        if (pgconn_query(r->pg,
                         "SELECT set_config('temp_buffers', '256MB', false), set_config('work_mem', '128MB', false), "
                         "set_config('client_connection_check_interval', '1s', false)",
                         0, NULL, on_session_set, r) < 0)
                round_abort(r, "cannot set up the session");
}

static void on_session_set(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (!result_ok(r, res, "the session set-up"))
                return;
        page_start(r);
}

/* One page: a transaction of its own. */
static void page_start(struct round *r) {
        r->pages++;
        r->started_epoch = (double) time(NULL);
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        if (pgconn_query(r->pg, "BEGIN", 0, NULL, on_begun, r) < 0)
                round_abort(r, "cannot begin a transaction");
}

static void on_begun(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        const char *params[3] = { r->name, feed_source_names[r->cfg->source], r->once ? "t" : "f" };

        if (!result_ok(r, res, "BEGIN"))
                return;
        if (pgconn_query(r->pg,
                         "SELECT etag, last_modified, cursor, next_due_at, failures, "
                         "next_due_at <= now() + interval '2 seconds', current_date - DATE '2000-01-01' "
                         "FROM bokvar.feed_claim($1, $2::bokvar.feed_source, $3::boolean)",
                         3, params, on_claimed, r) < 0)
                round_abort(r, "cannot claim the feed");
}

static void on_claimed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        struct fetch_result skipped = { .feed = r->name, .ok = true, .skipped = true };

        if (!result_ok(r, res, "the claim of the feed"))
                return;
        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 3)) {
                /* Another process is fetching this feed now. */
                log_debug("Feed %s: another process is fetching it; skipping this round.", r->name);
                round_finish(r, &skipped, ROUND_SKIPPED);   /* closing the connection rolls back */
                return;
        }
        if (!r->once && streq(PQgetvalue(res, 0, 5), "f")) {
                /* Not due: another process fetched it recently. */
                round_finish(r, &skipped, ROUND_SKIPPED);
                return;
        }
        replace_string(&r->etag, db_value_or_null(res, 0, 0));
        replace_string(&r->last_modified, db_value_or_null(res, 0, 1));
        replace_string(&r->cursor, r->cfg->drop ? NULL : db_value_or_null(res, 0, 2));
        r->failures = atoi(PQgetvalue(res, 0, 4));
        /* The database's day, which identity numbers are read against. */
        r->today = (day_t) atoi(PQgetvalue(res, 0, 6));
        r->cursor_at_start = r->cursor != NULL;
        if (r->cursor) {
                /* An interrupted chain of pages resumes where it stopped. */
                replace_string(&r->url, TAKE_PTR(r->cursor));
        }
        /* An sftp folder keeps its files: those its listing shows as they
         * were when they were ingested are not fetched again. */
        if (r->cfg->drop && r->cfg->scheme == FEED_SCHEME_SFTP && r->pages == 1 && r->scan.n_files > 0) {
                if (pgconn_query(r->pg,
                                 "SELECT name, seen_as FROM bokvar.feed_file "
                                 "WHERE feed = $1 AND seen_as IS NOT NULL",
                                 1, (const char *[]){ r->name }, on_known_files, r) < 0)
                        round_abort(r, "cannot read the files ingested before");
                return;
        }
        if (pgconn_query(r->pg, "SAVEPOINT staging", 0, NULL, on_savepoint, r) < 0)
                round_abort(r, "cannot set the savepoint");
}

static void on_known_files(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        size_t kept = 0;

        if (!result_ok(r, res, "reading the files ingested before"))
                return;
        for (size_t i = 0; i < r->scan.n_files; i++) {
                struct drop_file *f = &r->scan.files[i];
                char seen[64];
                bool known = false;

                drop_file_seen_as(f, seen);
                for (int j = 0; j < PQntuples(res) && !known; j++)
                        known = streq(PQgetvalue(res, j, 0), f->name) && streq(PQgetvalue(res, j, 1), seen);
                if (known) {
                        free(f->name);
                        free(f->source);
                        continue;
                }
                r->scan.files[kept++] = *f;
        }
        r->scan.n_files = kept;
        if (kept > 0)
                replace_string(&r->url, strdup(r->scan.files[0].source));
        if (pgconn_query(r->pg, "SAVEPOINT staging", 0, NULL, on_savepoint, r) < 0)
                round_abort(r, "cannot set the savepoint");
}

static void on_savepoint(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (!result_ok(r, res, "the savepoint"))
                return;
        if (pgconn_query(r->pg, STAGE_CREATE_SQL, 0, NULL, on_stage_created, r) < 0)
                round_abort(r, "cannot create the staging table");
}

static void on_stage_created(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (!result_ok(r, res, "the creation of the staging table"))
                return;
        if (pgconn_query(r->pg, STAGE_COPY_SQL, 0, NULL, on_copy_started, r) < 0)
                round_abort(r, "cannot start the COPY");
}

/* The COPY is open: the transfer fills it. */
static void on_copy_started(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (!result_ok(r, res, "the start of the COPY"))
                return;
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        if (r->cfg->drop) {
                /* A folder that cannot be listed fails the fetch; one with
                 * no ready file is not modified; else the file, whole. */
                if (r->drop_error[0]) {
                        r->transfer.end = TRANSFER_FAILED;
                        (void) snprintf(r->transfer.error, sizeof r->transfer.error, "%s", r->drop_error);
                        on_transfer_done(&r->transfer, r);
                } else if (r->scan.n_files == 0) {
                        r->transfer.end = TRANSFER_NOT_MODIFIED;
                        on_transfer_done(&r->transfer, r);
                } else
                        transfer_start(&r->transfer, r->cfg, r->pg, r->url, r->today, NULL, NULL);
                return;
        }
        /* Validators belong to the feed's own URL, not to later pages. */
        if (r->pages == 1 && !r->cursor_at_start)
                transfer_start(&r->transfer, r->cfg, r->pg, r->url, r->today, r->etag, r->last_modified);
        else
                transfer_start(&r->transfer, r->cfg, r->pg, r->url, r->today, NULL, NULL);
}

/* The body is in the COPY, or the transfer failed: end the COPY. */
static void on_transfer_done(struct transfer *t, void *userdata) {
        struct round *r = userdata;

        if (pgconn_copy_end(r->pg, t->end == TRANSFER_FAILED ? "the fetch failed" : NULL, on_copy_ended, r) < 0)
                round_abort(r, "cannot end the COPY");
}

/* The COPY has ended (or was aborted): ingest, or undo and record why. */
static void on_copy_ended(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (r->transfer.end == TRANSFER_FAILED) {
                /* The aborted COPY ends in the error we asked for. */
                page_fail(r, "%s", r->transfer.error);
                return;
        }
        if (!result_ok(r, res, "the COPY"))
                return;
        ingest(r);
}

/* What the fetch was, as bokvar.ingest_fetch() reads it: {url, status,
 * bytes, started_at, interval, header, cursor, etag, last_modified,
 * not_modified} (see sql/002_ingest.sql). */
static int fetch_to_json(const struct round *r, const char *next, struct buf *out) {
        const struct transfer *t = &r->transfer;
        struct json_writer w;

        json_writer_init(&w, out);
        json_object_begin(&w);
        json_key_string(&w, "url", r->url);
        json_key_int(&w, "status", t->status);
        json_key_uint(&w, "bytes", t->bytes);
        json_key(&w, "started_at");
        json_fixed(&w, r->started_epoch, 3);
        json_key(&w, "interval");
        json_fixed(&w, (double) r->cfg->interval / USEC_PER_SEC, 0);
        json_key(&w, "header");
        if (t->stage.header)
                json_strv(&w, t->stage.header);
        else
                json_null(&w);
        json_key_string(&w, "cursor", next);
        /* Validators belong to the feed's own URL, not to later pages,
         * and a drop folder has none. */
        if (r->pages == 1 && !r->cursor_at_start && !r->cfg->drop) {
                json_key_string(&w, "etag", t->file_validator ? t->file_validator : t->etag);
                json_key_string(&w, "last_modified", t->last_modified);
        }
        if (t->end == TRANSFER_NOT_MODIFIED)
                json_key_bool(&w, "not_modified", true);
        json_object_end(&w);
        return json_writer_finish(&w);
}

/* Hands the staged rows to bokvar.ingest_fetch() with what the fetch was,
 * and how many records a regional feed's area left out (filtered). */
static void ingest(struct round *r) {
        const struct feed_config *f = r->cfg;
        const struct transfer *t = &r->transfer;
        _cleanup_free_ char *next = NULL;
        _cleanup_(buf_free) struct buf mapping = {}, fetch = {}, file = {};
        struct json_writer w;
        const char *params[5], *paging_error = NULL;
        char filtered[24];
        int k;

        if (t->end == TRANSFER_OK && (f->paging.next || f->paging.link) && r->pages < MAX_PAGES) {
                next = transfer_next_page(t, &paging_error);
                if (paging_error)
                        log_warning("Feed %s: %s.", r->name, paging_error);
        }
        /* A page whose next page is itself: a change feed that has caught
         * up. The round ends here, and the cursor is kept, so the next round
         * asks for what came since rather than read the feed from its start. */
        r->more = next && !streq(next, r->url);
        replace_string(&r->cursor, next ? strdup(next) : NULL);
        /* A drop folder's next page is its next ready file. */
        if (f->drop)
                r->more = t->end == TRANSFER_OK && r->drop_next + 1 < r->scan.n_files;

        /* The rows come typed and validated: of the mapping, the SQL needs
         * the feed's source alone; and whether it need look for a record
         * staged twice. */
        json_writer_init(&w, &mapping);
        json_object_begin(&w);
        json_key_string(&w, "source", feed_source_names[f->source]);
        json_key_bool(&w, "ids_ascending", stage_ids_ascending(&t->stage));
        json_object_end(&w);
        if (json_writer_finish(&w) < 0 || fetch_to_json(r, next, &fetch) < 0) {
                round_abort(r, "out of memory");
                return;
        }
        (void) fmt_i64(filtered, (int64_t) t->stage.filtered);
        params[0] = r->name;
        params[1] = mapping.data;
        params[2] = fetch.data;
        params[3] = filtered;
        if (f->drop && t->end == TRANSFER_OK) {
                const struct drop_file *df = &r->scan.files[r->drop_next];

                json_writer_init(&w, &file);
                json_object_begin(&w);
                json_key_string(&w, "name", df->name);
                json_key_uint(&w, "size", t->bytes);
                json_key_string(&w, "sha256", t->sha256);
                if (f->scheme == FEED_SCHEME_SFTP) {
                        char seen[64];

                        json_key_string(&w, "seen_as", drop_file_seen_as(df, seen));
                }
                json_object_end(&w);
                if (json_writer_finish(&w) < 0) {
                        round_abort(r, "out of memory");
                        return;
                }
                params[4] = file.data;
                k = pgconn_query(r->pg,
                                 "SELECT s.rows_read, s.accepted, s.updated, s.duplicate, s.quarantined, s.filtered, "
                                 "s.known FROM jsonb_to_record(bokvar.ingest_file($1, $2::jsonb, $3::jsonb, $4, "
                                 "$5::jsonb)) AS s(rows_read bigint, accepted bigint, updated bigint, "
                                 "duplicate bigint, quarantined bigint, filtered bigint, known boolean)",
                                 5, params, on_ingested, r);
        } else
                k = pgconn_query(r->pg,
                                 "SELECT s.rows_read, s.accepted, s.updated, s.duplicate, s.quarantined, s.filtered, "
                                 "false FROM jsonb_to_record(bokvar.ingest_fetch_filtered($1, $2::jsonb, $3::jsonb, "
                                 "$4)) AS s(rows_read bigint, accepted bigint, updated bigint, duplicate bigint, "
                                 "quarantined bigint, filtered bigint)",
                                 4, params, on_ingested, r);
        if (k < 0)
                round_abort(r, "cannot send the ingest");
}

/* The page's rows are ingested: keep what was counted, and commit. A
 * failed ingest (the SQL refused a row it should have quarantined, or
 * found that its counts do not add up) is undone and recorded instead, as
 * a failed transfer is: one bad delivery must not vanish into the journal. */
static void on_ingested(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        char line[256];

        if (res && PQresultStatus(res) == PGRES_FATAL_ERROR && pgconn_ready(r->pg)) {
                page_fail(r, "the ingest failed: %s", db_error_line(NULL, res, line, sizeof line));
                return;
        }
        if (!result_ok(r, res, "the ingest"))
                return;
        if (PQntuples(res) != 1 || PQnfields(res) != 7) {
                round_abort(r, "the ingest returned no counts");
                return;
        }
        /* NULL (never sent) reads as "", that is 0. */
        r->rows_read = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        r->accepted = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        r->updated = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        r->duplicate = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        r->quarantined = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        r->filtered = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
        /* A drop folder's file whose content was ingested before: nothing
         * was, again; it is moved to done/ after the commit. */
        r->drop_known = streq(PQgetvalue(res, 0, 6), "t");
        if (r->drop_known) {
                if (pgconn_query(r->pg, "COMMIT", 0, NULL, on_committed, r) < 0)
                        round_abort(r, "cannot commit");
                return;
        }
        /* Every record the reader staged or filtered was counted, and
         * nothing else. */
        if (r->rows_read != (int64_t) (r->transfer.stage.rows + r->transfer.stage.filtered) ||
            r->filtered != (int64_t) r->transfer.stage.filtered) {
                page_fail(r,
                          "the counts do not add up: %llu records were staged and %llu filtered, the ingest counted "
                          "%lld rows, %lld filtered",
                          (unsigned long long) r->transfer.stage.rows, (unsigned long long) r->transfer.stage.filtered,
                          (long long) r->rows_read, (long long) r->filtered);
                return;
        }
        if (pgconn_query(r->pg, "COMMIT", 0, NULL, on_committed, r) < 0)
                round_abort(r, "cannot commit");
}

/* The page is committed (its ingest, or its failure): the next page in a
 * transaction of its own, or the end of the round. */
static void on_committed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        const struct transfer *t = &r->transfer;
        struct fetch_result fr = {
                .feed = r->name,
                .ok = !r->failed,
                .not_modified = t->end == TRANSFER_NOT_MODIFIED,
                .status = (unsigned) t->status,
                .seconds = elapsed(r),
                .error = r->error,
                .failures = r->failed ? r->failures + 1 : 0,
        };

        if (!result_ok(r, res, "the commit"))
                return;
        if (fr.ok && r->cfg->drop && r->scan.n_files > 0)
                drop_file_committed(r);
        if (fr.ok) {
                fr.rows_read = r->rows_read;
                fr.accepted = r->accepted;
                fr.updated = r->updated;
                fr.duplicate = r->duplicate;
                fr.quarantined = r->quarantined;
                fr.filtered = r->filtered;
        }
        if (fr.ok && r->more) {
                log_result(&fr);
                r->ops->page_committed(&fr, r->userdata);
                transfer_reset(&r->transfer);
                r->more = false;
                if (r->cfg->drop)
                        replace_string(&r->url, strdup(r->scan.files[++r->drop_next].source));
                else
                        replace_string(&r->url, TAKE_PTR(r->cursor));
                page_start(r);
                return;
        }
        round_finish(r, &fr, ROUND_COMMITTED);
}

/* A drop folder's file is committed (or was known): a local one goes to
 * done/; an sftp one stays, remembered by its content. A file that cannot
 * be moved is found again next round, known, and moved then. */
static void drop_file_committed(struct round *r) {
        const struct drop_file *df = &r->scan.files[r->drop_next];
        char error[600];

        if (r->drop_known)
                log_full_errno(LOG_INFO, 0, LOG_FIELDS({ "FEED", r->name }),
                               "Feed %s: %s was ingested before (its content is known); not again.", r->name, df->name);
        if (r->cfg->scheme != FEED_SCHEME_FILE)
                return;
        /* The window a crash may hit, opened on purpose by the tests. */
        if (getenv("BOKVAR_TEST_KILL_BEFORE_DONE"))
                (void) raise(SIGKILL);
        if (drop_file_done(r->cfg, df, error, sizeof error) < 0)
                log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "FEED", r->name }),
                               "Feed %s: %s; it stays, and is moved once it is seen again.", r->name, error);
}

/* ---- the failure path ---- */

/* The page failed: undo what it staged (and ingested), keeping the lock. */
static void page_fail(struct round *r, const char *fmt, ...) {
        va_list ap;

        r->failed = true;
        va_start(ap, fmt);
        (void) vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        if (pgconn_query(r->pg, "ROLLBACK TO SAVEPOINT staging", 0, NULL, on_rolled_back, r) < 0)
                round_abort(r, "cannot roll back");
}

/* The failed page's rows are gone: record the failure and when to retry. */
static void on_rolled_back(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;
        char status[16], retry[32], ms[16];
        const char *params[5];

        if (!result_ok(r, res, "the rollback of the failed fetch"))
                return;
        (void) snprintf(status, sizeof status, "%ld", r->transfer.status);
        (void) snprintf(retry, sizeof retry, "%.0f",
                        (double) r->ops->backoff(r->failures + 1, r->userdata) / USEC_PER_SEC);
        (void) snprintf(ms, sizeof ms, "%.0f", elapsed(r) * 1000);
        params[0] = r->name;
        params[1] = status;
        params[2] = r->error;
        params[3] = retry;
        params[4] = ms;
        if (pgconn_query(r->pg, "SELECT bokvar.feed_failed($1, $2, $3, $4, $5)", 5, params, on_failure_recorded, r) <
            0)
                round_abort(r, "cannot record the failure");
}

static void on_failure_recorded(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct round *r = userdata;

        if (!result_ok(r, res, "recording the failure"))
                return;
        if (pgconn_query(r->pg, "COMMIT", 0, NULL, on_committed, r) < 0)
                round_abort(r, "cannot commit");
}

/* ---- the end of a round ---- */

/* Checks a command's result; on failure ends the round with the reason. */
static bool result_ok(struct round *r, PGresult *res, const char *step) {
        char line[256], msg[400];

        if (res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK ||
                    PQresultStatus(res) == PGRES_COPY_IN))
                return true;
        if (res)
                (void) db_error_line(NULL, res, line, sizeof line);
        (void) snprintf(msg, sizeof msg, "database error during %s: %s", step,
                        res ? line : pgconn_error(r->pg));
        round_abort(r, msg);
        return false;
}

/* The connection is unusable or the transaction failed: give up this round. */
static void round_abort(struct round *r, const char *what) {
        struct fetch_result res = {
                .feed = r->name,
                .ok = false,
                .error = what,
                .seconds = elapsed(r),
        };

        round_finish(r, &res, ROUND_ABORTED);
}

/* Reports the round's end. The scheduler may free the round: nothing
 * touches it afterwards. */
static void round_finish(struct round *r, const struct fetch_result *res, enum round_end end) {
        log_result(res);
        r->ops->finished(res, end, r->userdata);
}

void fetch_round_reset(struct round *r) {
        transfer_reset(&r->transfer);
        drop_scan_reset(&r->scan);
        r->drop_next = 0;
        r->drop_known = false;
        r->drop_error[0] = 0;
        r->pg = pgconn_free(r->pg);
        r->cfg = NULL;
        r->config = config_unref(r->config);
        r->url = mfree(r->url);
        r->etag = mfree(r->etag);
        r->last_modified = mfree(r->last_modified);
        r->cursor = mfree(r->cursor);
        r->more = false;
        r->failed = false;
        r->error[0] = 0;
        r->rows_read = r->accepted = r->updated = r->duplicate = r->quarantined = r->filtered = 0;
}

static void log_result(const struct fetch_result *res) {
        char rows[24];

        if (res->skipped)
                return;
        (void) fmt_i64(rows, res->rows_read);
        if (!res->ok)
                log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "FEED", res->feed }, { "FETCH_ERROR", res->error }),
                               "Feed %s: fetch failed after %.1fs: %s", res->feed, res->seconds, res->error);
        else if (res->not_modified)
                log_full_errno(LOG_INFO, 0, LOG_FIELDS({ "FEED", res->feed }),
                               "Feed %s: not modified (%.1fs).", res->feed, res->seconds);
        else
                log_full_errno(LOG_INFO, 0, LOG_FIELDS({ "FEED", res->feed }, { "ROWS", rows }),
                               "Feed %s: %lld rows, %lld accepted, %lld updated, %lld duplicate, %lld quarantined, "
                               "%lld filtered (%.1fs).",
                               res->feed, (long long) res->rows_read, (long long) res->accepted,
                               (long long) res->updated, (long long) res->duplicate, (long long) res->quarantined,
                               (long long) res->filtered, res->seconds);
}

static double now_seconds(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double elapsed(const struct round *r) {
        return now_seconds() - ((double) r->started.tv_sec + (double) r->started.tv_nsec / 1e9);
}

/* Frees *dest and puts value (owned) in its place. */
static void replace_string(char **dest, char *value) {
        free(*dest);
        *dest = value;
}
