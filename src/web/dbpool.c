/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvar-web's database connections. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/web/dbpool.h"

/* Beyond this many waiting batches a request is answered 503 at once:
 * queueing longer would only make every page late. */
#define DB_POOL_MAX_WAITING 4096

struct db_stmt {
        const char *sql;
        size_t n_params;
        char **params;             /* copies; NULL entries are SQL NULL */
};

struct db_batch {
        struct db_stmt *stmts;
        size_t n;
        db_done_fn done;
        void *userdata;
        struct db_batch *next;     /* in the pool's queue */
};

struct slot {
        struct db_pool *pool;
        struct pgconn *conn;
        enum { SLOT_CLOSED, SLOT_CONNECTING, SLOT_IDLE, SLOT_BUSY } state;
        struct db_batch *running;
};

struct db_pool {
        sd_event *event;
        struct config *config;
        struct slot *slots;
        size_t n_slots;
        struct db_batch *head, *tail;
        size_t waiting, running;
        bool connect_failing;      /* the last attempt failed: tell the waiting, once */
        sd_event_source *later;    /* dispatches from the loop after a submit */
};

int db_batch_new(struct db_batch **ret) {
        struct db_batch *b = calloc(1, sizeof *b);

        if (!b)
                return -ENOMEM;
        *ret = b;
        return 0;
}

struct db_batch *db_batch_free(struct db_batch *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < b->n; i++) {
                for (size_t k = 0; k < b->stmts[i].n_params; k++)
                        free(b->stmts[i].params[k]);
                free(b->stmts[i].params);
        }
        free(b->stmts);
        return mfree(b);
}

int db_batch_add(struct db_batch *b, const char *sql, size_t n_params, const char *const *params) {
        struct db_stmt *s = realloc(b->stmts, (b->n + 1) * sizeof *b->stmts);

        if (!s)
                return -ENOMEM;
        b->stmts = s;
        s = &b->stmts[b->n];
        *s = (struct db_stmt){ .sql = sql };
        if (n_params > 0) {
                s->params = calloc(n_params, sizeof *s->params);
                if (!s->params)
                        return -ENOMEM;
        }
        b->n++;
        for (size_t k = 0; k < n_params; k++) {
                s->n_params = k + 1;
                if (params[k] && !(s->params[k] = strdup(params[k])))
                        return -ENOMEM;
        }
        s->n_params = n_params;
        return 0;
}

static void pool_dispatch(struct db_pool *p);

/* Tells the batch's owner and frees it. */
static void batch_finish(struct db_batch *b, PGresult *const *results, size_t n) {
        if (b->done)
                b->done(results, n, b->userdata);
        db_batch_free(b);
}

static void slot_close(struct slot *s) {
        s->conn = pgconn_free(s->conn);
        s->state = SLOT_CLOSED;
}

static void on_pipeline(struct pgconn *c _unused_, PGresult *const *results, size_t n, void *userdata) {
        struct slot *s = userdata;
        struct db_pool *p = s->pool;
        struct db_batch *b = TAKE_PTR(s->running);

        p->running--;
        if (!results) {
                log_warning("Lost the database connection: %s; reconnecting for the next request.",
                            pgconn_error(s->conn));
                slot_close(s);
        } else
                s->state = SLOT_IDLE;
        batch_finish(b, results, n);
        pool_dispatch(p);
}

static int slot_run(struct slot *s, struct db_batch *b) {
        struct pgconn_stmt stmts[16];
        int r;

        if (b->n > ELEMENTSOF(stmts))
                return -E2BIG;
        for (size_t i = 0; i < b->n; i++)
                stmts[i] = (struct pgconn_stmt){ b->stmts[i].sql, (int) b->stmts[i].n_params,
                                                 (const char *const *) b->stmts[i].params };
        r = pgconn_pipeline(s->conn, stmts, b->n, on_pipeline, s);
        if (r < 0)
                return r;
        s->state = SLOT_BUSY;
        s->running = b;
        s->pool->running++;
        return 0;
}

static void on_lost(struct pgconn *c, int error _unused_, void *userdata) {
        struct slot *s = userdata;

        log_info("The database closed an idle connection: %s.", pgconn_error(c));
        slot_close(s);
}

/* Every waiting batch is told the database cannot be reached. */
static void pool_fail_waiting(struct db_pool *p) {
        while (p->head) {
                struct db_batch *b = p->head;

                p->head = b->next;
                if (!p->head)
                        p->tail = NULL;
                p->waiting--;
                batch_finish(b, NULL, 0);
        }
}

static void on_connected(struct pgconn *c, int error, void *userdata) {
        struct slot *s = userdata;
        struct db_pool *p = s->pool;

        if (error < 0) {
                if (!p->connect_failing)
                        log_error("Cannot connect to the database: %s; answering 503 until it can.",
                                  pgconn_error(c));
                p->connect_failing = true;
                slot_close(s);
                /* Unless another connection is up to take them, the waiting
                 * pages are answered now rather than left to hang. */
                for (size_t i = 0; i < p->n_slots; i++)
                        if (p->slots[i].state == SLOT_IDLE || p->slots[i].state == SLOT_BUSY ||
                            p->slots[i].state == SLOT_CONNECTING)
                                return;
                pool_fail_waiting(p);
                return;
        }
        if (p->connect_failing)
                log_info("Connected to the database again.");
        p->connect_failing = false;
        pgconn_on_lost(c, on_lost, s);
        s->state = SLOT_IDLE;
        pool_dispatch(p);
}

static int slot_connect(struct slot *s) {
        struct db_pool *p = s->pool;
        int r;

        r = pgconn_new(p->event, p->config, "bokvar-web", &s->conn);
        if (r < 0)
                return r;
        r = pgconn_connect(s->conn, on_connected, s);
        if (r < 0) {
                slot_close(s);
                return r;
        }
        s->state = SLOT_CONNECTING;
        return 0;
}

/* Hands waiting batches to idle connections, opening more while some wait. */
static void pool_dispatch(struct db_pool *p) {
        size_t connecting = 0;

        for (size_t i = 0; i < p->n_slots && p->head; i++) {
                struct slot *s = &p->slots[i];

                if (s->state == SLOT_IDLE) {
                        struct db_batch *b = p->head;

                        p->head = b->next;
                        if (!p->head)
                                p->tail = NULL;
                        b->next = NULL;
                        p->waiting--;
                        if (slot_run(s, b) < 0) {
                                log_warning("Cannot send to the database: %s; reconnecting.", pgconn_error(s->conn));
                                slot_close(s);
                                batch_finish(b, NULL, 0);
                        }
                }
        }
        for (size_t i = 0; i < p->n_slots; i++)
                if (p->slots[i].state == SLOT_CONNECTING)
                        connecting++;
        for (size_t i = 0; i < p->n_slots && p->waiting > connecting; i++)
                if (p->slots[i].state == SLOT_CLOSED && slot_connect(&p->slots[i]) >= 0)
                        connecting++;
        if (p->waiting > 0 && connecting == 0 && p->running == 0)
                pool_fail_waiting(p);
}

static int on_dispatch_later(sd_event_source *s _unused_, void *userdata) {
        pool_dispatch(userdata);
        return 0;
}

int db_pool_new(sd_event *event, struct config *config, unsigned size, struct db_pool **ret) {
        _cleanup_(db_pool_freep) struct db_pool *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return -ENOMEM;
        p->event = sd_event_ref(event);
        p->config = config_ref(config);
        p->slots = calloc(size, sizeof *p->slots);
        if (!p->slots)
                return -ENOMEM;
        p->n_slots = size;
        for (size_t i = 0; i < size; i++)
                p->slots[i].pool = p;
        r = sd_event_add_defer(event, &p->later, on_dispatch_later, p);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(p->later, SD_EVENT_OFF);
        *ret = TAKE_PTR(p);
        return 0;
}

struct db_pool *db_pool_free(struct db_pool *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_slots; i++) {
                db_batch_free(p->slots[i].running);
                pgconn_free(p->slots[i].conn);
        }
        while (p->head) {
                struct db_batch *b = p->head;

                p->head = b->next;
                db_batch_free(b);
        }
        free(p->slots);
        sd_event_source_disable_unref(p->later);
        config_unref(p->config);
        sd_event_unref(p->event);
        return mfree(p);
}

int db_pool_submit(struct db_pool *p, struct db_batch *b, db_done_fn done, void *userdata) {
        int r;

        assert(b->n > 0);
        if (p->waiting >= DB_POOL_MAX_WAITING) {
                db_batch_free(b);
                return -EBUSY;
        }
        b->done = done;
        b->userdata = userdata;
        b->next = NULL;
        if (p->tail)
                p->tail->next = b;
        else
                p->head = b;
        p->tail = b;
        p->waiting++;
        /* From the loop, so that done never runs inside this call. */
        r = sd_event_source_set_enabled(p->later, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule the database work: %m");
        return 0;
}

void db_pool_abort(struct db_pool *p) {
        pool_fail_waiting(p);
        for (size_t i = 0; i < p->n_slots; i++) {
                struct slot *s = &p->slots[i];
                struct db_batch *b = TAKE_PTR(s->running);

                slot_close(s);
                if (b) {
                        p->running--;
                        batch_finish(b, NULL, 0);
                }
        }
}

size_t db_pool_pending(const struct db_pool *p) {
        return p->waiting + p->running;
}
