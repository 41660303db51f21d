/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libpq in non-blocking mode on sd-event. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"
#include "bokvar/db/pgconn.h"

enum pgconn_state {
        PGCONN_NEW,
        PGCONN_CONNECTING,
        PGCONN_IDLE,
        PGCONN_BUSY,       /* a command is running */
        PGCONN_COPY_IN,
        PGCONN_PIPELINE,   /* a pipeline of statements is running */
        PGCONN_BROKEN,
};

struct pgconn {
        sd_event *event;
        PGconn *conn;
        sd_event_source *io;
        int fd;
        enum pgconn_state state;
        bool want_write;
        bool reported;             /* broken() has told whoever waited */

        pgconn_event_fn connected;
        void *connected_userdata;
        pgconn_result_fn done;
        void *done_userdata;
        PGresult *result;          /* what the running command has given so far */
        pgconn_event_fn drained;
        void *drained_userdata;
        pgconn_notify_fn notify;
        void *notify_userdata;
        pgconn_notice_fn notice;
        void *notice_userdata;
        pgconn_event_fn lost;
        void *lost_userdata;
        pgconn_pipeline_fn pipe_done;
        void *pipe_userdata;
        PGresult **pipe_results;   /* one a statement, filled as they come */
        size_t pipe_n, pipe_i;     /* how many, and the one whose results are read now */
        char error[256];
};

static void on_notice(void *arg, const PGresult *res) {
        struct pgconn *c = arg;
        const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

        if (!message)
                return;
        log_debug("Database notice: %.*s", (int) strcspn(message, "\n"), message);
        if (c->notice)
                c->notice(c, message, c->notice_userdata);
}

static int pgconn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Watches the connection's socket for what libpq needs now. */
static int update_io(struct pgconn *c, bool want_read, bool want_write) {
        uint32_t events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
        int fd = PQsocket(c->conn), r;

        if (fd != c->fd) {
                c->io = sd_event_source_disable_unref(c->io);
                c->fd = fd;
                if (fd < 0)
                        return -EBADF;
                r = sd_event_add_io(c->event, &c->io, fd, events, pgconn_io, c);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(c->io, "pgconn");
                return 0;
        }
        return sd_event_source_set_io_events(c->io, events);
}

static void set_error(struct pgconn *c) {
        (void) db_error_line(c->conn, NULL, c->error, sizeof c->error);
}

/* The connection is gone: whoever waits is told, once. */
static void pipeline_clear(struct pgconn *c) {
        for (size_t i = 0; i < c->pipe_n; i++)
                PQclear(c->pipe_results[i]);
        c->pipe_results = mfree(c->pipe_results);
        c->pipe_n = c->pipe_i = 0;
        c->pipe_done = NULL;
}

static void broken(struct pgconn *c) {
        pgconn_result_fn done = c->done;
        pgconn_event_fn connected = c->connected;
        pgconn_pipeline_fn pipe_done = c->pipe_done;
        void *ud = c->done_userdata, *cud = c->connected_userdata, *pud = c->pipe_userdata;

        if (c->reported)
                return;
        c->reported = true;
        set_error(c);
        c->state = PGCONN_BROKEN;
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = -1;
        c->done = NULL;
        c->connected = NULL;
        c->drained = NULL;
        PQclear(c->result);
        c->result = NULL;
        pipeline_clear(c);
        if (connected)
                connected(c, -ECONNRESET, cud);
        else if (pipe_done)
                pipe_done(c, NULL, 0, pud);
        else if (done)
                done(c, NULL, ud);
        else if (c->lost)
                c->lost(c, -ECONNRESET, c->lost_userdata);
}

static void finish_command(struct pgconn *c) {
        pgconn_result_fn done = c->done;
        PGresult *res = c->result;

        c->done = NULL;
        c->result = NULL;
        if (c->state != PGCONN_COPY_IN)
                c->state = PGCONN_IDLE;
        if (done)
                done(c, res, c->done_userdata);
        PQclear(res);
}

static void deliver_notifications(struct pgconn *c) {
        PGnotify *n;

        while ((n = PQnotifies(c->conn))) {
                if (c->notify)
                        c->notify(c, n->relname, n->extra, c->notify_userdata);
                PQfreemem(n);
        }
}

/* The pipeline's sync point arrived: every statement's results are in. */
static void finish_pipeline(struct pgconn *c) {
        pgconn_pipeline_fn done = c->pipe_done;
        PGresult **results = c->pipe_results;
        size_t n = c->pipe_n;

        if (PQexitPipelineMode(c->conn) != 1) {
                broken(c);
                return;
        }
        c->pipe_done = NULL;
        c->pipe_results = NULL;
        c->pipe_n = c->pipe_i = 0;
        c->state = PGCONN_IDLE;
        if (done)
                done(c, results, n, c->pipe_userdata);
        for (size_t i = 0; i < n; i++)
                PQclear(results[i]);
        free(results);
}

/* In a pipeline, each statement's results end with a NULL from
 * PQgetResult, and the sync point with PGRES_PIPELINE_SYNC. */
static void read_pipeline_results(struct pgconn *c) {
        while (c->state == PGCONN_PIPELINE && !PQisBusy(c->conn)) {
                PGresult *res = PQgetResult(c->conn);

                if (!res) {
                        c->pipe_i++;
                        continue;
                }
                if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
                        PQclear(res);
                        finish_pipeline(c);
                        return;
                }
                if (c->pipe_i >= c->pipe_n) {
                        /* More results than statements: libpq and we disagree. */
                        PQclear(res);
                        broken(c);
                        return;
                }
                /* Keep a statement's first error, else its last result. */
                if (c->pipe_results[c->pipe_i] &&
                    PQresultStatus(c->pipe_results[c->pipe_i]) == PGRES_FATAL_ERROR)
                        PQclear(res);
                else {
                        PQclear(c->pipe_results[c->pipe_i]);
                        c->pipe_results[c->pipe_i] = res;
                }
        }
        if (PQstatus(c->conn) == CONNECTION_BAD)
                broken(c);
}

/* Reads what arrived and completes the running command when its results end. */
static void read_results(struct pgconn *c) {
        if (!PQconsumeInput(c->conn)) {
                broken(c);
                return;
        }
        deliver_notifications(c);
        if (c->state == PGCONN_PIPELINE) {
                read_pipeline_results(c);
                return;
        }
        while (c->state == PGCONN_BUSY && !PQisBusy(c->conn)) {
                PGresult *res = PQgetResult(c->conn);

                if (!res) {
                        finish_command(c);
                        return;
                }
                if (PQresultStatus(res) == PGRES_COPY_IN) {
                        /* The server waits for data now: hand over. */
                        PQclear(c->result);
                        c->result = res;
                        c->state = PGCONN_COPY_IN;
                        finish_command(c);
                        return;
                }
                /* Keep the first error, else the last result. */
                if (c->result && PQresultStatus(c->result) == PGRES_FATAL_ERROR)
                        PQclear(res);
                else {
                        PQclear(c->result);
                        c->result = res;
                }
        }
        if (PQstatus(c->conn) == CONNECTION_BAD)
                broken(c);
}

/* Sends what libpq holds; 1 while some remains. On failure the connection
 * is marked broken but nobody is called back: API callers get -EIO, the
 * event handler calls broken(). */
static int flush(struct pgconn *c) {
        int r = PQflush(c->conn);

        if (r < 0) {
                set_error(c);
                c->state = PGCONN_BROKEN;
                return -EIO;
        }
        c->want_write = r == 1;
        (void) update_io(c, true, c->want_write);
        return r;
}

static void continue_connect(struct pgconn *c) {
        PostgresPollingStatusType st = PQconnectPoll(c->conn);
        pgconn_event_fn done;

        switch (st) {
        case PGRES_POLLING_READING:
                (void) update_io(c, true, false);
                return;
        case PGRES_POLLING_WRITING:
                (void) update_io(c, false, true);
                return;
        case PGRES_POLLING_OK:
                done = c->connected;
                c->connected = NULL;
                if (PQsetnonblocking(c->conn, 1) < 0) {
                        c->connected = done;
                        broken(c);
                        return;
                }
                PQsetNoticeReceiver(c->conn, on_notice, c);
                c->state = PGCONN_IDLE;
                (void) update_io(c, true, false);
                if (done)
                        done(c, 0, c->connected_userdata);
                return;
        default:
                broken(c);
        }
}

static int pgconn_io(sd_event_source *s _unused_, int fd _unused_, uint32_t revents, void *userdata) {
        struct pgconn *c = userdata;

        if (c->state == PGCONN_CONNECTING) {
                continue_connect(c);
                return 0;
        }
        if ((revents & EPOLLOUT) && c->want_write) {
                if (flush(c) < 0) {
                        broken(c);
                        return 0;
                }
                if (!c->want_write && c->drained) {
                        pgconn_event_fn drained = c->drained;

                        /* The callback may free c: input waits for the next round. */
                        c->drained = NULL;
                        drained(c, 0, c->drained_userdata);
                        return 0;
                }
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
                read_results(c);
        return 0;
}

int pgconn_new(sd_event *event, const struct config *config, const char *application_name, struct pgconn **ret) {
        const char *keys[DB_PARAMS_MAX], *values[DB_PARAMS_MAX];
        struct pgconn *c;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->fd = -1;
        db_connect_params(config, application_name, keys, values);
        c->conn = PQconnectStartParams(keys, values, 1);
        if (!c->conn) {
                pgconn_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

struct pgconn *pgconn_free(struct pgconn *c) {
        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->io);
        PQclear(c->result);
        pipeline_clear(c);
        PQfinish(c->conn);
        sd_event_unref(c->event);
        return mfree(c);
}

int pgconn_connect(struct pgconn *c, pgconn_event_fn done, void *userdata) {
        if (PQstatus(c->conn) == CONNECTION_BAD) {
                set_error(c);
                c->state = PGCONN_BROKEN;
                return -ECONNREFUSED;
        }
        c->state = PGCONN_CONNECTING;
        c->connected = done;
        c->connected_userdata = userdata;
        /* libpq's contract: start as if PQconnectPoll had said WRITING. */
        return update_io(c, false, true);
}

bool pgconn_ready(const struct pgconn *c) {
        return c->state == PGCONN_IDLE;
}

int pgconn_query(struct pgconn *c, const char *sql, int n_params, const char *const *params, pgconn_result_fn done,
                 void *userdata) {
        if (c->state != PGCONN_IDLE)
                return -EBUSY;
        if (!PQsendQueryParams(c->conn, sql, n_params, NULL, params, NULL, NULL, 0)) {
                set_error(c);
                return -EIO;
        }
        c->state = PGCONN_BUSY;
        c->done = done;
        c->done_userdata = userdata;
        return flush(c) < 0 ? -EIO : 0;
}

int pgconn_pipeline(struct pgconn *c, const struct pgconn_stmt *stmts, size_t n, pgconn_pipeline_fn done,
                    void *userdata) {
        if (c->state != PGCONN_IDLE)
                return -EBUSY;
        if (n == 0)
                return -EINVAL;
        c->pipe_results = calloc(n, sizeof *c->pipe_results);
        if (!c->pipe_results)
                return -ENOMEM;
        if (PQenterPipelineMode(c->conn) != 1)
                goto fail;
        for (size_t i = 0; i < n; i++)
                if (!PQsendQueryParams(c->conn, stmts[i].sql, stmts[i].n_params, NULL, stmts[i].params, NULL, NULL,
                                       0))
                        goto fail;
        if (PQpipelineSync(c->conn) != 1)
                goto fail;
        c->state = PGCONN_PIPELINE;
        c->pipe_n = n;
        c->pipe_i = 0;
        c->pipe_done = done;
        c->pipe_userdata = userdata;
        return flush(c) < 0 ? -EIO : 0;
fail:
        /* Nothing was sent: what libpq queued is discarded with the
         * connection, which the caller is told is unusable. */
        set_error(c);
        c->pipe_results = mfree(c->pipe_results);
        c->state = PGCONN_BROKEN;
        return -EIO;
}

int pgconn_copy_put(struct pgconn *c, const char *data, size_t n, pgconn_event_fn drained, void *userdata) {
        int r;

        if (c->state != PGCONN_COPY_IN)
                return -EPROTO;
        if (n == 0)
                return 0;
        r = PQputCopyData(c->conn, data, (int) n);
        if (r != 1) {
                set_error(c);
                return -EIO;
        }
        r = flush(c);
        if (r < 0)
                return r;
        if (r == 1) {
                c->drained = drained;
                c->drained_userdata = userdata;
        }
        return r;
}

int pgconn_copy_end(struct pgconn *c, const char *error, pgconn_result_fn done, void *userdata) {
        if (c->state != PGCONN_COPY_IN)
                return -EPROTO;
        c->drained = NULL;
        if (PQputCopyEnd(c->conn, error) != 1) {
                set_error(c);
                return -EIO;
        }
        c->state = PGCONN_BUSY;
        c->done = done;
        c->done_userdata = userdata;
        return flush(c) < 0 ? -EIO : 0;
}

void pgconn_on_notice(struct pgconn *c, pgconn_notice_fn fn, void *userdata) {
        c->notice = fn;
        c->notice_userdata = userdata;
}

void pgconn_on_notify(struct pgconn *c, pgconn_notify_fn fn, void *userdata) {
        c->notify = fn;
        c->notify_userdata = userdata;
}

void pgconn_on_lost(struct pgconn *c, pgconn_event_fn fn, void *userdata) {
        c->lost = fn;
        c->lost_userdata = userdata;
}

const char *pgconn_error(struct pgconn *c) {
        if (!c->error[0])
                set_error(c);
        return c->error;
}
