/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A few asynchronous database connections shared by bokvar-web's requests.
 * A request's statements travel together as one batch: one pipeline, one
 * round trip, one transaction (so that the person it acts for, stated by
 * its first statement, holds for the rest). Batches wait in order of
 * arrival when every connection is busy. Nothing here blocks. */
#pragma once

#include <libpq-fe.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/macro.h"
#include "bokvar/config/config.h"

struct db_pool;
struct db_batch;

/* The batch's results, one per statement (after a failed statement, the
 * rest are PGRES_PIPELINE_ABORTED); results NULL when the database could
 * not be reached or the connection broke. Cleared after the call. */
typedef void (*db_done_fn)(PGresult *const *results, size_t n, void *userdata);

int db_batch_new(struct db_batch **ret);
struct db_batch *db_batch_free(struct db_batch *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct db_batch *, db_batch_free);
/* Adds a statement. sql must be a constant that outlives the batch; the
 * parameters (NULL is SQL NULL) are copied. */
int db_batch_add(struct db_batch *b, const char *sql, size_t n_params, const char *const *params);

/* At most size connections, opened as they are needed. */
int db_pool_new(sd_event *event, struct config *config, unsigned size, struct db_pool **ret);
struct db_pool *db_pool_free(struct db_pool *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct db_pool *, db_pool_free);

/* Runs batch b (taken, whatever the outcome) on the next free connection.
 * done is called from the event loop, never from inside this call. Returns
 * -EBUSY when too many batches wait already. */
int db_pool_submit(struct db_pool *p, struct db_batch *b, db_done_fn done, void *userdata);
/* Gives up: every batch waiting or running is told NULL (from inside this
 * call) and the connections are closed. For a stop that cannot wait. */
void db_pool_abort(struct db_pool *p);
/* Batches waiting or running. */
size_t db_pool_pending(const struct db_pool *p);
