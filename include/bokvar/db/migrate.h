/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Schema migrations: sql/NNN_*.sql, compiled into the binaries so that a
 * binary and the schema it expects can never drift apart. */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

struct migration {
        int version;
        const char *name;   /* file name without .sql */
        const char *sql;
};

/* Generated from sql/ at build time, ordered by version. */
extern const struct migration migrations[];
extern const size_t n_migrations;

/* The schema version this binary expects: the newest migration it carries. */
int migrate_expected_version(void);

/* Checks that the database holds exactly the schema this binary expects.
 * Logs a one-line reason telling the operator what to do, and returns 0,
 * -ESTALE (older: run bokvarctl migrate), -EPROTO (newer: upgrade bokvar) or
 * -EIO (the query failed). */
int migrate_check_schema(PGconn *conn);

/* Checks that the roles fit row-level security: warns when the bokvar
 * schema belongs to a superuser (superusers are never held to it); with
 * must_be_owner, fails (-EPERM) unless the session's user owns the schema,
 * as bokvard's must. Logs what to do. */
int migrate_check_owner(PGconn *conn, bool must_be_owner);

/* Applies every migration newer than the database's, each in its own
 * transaction, serialised against concurrent runs, then sets up the group
 * roles of the database (see bokvar.access_setup). Refuses (-EPROTO) a database
 * whose schema is newer than this binary. *ret_applied counts what was done. */
int migrate_apply(PGconn *conn, size_t *ret_applied);
