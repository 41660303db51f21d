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
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bokvar-build.h"
#include "bokvar/db/db.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/feed.h"
#include "bokvar/basic/log.h"
#include "bokvar/ingest/mapping.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/ingest/reader.h"
#include "bokvar/ingest/stage.h"
#include "bokvar/basic/util.h"

#define COPY_CHUNK ((size_t) 64 * 1024)    /* COPY text handed to libpq at a time */
#define FILE_CHUNK ((size_t) 64 * 1024)    /* bytes read from a file feed at a time */
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

enum transfer_end {
        END_OK,
        END_NOT_MODIFIED,
        END_FAILED,
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
        bool in_transaction;

        /* the transfer */
        CURL *easy;
        struct curl_slist *headers;
        int fd;
        sd_event_source *file_reader;
        struct reader *reader;
        struct stage stage;
        bool paused;               /* waiting for libpq to drain */
        bool in_curl_callback;
        bool transfer_done;
        enum transfer_end end;
        char error[512];
        long status;
        uint64_t bytes;
        char *got_etag, *got_last_modified, *link_next;
        char *file_validator;
        char *summary;             /* what bokvar.ingest_fetch() counted */
        struct timespec started;
        double started_epoch;
};

static void round_start(struct runner *r);
static void round_finish(struct runner *r, const struct fetch_result *res);
static void page_start(struct runner *r);
static void fail_transfer(struct runner *r, const char *fmt, ...) _printf_(2, 3);
static void transfer_finished(struct runner *r);
static void transfer_reset(struct runner *r);

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
        transfer_reset(r);
        r->pg = pgconn_free(r->pg);
        r->in_transaction = false;
        r->cfg = NULL;
        r->config = config_unref(r->config);
        r->url = mfree(r->url);
        r->etag = mfree(r->etag);
        r->last_modified = mfree(r->last_modified);
        r->cursor = mfree(r->cursor);
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
        r->fd = -1;
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

static void transfer_reset(struct runner *r) {
        if (r->easy) {
                curl_glue_remove(r->feeds->glue, r->easy);
                curl_easy_cleanup(r->easy);
                r->easy = NULL;
        }
        curl_slist_free_all(r->headers);
        r->headers = NULL;
        r->file_reader = sd_event_source_disable_unref(r->file_reader);
        if (r->fd >= 0) {
                close(r->fd);
                r->fd = -1;
        }
        r->reader = reader_free(r->reader);
        stage_done(&r->stage);
        r->paused = false;
        r->transfer_done = false;
        r->end = END_OK;
        r->error[0] = 0;
        r->status = 0;
        r->bytes = 0;
        r->got_etag = mfree(r->got_etag);
        r->got_last_modified = mfree(r->got_last_modified);
        r->link_next = mfree(r->link_next);
        r->file_validator = mfree(r->file_validator);
        r->summary = mfree(r->summary);
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

/* Where the next page is, from the body or the Link header: a URL on the
 * same site as the feed, or NULL when this was the last page. */
static char *next_page(struct runner *r, const char **ret_error) {
        const struct feed_config *f = r->cfg;
        const char *next = f->paging.link ? r->link_next : r->stage.next;
        char *url = NULL, *base_host = NULL, *host = NULL, *base_scheme = NULL, *scheme = NULL, *base_port = NULL,
             *port = NULL;
        CURLU *u = NULL, *b = NULL;

        *ret_error = NULL;
        if (!next || !*next || r->pages >= MAX_PAGES)
                return NULL;
        u = curl_url();
        b = curl_url();
        if (!u || !b || curl_url_set(b, CURLUPART_URL, f->url, 0) != CURLUE_OK)
                goto bad;
        if (f->paging.param) {
                _cleanup_free_ char *q = NULL;

                if (asprintf(&q, "%s=%s", f->paging.param, next) < 0 ||
                    curl_url_set(u, CURLUPART_URL, f->url, 0) != CURLUE_OK ||
                    curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
                        goto bad;
        } else if (curl_url_set(u, CURLUPART_URL, f->url, 0) != CURLUE_OK ||
                   curl_url_set(u, CURLUPART_URL, next, 0) != CURLUE_OK) /* relative to the feed's URL */
                goto bad;
        if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_SCHEME, &base_scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_HOST, &base_host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_PORT, &base_port, CURLU_DEFAULT_PORT) != CURLUE_OK)
                goto bad;
        /* A feed must not send us elsewhere with our credentials. */
        if (!streq(scheme, base_scheme) || strcasecmp(host, base_host) != 0 || !streq(port, base_port)) {
                *ret_error = "the next page's URL points to another site; paging stopped";
                goto done;
        }
        if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
                goto bad;
        if (r->url && streq(url, r->url)) {
                curl_free(url);
                url = NULL;
        }
        goto done;
bad:
        *ret_error = "the next page's URL cannot be read; paging stopped";
done:
        curl_free(scheme);
        curl_free(base_scheme);
        curl_free(host);
        curl_free(base_host);
        curl_free(port);
        curl_free(base_port);
        curl_url_cleanup(u);
        curl_url_cleanup(b);
        if (url) {
                char *copy = strdup(url);

                curl_free(url);
                return copy;
        }
        return NULL;
}

/* Hands the staged rows to bokvar.ingest_fetch() with what the fetch was. */
static void ingest(struct runner *r) {
        const struct feed_config *f = r->cfg;
        _cleanup_free_ char *next = NULL;
        struct buf mapping = {}, fetch = {};
        const char *params[3], *paging_error = NULL;
        int k;

        if (r->end == END_OK && (f->paging.next || f->paging.link)) {
                next = next_page(r, &paging_error);
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
                        r->status, (unsigned long long) r->bytes, r->started_epoch,
                        (double) f->interval / USEC_PER_SEC);
        k |= buf_puts(&fetch, ", \"header\": ");
        k |= stage_header_json(&r->stage, &fetch);
        k |= buf_puts(&fetch, ", \"cursor\": ");
        if (next)
                k |= buf_put_json_string(&fetch, next, strlen(next));
        else
                k |= buf_puts(&fetch, "null");
        /* Validators belong to the feed's own URL, not to later pages. */
        if (r->pages == 1 && !r->cursor_at_start) {
                const char *etag = r->file_validator ? r->file_validator : r->got_etag;

                k |= buf_puts(&fetch, ", \"etag\": ");
                k |= etag ? buf_put_json_string(&fetch, etag, strlen(etag)) : buf_puts(&fetch, "null");
                k |= buf_puts(&fetch, ", \"last_modified\": ");
                k |= r->got_last_modified ? buf_put_json_string(&fetch, r->got_last_modified, strlen(r->got_last_modified))
                                          : buf_puts(&fetch, "null");
        }
        if (r->end == END_NOT_MODIFIED)
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
        (void) snprintf(status, sizeof status, "%ld", r->status);
        (void) snprintf(retry, sizeof retry, "%.0f", (double) backoff(r, r->failures + 1) / USEC_PER_SEC);
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

        if (r->end == END_FAILED) {
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
        const char *json = r->summary ? r->summary : "";
        struct fetch_result fr = {
                .feed = r->name,
                .ok = r->end != END_FAILED,
                .not_modified = r->end == END_NOT_MODIFIED,
                .status = (unsigned) r->status,
                .seconds = elapsed(r),
                .error = r->error,
        };

        if (!result_ok(r, res, "the commit"))
                return;
        r->in_transaction = false;
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
                replace_string(&r->url, TAKE_PTR(r->cursor));
                transfer_reset(r);
                page_start(r);
                return;
        }
        round_finish(r, &fr);
}

/* ---- the transfer ---- */

static void flush_stage(struct runner *r);

static void on_drained(struct pgconn *c _unused_, int error _unused_, void *userdata) {
        struct runner *r = userdata;

        r->paused = false;
        flush_stage(r);
        if (r->paused)
                return;
        if (r->transfer_done) {
                transfer_finished(r);
                return;
        }
        if (r->easy)
                (void) curl_easy_pause(r->easy, CURLPAUSE_CONT);
        else if (r->file_reader)
                (void) sd_event_source_set_enabled(r->file_reader, SD_EVENT_ON);
}

/* Hands staged COPY text to libpq; pauses the source when libpq is full. */
static void flush_stage(struct runner *r) {
        int k;

        if (r->stage.out.len == 0)
                return;
        k = pgconn_copy_put(r->pg, r->stage.out.data, r->stage.out.len, on_drained, r);
        buf_clear(&r->stage.out);
        if (k < 0) {
                fail_transfer(r, "database error while staging: %s", pgconn_error(r->pg));
                return;
        }
        if (k == 1)
                r->paused = true;
}

/* Feeds body bytes to the reader; false to stop the transfer. */
static bool body(struct runner *r, const char *data, size_t n) {
        int k;

        r->bytes += n;
        if (r->bytes > r->cfg->max_body) {
                fail_transfer(r, "the body is larger than max_body (%llu bytes)",
                              (unsigned long long) r->cfg->max_body);
                return false;
        }
        k = reader_feed(r->reader, data, n);
        if (k < 0) {
                fail_transfer(r, "cannot read the body: %s", strerror(-k));
                return false;
        }
        if (r->stage.out.len >= COPY_CHUNK)
                flush_stage(r);
        return r->end != END_FAILED;
}

static size_t on_curl_body(char *data, size_t size, size_t nmemb, void *userdata) {
        struct runner *r = userdata;
        size_t n = size * nmemb;
        bool ok;

        if (r->end == END_FAILED)
                return 0;
        if (r->paused)
                return CURL_WRITEFUNC_PAUSE;
        /* Nothing of an error response goes to the stage. */
        if (r->status == 0)
                (void) curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        if (r->status >= 300 && r->cfg->scheme != FEED_SCHEME_SFTP)
                return n;
        r->in_curl_callback = true;
        ok = body(r, data, n);
        r->in_curl_callback = false;
        return ok ? n : 0;
}

/* Keeps the validators and the paging link of the final response. */
static size_t on_curl_header(char *data, size_t size, size_t nmemb, void *userdata) {
        struct runner *r = userdata;
        size_t n = size * nmemb, vl;
        const char *v;
        char **dest = NULL;

        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* A new response (after a redirect): forget the last one's. */
                r->got_etag = mfree(r->got_etag);
                r->got_last_modified = mfree(r->got_last_modified);
                r->link_next = mfree(r->link_next);
                r->status = 0;
                return n;
        }
        if (n > 5 && strncasecmp(data, "ETag:", 5) == 0) {
                dest = &r->got_etag;
                v = data + 5;
        } else if (n > 14 && strncasecmp(data, "Last-Modified:", 14) == 0) {
                dest = &r->got_last_modified;
                v = data + 14;
        } else if (n > 5 && strncasecmp(data, "Link:", 5) == 0 && r->cfg->paging.link) {
                /* Link: <url>; rel="next", <url>; rel="prev" */
                const char *p = data + 5, *end = data + n;

                while (p < end) {
                        const char *lt = memchr(p, '<', (size_t) (end - p)), *gt, *comma;

                        if (!lt || !(gt = memchr(lt, '>', (size_t) (end - lt))))
                                break;
                        comma = memchr(gt, ',', (size_t) (end - gt));
                        if (!comma)
                                comma = end;
                        if (memmem(gt, (size_t) (comma - gt), "rel=\"next\"", 10) ||
                            memmem(gt, (size_t) (comma - gt), "rel=next", 8)) {
                                replace_string(&r->link_next, strndup(lt + 1, (size_t) (gt - lt - 1)));
                                break;
                        }
                        p = comma + 1;
                }
                return n;
        } else
                return n;
        while (v < data + n && (*v == ' ' || *v == '\t'))
                v++;
        vl = (size_t) (data + n - v);
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
        replace_string(dest, strndup(v, vl));
        return n;
}

static void fail_transfer(struct runner *r, const char *fmt, ...) {
        va_list ap;

        if (r->end == END_FAILED)
                return;
        r->end = END_FAILED;
        va_start(ap, fmt);
        (void) vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        /* Inside libcurl's callback the handle must stay: the callback
         * returns an error and on_curl_done() carries on. */
        if (r->in_curl_callback)
                return;
        if (r->easy) {
                /* Stop the transfer now; its done callback will not come. */
                curl_glue_remove(r->feeds->glue, r->easy);
                curl_easy_cleanup(r->easy);
                r->easy = NULL;
        }
        r->file_reader = sd_event_source_disable_unref(r->file_reader);
        r->transfer_done = true;
        transfer_finished(r);
}

/* The body is complete (or the transfer failed): end the COPY. */
static void transfer_finished(struct runner *r) {
        int k;

        if (r->end != END_FAILED && r->end != END_NOT_MODIFIED) {
                k = reader_finish(r->reader);
                if (k < 0) {
                        fail_transfer(r, "cannot read the body: %s", strerror(-k));
                        return;
                }
                flush_stage(r);
                if (r->end == END_FAILED)
                        return;
        }
        buf_clear(&r->stage.out);
        k = pgconn_copy_end(r->pg, r->end == END_FAILED ? "the fetch failed" : NULL, on_copy_ended, r);
        if (k < 0)
                round_abort(r, "cannot end the COPY");
}

static void on_curl_done(CURL *easy, CURLcode result, void *userdata) {
        struct runner *r = userdata;
        long status = 0;

        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        curl_easy_cleanup(easy);
        r->easy = NULL;
        if (r->end == END_FAILED) {
                /* Failed inside a callback (body too large, database gone). */
                transfer_finished(r);
                return;
        }
        if (result != CURLE_OK) {
                fail_transfer(r, "%s", curl_easy_strerror(result));
                return;
        }
        if (r->cfg->scheme != FEED_SCHEME_SFTP) {
                if (status == 304)
                        r->end = END_NOT_MODIFIED;
                else if (status < 200 || status >= 300) {
                        fail_transfer(r, "HTTP status %ld", status);
                        return;
                }
        }
        r->transfer_done = true;
        if (!r->paused)
                transfer_finished(r);
}

static int curl_setup(struct runner *r) {
        const struct feed_config *f = r->cfg;
        CURL *e = curl_easy_init();
        char *h;

        if (!e)
                return -ENOMEM;
        r->easy = e;
        if (curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK)
                return -EINVAL;
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http,sftp");
        /* Redirects only to https: a feed's data and credentials never go
         * out in the clear. */
        (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        (void) curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        (void) curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        /* HTTP/1.1: pausing a transfer then buffers one chunk at most. */
        (void) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        (void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) (f->timeout / USEC_PER_MSEC));
        (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) (f->connect_timeout / USEC_PER_MSEC));
        (void) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) f->max_body);
        (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(e, CURLOPT_USERAGENT, "bokvar/" BOKVAR_VERSION);
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
        (void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
        (void) curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
        if (f->auth.ca_file)
                (void) curl_easy_setopt(e, CURLOPT_CAINFO, f->auth.ca_file);
        if (f->auth.client_cert) {
                (void) curl_easy_setopt(e, CURLOPT_SSLCERT, f->auth.client_cert);
                (void) curl_easy_setopt(e, CURLOPT_SSLKEY, f->auth.client_key);
        }
        if (f->auth.bearer.value) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
                (void) curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, f->auth.bearer.value);
        }
        if (f->auth.basic.value) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(e, CURLOPT_USERPWD, f->auth.basic.value);
        }
        if (f->scheme == FEED_SCHEME_SFTP) {
                (void) curl_easy_setopt(e, CURLOPT_SSH_AUTH_TYPES, (long) CURLSSH_AUTH_PUBLICKEY);
                (void) curl_easy_setopt(e, CURLOPT_SSH_PRIVATE_KEYFILE, f->auth.ssh_key);
                /* Unknown or changed host keys are refused: without a key
                 * callback, libcurl accepts only an exact known_hosts match. */
                (void) curl_easy_setopt(e, CURLOPT_SSH_KNOWNHOSTS, f->auth.known_hosts);
        }
        /* Conditional GET, for the feed's own URL only. */
        if (!r->cursor_at_start && r->pages == 1) {
                if (r->etag && asprintf(&h, "If-None-Match: %s", r->etag) >= 0) {
                        r->headers = curl_slist_append(r->headers, h);
                        free(h);
                }
                if (r->last_modified && asprintf(&h, "If-Modified-Since: %s", r->last_modified) >= 0) {
                        r->headers = curl_slist_append(r->headers, h);
                        free(h);
                }
                if (r->headers)
                        (void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
        }
        return curl_glue_add(r->feeds->glue, e, on_curl_done, r);
}

static int on_file_readable(sd_event_source *s _unused_, void *userdata) {
        struct runner *r = userdata;
        char buf[FILE_CHUNK];
        ssize_t n;

        if (r->paused) {
                (void) sd_event_source_set_enabled(r->file_reader, SD_EVENT_OFF);
                return 0;
        }
        n = read(r->fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                        return 0;
                fail_transfer(r, "cannot read %s: %s", r->cfg->path, strerror(errno));
                return 0;
        }
        if (n == 0) {
                r->file_reader = sd_event_source_disable_unref(r->file_reader);
                r->transfer_done = true;
                if (!r->paused)
                        transfer_finished(r);
                return 0;
        }
        if (!body(r, buf, (size_t) n))
                return 0;
        if (r->paused)
                (void) sd_event_source_set_enabled(r->file_reader, SD_EVENT_OFF);
        return 0;
}

/* File feeds are read here rather than by libcurl, whose file:// reads the
 * whole file in one call and cannot pause. Unchanged files (same inode,
 * size and modification time) are "not modified". */
static int file_setup(struct runner *r) {
        struct stat st;
        int k;

        r->fd = open(r->cfg->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (r->fd < 0 || fstat(r->fd, &st) < 0) {
                fail_transfer(r, "cannot open %s: %s", r->cfg->path, strerror(errno));
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                fail_transfer(r, "%s is not a regular file", r->cfg->path);
                return 0;
        }
        if (asprintf(&r->file_validator, "file:%llu:%llu:%lld:%lld.%09ld", (unsigned long long) st.st_dev,
                     (unsigned long long) st.st_ino, (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec) < 0)
                return -ENOMEM;
        if (r->etag && streq(r->etag, r->file_validator)) {
                r->end = END_NOT_MODIFIED;
                r->transfer_done = true;
                transfer_finished(r);
                return 0;
        }
        k = sd_event_add_defer(r->feeds->event, &r->file_reader, on_file_readable, r);
        if (k < 0)
                return k;
        (void) sd_event_source_set_description(r->file_reader, "feed-file");
        return sd_event_source_set_enabled(r->file_reader, SD_EVENT_ON);
}

static void on_copy_started(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct runner *r = userdata;
        int k;

        if (!result_ok(r, res, "the start of the COPY"))
                return;
        k = reader_new(r->cfg, &stage_reader_ops, &r->stage, &r->reader);
        if (k < 0) {
                fail_transfer(r, "cannot set up the reader: %s", strerror(-k));
                return;
        }
        (void) clock_gettime(CLOCK_MONOTONIC, &r->started);
        k = r->cfg->scheme == FEED_SCHEME_FILE ? file_setup(r) : curl_setup(r);
        if (k < 0)
                fail_transfer(r, "cannot start the transfer: %s", strerror(-k));
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
        r->in_transaction = true;
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
        r->end = END_OK;
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

unsigned feeds_running(const struct feeds *f) {
        return f->running;
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
