/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An asynchronous PostgreSQL connection driven by sd-event: connect, run one
 * command at a time, stream COPY data with backpressure, receive NOTIFY.
 * Nothing here blocks the event loop. */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/config/config.h"

struct pgconn;

/* A command's outcome: its last result (PGRES_COMMAND_OK, TUPLES_OK,
 * COPY_IN, or the first error), or NULL when the connection broke. The
 * result is cleared after the callback returns. */
typedef void (*pgconn_result_fn)(struct pgconn *c, PGresult *res, void *userdata);
/* Connected (error 0) or failed; output drained; notification received. */
typedef void (*pgconn_event_fn)(struct pgconn *c, int error, void *userdata);
typedef void (*pgconn_notify_fn)(struct pgconn *c, const char *channel, const char *payload, void *userdata);
/* A notice the server sent (RAISE NOTICE), its message without the
 * severity; called while a result is read: it may not free c or send. */
typedef void (*pgconn_notice_fn)(struct pgconn *c, const char *message, void *userdata);
/* A pipeline's outcome: one result per statement (the statements after a
 * failed one have PGRES_PIPELINE_ABORTED), or results NULL when the
 * connection broke. The results are cleared after the callback returns. */
typedef void (*pgconn_pipeline_fn)(struct pgconn *c, PGresult *const *results, size_t n, void *userdata);

/* One statement of a pipeline: constant SQL and its text parameters. */
struct pgconn_stmt {
        const char *sql;
        int n_params;
        const char *const *params;
};

int pgconn_new(sd_event *event, const struct config *config, const char *application_name, struct pgconn **ret);
struct pgconn *pgconn_free(struct pgconn *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pgconn *, pgconn_free);

/* Starts connecting; done is called once. */
int pgconn_connect(struct pgconn *c, pgconn_event_fn done, void *userdata);
bool pgconn_ready(const struct pgconn *c);
/* Sends a command with text parameters; only when no other is running. */
int pgconn_query(struct pgconn *c, const char *sql, int n_params, const char *const *params, pgconn_result_fn done,
                 void *userdata);
/* Sends several statements at once, in pipeline mode, and waits for their
 * results together: one round trip, one implicit transaction (a failed
 * statement aborts the ones after it and rolls back the ones before). Only
 * when no other command is running; the statements and their parameters
 * are copied into libpq's buffer before this returns. */
int pgconn_pipeline(struct pgconn *c, const struct pgconn_stmt *stmts, size_t n, pgconn_pipeline_fn done,
                    void *userdata);
/* In COPY IN: queues data. Returns 1 when the caller should stop producing
 * until drained() is called, 0 to go on, negative on failure. */
int pgconn_copy_put(struct pgconn *c, const char *data, size_t n, pgconn_event_fn drained, void *userdata);
/* Ends the COPY: error NULL to finish it, or a reason to abort it. */
int pgconn_copy_end(struct pgconn *c, const char *error, pgconn_result_fn done, void *userdata);
/* Asynchronous notifications (LISTEN) go to fn. */
void pgconn_on_notify(struct pgconn *c, pgconn_notify_fn fn, void *userdata);
/* Notices go to fn too (all of them are logged at debug level). */
void pgconn_on_notice(struct pgconn *c, pgconn_notice_fn fn, void *userdata);
/* The connection broke while no command was running (a listener learns of
 * it here; a running command's callback gets NULL instead). */
void pgconn_on_lost(struct pgconn *c, pgconn_event_fn fn, void *userdata);

/* The first line of the connection's last error. */
const char *pgconn_error(struct pgconn *c);
