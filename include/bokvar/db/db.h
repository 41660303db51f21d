/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Blocking PostgreSQL helpers for start-up checks and bokvarctl. The daemon's
 * steady-state work goes through the asynchronous pgconn instead. */
#pragma once

#include <libpq-fe.h>

#include "bokvar/basic/macro.h"
#include "bokvar/config/config.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(PGconn *, PQfinish);
DEFINE_TRIVIAL_CLEANUP_FUNC(PGresult *, PQclear);
#define _cleanup_pgconn_ _cleanup_(PQfinishp)
#define _cleanup_pgresult_ _cleanup_(PQclearp)

/* Fills the keyword/value arrays for PQconnectdbParams/PQconnectStartParams
 * from the config: TCP keepalive settings, its conninfo (expanded), the
 * password credential, and an application name. */
#define DB_PARAMS_MAX 10
void db_connect_params(const struct config *c, const char *application_name, const char *keys[static DB_PARAMS_MAX],
                       const char *values[static DB_PARAMS_MAX]);

/* Connects (blocking). Logs why it failed. */
int db_connect(const struct config *c, const char *application_name, PGconn **ret);

/* The schema version recorded in the database; -ENOENT when bokvar's schema
 * has never been migrated there. */
int db_schema_version(PGconn *conn, int *ret);

/* Runs a statement with text parameters and checks its result status;
 * logs the server's message on failure. */
int db_exec(PGconn *conn, PGresult **ret, const char *sql, int n_params, const char *const *params);

/* Runs a script of several statements (simple query protocol, no parameters). */
int db_exec_script(PGconn *conn, const char *sql);

/* The first line of the last error of conn or res, for one-line messages. */
const char *db_error_line(PGconn *conn, const PGresult *res, char *buf, size_t size);

/* A copy of a value of res, NULL for SQL NULL (and when out of memory). */
char *db_value_or_null(const PGresult *res, int row, int column);
