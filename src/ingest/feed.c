/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Feed polling. One round of one feed, step by step:
 *
 *   connect → BEGIN → bokvar.feed_claim() (the feed's row lock, validators,
 *   cursor) → SAVEPOINT → CREATE TEMP TABLE stage → COPY stage FROM STDIN
 *   while the body arrives → bokvar.ingest_fetch() → COMMIT
 *
 * A failed transfer rolls back to the savepoint and records the failure in
 * the same transaction, still under the lock. A crash at any point leaves
 * the transaction uncommitted: the fetch is simply done again. Paged feeds
 * commit page by page, the cursor advancing with each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/db/db.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/feed.h"
#include "bokvar/basic/log.h"
#include "bokvar/ingest/mapping.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/ingest/reader.h"
#include "bokvar/ingest/stage.h"
#include "bokvar/ingest/transfer.h"
#include "bokvar/basic/util.h"

#define MAX_PAGES 10000                    /* a paged feed that never ends is a bug at the source */
#define BACKOFF_FIRST (30 * USEC_PER_SEC)

struct feeds {
        sd_event *event;
        struct curl_glue *glue;
        struct config *config;
        bool once;
        struct feeds_callbacks cb;
        struct runner **runners;
        size_t n_runners;
        unsigned running;
        unsigned waiting;          /* rounds queued behind max_parallel_fetches */
        bool all_ok;
        bool all_done_reported;
};

struct runner {
        struct feeds *feeds;
        char *name;
        sd_event_source *timer;
        bool busy;                 /* a round is under way */
        bool queued;               /* waiting for a free slot */
        bool removed;              /* gone from the configuration */
        bool finished_once;
        unsigned local_failures;   /* rounds that could not even reach the database */

        /* the round */
        struct config *config;     /* a reference kept for the round */
        const struct feed_config *cfg;
        struct pgconn *pg;
        char *url;                 /* the page being fetched */
        char *etag, *last_modified, *cursor;
        int failures;              /* consecutive, as the database knows them */
        unsigned pages;
        bool cursor_at_start;      /* the round resumed an interrupted chain of pages */

        char *summary;             /* what bokvar.ingest_fetch() counted */
        struct timespec started;
        double started_epoch;

        struct transfer transfer;  /* the page's body */
};

static void round_start(struct runner *r);
static void round_finish(struct runner *r, const struct fetch_result *res);
static void page_start(struct runner *r);
static void on_transfer_done(struct transfer *t, void *userdata);

static double now_seconds(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double elapsed(const struct runner *r) {
        return now_seconds() - ((double) r->started.tv_sec + (double) r->started.tv_nsec / 1e9);
}

static const struct feed_config *find_feed(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_feeds; i++)
                if (streq(c->feeds[i].name, name))
                        return &c->feeds[i];
        return NULL;
}

/* ---- scheduling ---- */

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        round_start(userdata);
        return 0;
}

static void schedule(struct runner *r, usec_t delay) {
        uint64_t now;

        if (r->feeds->once)
                return;
        if (sd_event_now(r->feeds->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        if (!r->timer) {
                if (sd_event_add_time(r->feeds->event, &r->timer, CLOCK_MONOTONIC, now + delay, USEC_PER_SEC, on_timer,
                                      r) < 0) {
                        log_error("Feed %s: cannot set a timer; it will not be polled.", r->name);
                        return;
                }
                (void) sd_event_source_set_description(r->timer, "feed-timer");
                return;
        }
        (void) sd_event_source_set_time(r->timer, now + delay);
        (void) sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

/* Exponential backoff with jitter, never longer than the feed's interval. */
static usec_t backoff(const struct runner *r, int failures) {
        usec_t d = BACKOFF_FIRST, interval = r->cfg ? r->cfg->interval : 15 * USEC_PER_MINUTE;

        for (int i = 1; i < failures && d < interval; i++)
                d *= 2;
        d = MIN(d, interval);
        /* ±20%, so that daemons and feeds that failed together drift apart. */
        return d * (80 + (usec_t) (random() % 41)) / 100;
}

/* Frees *dest and puts value (owned) in its place. */
static void replace_string(char **dest, char *value) {
        free(*dest);
        *dest = value;
}

/* Lets go of everything a round holds: the transfer, the connection, the
 * configuration, the page's URL, the validators and the cursor. What the
 * scheduler keeps between rounds (timer, failures) stays. */
static void round_reset(struct runner *r) {
        transfer_reset(&r->transfer);
        r->pg = pgconn_free(r->pg);
        r->cfg = NULL;
        r->config = config_unref(r->config);
        r->url = mfree(r->url);
        r->etag = mfree(r->etag);
        r->last_modified = mfree(r->last_modified);
        r->cursor = mfree(r->cursor);
        r->summary = mfree(r->summary);
}

/* Frees the runner and everything it holds, a round under way included. */
static struct runner *runner_free(struct runner *r) {
        if (!r)
                return NULL;
        round_reset(r);
        sd_event_source_disable_unref(r->timer);
        free(r->name);
        return mfree(r);
}

static int runner_new(struct feeds *f, const char *name, struct runner **ret) {
        struct runner *r = calloc(1, sizeof *r);

        if (!r || !(r->name = strdup(name))) {
                free(r);
                return -ENOMEM;
        }
        r->feeds = f;
        transfer_init(&r->transfer, f->event, f->glue, on_transfer_done, r);
        *ret = r;
        return 0;
}

/* ---- the round's database steps ---- */

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
                               "Feed %s: %lld rows, %lld accepted, %lld updated, %lld duplicate, %lld quarantined "
                               "(%.1fs).",
                               res->feed, (long long) res->rows_read, (long long) res->accepted,
                               (long long) res->updated, (long long) res->duplicate, (long long) res->quarantined,
                               res->seconds);
}

/* The connection is unusable or the transaction failed: give up this round. */
static void round_abort(struct runner *r, const char *what) {
        struct fetch_result res = {
                .feed = r->name,
                .ok = false,
                .error = what,
                .seconds = elapsed(r),
        };

        r->local_failures++;
        round_finish(r, &res);
}

/* Checks a command's result; on failure ends the round with the reason. */
static bool result_ok(struct runner *r, PGresult *res, const char *step) {
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

static void on_committed(struct pgconn *c _unused_, PGresult *res, void *userdata);
static void on_failure_recorded(struct pgconn *c _unused_, PGresult *res, void *userdata);

/* The page's rows are ingested: commit, then the next page or the end. */
static void on_ingested(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        const char *json;

        if (!result_ok(r, res, "the ingest"))
                return;
        json = PQgetvalue(res, 0, 0);
        replace_string(&r->summary, strdup(json));
        if (!r->summary || pgconn_query(r->pg, "COMMIT", 0, NULL, on_committed, r) < 0)
                round_abort(r, "cannot commit");
}

static int64_t json_int(const char *json, const char *key) {
        char pattern[64];
        const char *p;

        (void) snprintf(pattern, sizeof pattern, "\"%s\": ", key);
        p = strstr(json, pattern);
        return p ? strtoll(p + strlen(pattern), NULL, 10) : 0;
}

/* Hands the staged rows to bokvar.ingest_fetch() with what the fetch was. */
static void ingest(struct runner *r) {
        const struct feed_config *f = r->cfg;
        const struct transfer *t = &r->transfer;
        _cleanup_free_ char *next = NULL;
        struct buf mapping = {}, fetch = {};
        const char *params[3], *paging_error = NULL;
        int k;

        if (t->end == TRANSFER_OK && (f->paging.next || f->paging.link) && r->pages < MAX_PAGES) {
                next = transfer_next_page(t, &paging_error);
                /* An empty page with a next cursor: a change feed caught up.
                 * Keep the cursor for the next round. */
                if (paging_error)
                        log_warning("Feed %s: %s.", r->name, paging_error);
        }
        replace_string(&r->cursor, next ? strdup(next) : NULL);

        k = mapping_to_json(f, &mapping);
        k |= buf_puts(&fetch, "{\"url\": ");
        k |= buf_put_json_string(&fetch, r->url, strlen(r->url));
        k |= buf_printf(&fetch, ", \"status\": %ld, \"bytes\": %llu, \"started_at\": %.3f, \"interval\": %.0f",
                        t->status, (unsigned long long) t->bytes, r->started_epoch,
                        (double) f->interval / USEC_PER_SEC);
        k |= buf_puts(&fetch, ", \"header\": ");
        k |= stage_header_json(&t->stage, &fetch);
        k |= buf_puts(&fetch, ", \"cursor\": ");
        if (next)
                k |= buf_put_json_string(&fetch, next, strlen(next));
        else
                k |= buf_puts(&fetch, "null");
        /* Validators belong to the feed's own URL, not to later pages. */
        if (r->pages == 1 && !r->cursor_at_start) {
                const char *etag = t->file_validator ? t->file_validator : t->etag;

                k |= buf_puts(&fetch, ", \"etag\": ");
                k |= etag ? buf_put_json_string(&fetch, etag, strlen(etag)) : buf_puts(&fetch, "null");
                k |= buf_puts(&fetch, ", \"last_modified\": ");
                k |= t->last_modified ? buf_put_json_string(&fetch, t->last_modified, strlen(t->last_modified))
                                      : buf_puts(&fetch, "null");
        }
        if (t->end == TRANSFER_NOT_MODIFIED)
                k |= buf_puts(&fetch, ", \"not_modified\": true");
        k |= buf_puts(&fetch, "}");
        if (k < 0) {
                buf_free(&mapping);
                buf_free(&fetch);
                round_abort(r, "out of memory");
                return;
        }
        params[0] = r->name;
        params[1] = mapping.data;
        params[2] = fetch.data;
        k = pgconn_query(r->pg, "SELECT bokvar.ingest_fetch($1, $2::jsonb, $3::jsonb)::text", 3, params, on_ingested,
                         r);
        buf_free(&mapping);
        buf_free(&fetch);
        if (k < 0)
                round_abort(r, "cannot send the ingest");
}

static void on_rolled_back(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        char status[16], retry[32], ms[16];
        const char *params[5];

        if (!result_ok(r, res, "the rollback of the failed fetch"))
                return;
        (void) snprintf(status, sizeof status, "%ld", r->transfer.status);
        (void) snprintf(retry, sizeof retry, "%.0f", (double) backoff(r, r->failures + 1) / USEC_PER_SEC);
        (void) snprintf(ms, sizeof ms, "%.0f", elapsed(r) * 1000);
        params[0] = r->name;
        params[1] = status;
        params[2] = r->transfer.error;
        params[3] = retry;
        params[4] = ms;
        if (pgconn_query(r->pg, "SELECT bokvar.feed_failed($1, $2, $3, $4, $5)", 5, params, on_failure_recorded, r) <
            0)
                round_abort(r, "cannot record the failure");
}

static void on_failure_recorded(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (!result_ok(r, res, "recording the failure"))
                return;
        r->summary = mfree(r->summary);
        if (pgconn_query(r->pg, "COMMIT", 0, NULL, on_committed, r) < 0)
                round_abort(r, "cannot commit");
}

/* The COPY has ended (or was aborted): ingest, or undo and record why. */
static void on_copy_ended(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (r->transfer.end == TRANSFER_FAILED) {
                /* The aborted COPY ends in the error we asked for. */
                if (pgconn_query(r->pg, "ROLLBACK TO SAVEPOINT staging", 0, NULL, on_rolled_back, r) < 0)
                        round_abort(r, "cannot roll back");
                return;
        }
        if (!result_ok(r, res, "the COPY"))
                return;
        ingest(r);
}

static void on_committed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        const struct transfer *t = &r->transfer;
        const char *json = r->summary ? r->summary : "";
        struct fetch_result fr = {
                .feed = r->name,
                .ok = t->end != TRANSFER_FAILED,
                .not_modified = t->end == TRANSFER_NOT_MODIFIED,
                .status = (unsigned) t->status,
                .seconds = elapsed(r),
                .error = t->error,
        };

        if (!result_ok(r, res, "the commit"))
                return;
        r->local_failures = 0;
        if (fr.ok) {
                fr.rows_read = json_int(json, "rows_read");
                fr.accepted = json_int(json, "accepted");
                fr.updated = json_int(json, "updated");
                fr.duplicate = json_int(json, "duplicate");
                fr.quarantined = json_int(json, "quarantined");
        }
        if (fr.ok && r->cursor) {
                /* More pages: each is its own transaction. */
                log_result(&fr);
                if (r->feeds->cb.fetched)
                        r->feeds->cb.fetched(&fr, r->feeds->cb.userdata);
                transfer_reset(&r->transfer);
                replace_string(&r->url, TAKE_PTR(r->cursor));
                page_start(r);
                return;
        }
        round_finish(r, &fr);
}

static void on_copy_started(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (!result_ok(r, res, "the start of the COPY"))
                return;
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        /* Validators belong to the feed's own URL, not to later pages. */
        if (r->pages == 1 && !r->cursor_at_start)
                transfer_start(&r->transfer, r->cfg, r->pg, r->url, r->etag, r->last_modified);
        else
                transfer_start(&r->transfer, r->cfg, r->pg, r->url, NULL, NULL);
}

/* The body is in the COPY, or the transfer failed: end the COPY. */
static void on_transfer_done(struct transfer *t, void *userdata) {
        struct runner *r = userdata;

        if (pgconn_copy_end(r->pg, t->end == TRANSFER_FAILED ? "the fetch failed" : NULL, on_copy_ended, r) < 0)
                round_abort(r, "cannot end the COPY");
}

static void on_stage_created(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (!result_ok(r, res, "the creation of the staging table"))
                return;
        if (pgconn_query(r->pg, STAGE_COPY_SQL, 0, NULL, on_copy_started, r) < 0)
                round_abort(r, "cannot start the COPY");
}

static void on_savepoint(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (!result_ok(r, res, "the savepoint"))
                return;
        if (pgconn_query(r->pg, STAGE_CREATE_SQL, 0, NULL, on_stage_created, r) < 0)
                round_abort(r, "cannot create the staging table");
}

static char *value_or_null(PGresult *res, int col) {
        return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

static void on_claimed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        struct fetch_result skipped = { .feed = r->name, .ok = true, .skipped = true };

        if (!result_ok(r, res, "the claim of the feed"))
                return;
        if (PQntuples(res) != 1 || PQgetisnull(res, 0, 3)) {
                /* Another process is fetching this feed now. */
                log_debug("Feed %s: another process is fetching it; skipping this round.", r->name);
                round_finish(r, &skipped);   /* closing the connection rolls back */
                return;
        }
        if (!r->feeds->once && streq(PQgetvalue(res, 0, 5), "f")) {
                /* Not due: another process fetched it recently. */
                round_finish(r, &skipped);
                return;
        }
        replace_string(&r->etag, value_or_null(res, 0));
        replace_string(&r->last_modified, value_or_null(res, 1));
        replace_string(&r->cursor, value_or_null(res, 2));
        r->failures = atoi(PQgetvalue(res, 0, 4));
        r->cursor_at_start = r->cursor != NULL;
        if (r->cursor) {
                /* An interrupted chain of pages resumes where it stopped. */
                replace_string(&r->url, TAKE_PTR(r->cursor));
        }
        if (pgconn_query(r->pg, "SAVEPOINT staging", 0, NULL, on_savepoint, r) < 0)
                round_abort(r, "cannot set the savepoint");
}

static void on_begun(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        const char *params[3] = { r->name, feed_source_names[r->cfg->source], r->feeds->once ? "t" : "f" };

        if (!result_ok(r, res, "BEGIN"))
                return;
        if (pgconn_query(r->pg,
                         "SELECT etag, last_modified, cursor, next_due_at, failures, "
                         "next_due_at <= now() + interval '2 seconds' "
                         "FROM bokvar.feed_claim($1, $2::bokvar.feed_source, $3::boolean)",
                         3, params, on_claimed, r) < 0)
                round_abort(r, "cannot claim the feed");
}

/* One page: a transaction of its own. */
static void page_start(struct runner *r) {
        r->pages++;
        r->started_epoch = (double) time(NULL);
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        if (pgconn_query(r->pg, "BEGIN", 0, NULL, on_begun, r) < 0)
                round_abort(r, "cannot begin a transaction");
}

static void on_session_set(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;

        if (!result_ok(r, res, "the session set-up"))
                return;
        page_start(r);
}

static void on_connected(struct pgconn *c, int error, void *userdata) {
        struct runner *r = userdata;
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

/* ---- rounds ---- */

static void round_start(struct runner *r) {
        struct feeds *f = r->feeds;
        int k;

        if (r->busy)
                return;
        if (f->running >= f->config->max_parallel_fetches) {
                if (!r->queued) {
                        r->queued = true;
                        f->waiting++;
                }
                return;
        }
        if (r->queued) {
                r->queued = false;
                f->waiting--;
        }
        r->config = config_ref(f->config);
        r->cfg = find_feed(r->config, r->name);
        if (!r->cfg) {
                r->config = config_unref(r->config);
                return;
        }
        r->busy = true;
        f->running++;
        r->pages = 0;
        r->cursor_at_start = false;
        r->url = strdup(r->cfg->url);
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        k = pgconn_new(f->event, r->config, "bokvard", &r->pg);
        if (k >= 0)
                k = pgconn_connect(r->pg, on_connected, r);
        if (k < 0 || !r->url) {
                char msg[400];

                (void) snprintf(msg, sizeof msg, "cannot connect to the database: %s",
                                r->pg ? pgconn_error(r->pg) : strerror(-k));
                round_abort(r, msg);
        }
}

static void maybe_all_done(struct feeds *f) {
        if (!f->once || f->all_done_reported)
                return;
        for (size_t i = 0; i < f->n_runners; i++)
                if (!f->runners[i]->finished_once)
                        return;
        f->all_done_reported = true;
        if (f->cb.all_done)
                f->cb.all_done(f->all_ok, f->cb.userdata);
}

/* Starts rounds that waited for a free slot. */
static void start_waiting(struct feeds *f) {
        for (size_t i = 0; i < f->n_runners && f->waiting > 0 && f->running < f->config->max_parallel_fetches; i++)
                if (f->runners[i]->queued)
                        round_start(f->runners[i]);
}

static void round_finish(struct runner *r, const struct fetch_result *res) {
        struct feeds *f = r->feeds;
        usec_t next;

        /* res may point into the transfer's state: report before resetting it. */
        log_result(res);
        if (!res->skipped && f->cb.fetched)
                f->cb.fetched(res, f->cb.userdata);
        if (!res->ok)
                f->all_ok = false;

        /* The next round: after the interval, or after a backoff. */
        if (res->ok)
                next = r->cfg->interval;
        else
                next = backoff(r, MAX(r->failures + 1, (int) r->local_failures));
        if (res->skipped)
                next = MIN(next, r->cfg->interval);
        round_reset(r);
        schedule(r, next);

        r->busy = false;
        f->running--;
        r->finished_once = true;
        if (r->removed) {
                for (size_t i = 0; i < f->n_runners; i++)
                        if (f->runners[i] == r) {
                                f->runners[i] = f->runners[--f->n_runners];
                                break;
                        }
                runner_free(r);
        }
        start_waiting(f);
        maybe_all_done(f);
}

/* ---- the set of feeds ---- */

int feeds_new(sd_event *event, struct curl_glue *glue, struct config *config, bool once,
              const struct feeds_callbacks *cb, struct feeds **ret) {
        _cleanup_(feeds_freep) struct feeds *f = NULL;
        int k;

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(event);
        f->glue = glue;
        f->once = once;
        f->cb = *cb;
        f->all_ok = true;
        f->config = config_ref(config);
        k = feeds_reconfigure(f, config);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(f);
        return 0;
}

int feeds_reconfigure(struct feeds *f, struct config *config) {
        if (f->config != config) {
                config_unref(f->config);
                f->config = config_ref(config);
        }
        /* Feeds no longer configured stop after any round under way. */
        for (size_t i = 0; i < f->n_runners;) {
                struct runner *r = f->runners[i];

                if (find_feed(config, r->name)) {
                        i++;
                        continue;
                }
                if (r->queued) {
                        r->queued = false;
                        f->waiting--;
                }
                if (r->busy) {
                        r->removed = true;
                        i++;
                        continue;
                }
                f->runners[i] = f->runners[--f->n_runners];
                runner_free(r);
        }
        /* New feeds start now; known ones go on with their timers. */
        for (size_t i = 0; i < config->n_feeds; i++) {
                const char *name = config->feeds[i].name;
                struct runner *r = NULL, **grown;
                bool known = false;

                for (size_t j = 0; j < f->n_runners; j++)
                        if (streq(f->runners[j]->name, name)) {
                                f->runners[j]->removed = false;
                                known = true;
                        }
                if (known)
                        continue;
                grown = reallocarray(f->runners, f->n_runners + 1, sizeof *grown);
                if (!grown || runner_new(f, name, &r) < 0)
                        return -ENOMEM;
                f->runners = grown;
                f->runners[f->n_runners++] = r;
                if (f->once)
                        round_start(r);
                else
                        schedule(r, 0);
        }
        maybe_all_done(f);
        return 0;
}

struct feeds *feeds_free(struct feeds *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_runners; i++)
                runner_free(f->runners[i]);
        free(f->runners);
        config_unref(f->config);
        sd_event_unref(f->event);
        return mfree(f);
}
