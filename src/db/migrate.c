/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Applying the compiled-in schema migrations. */
#include <errno.h>
#include <stdio.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"
#include "bokvar/db/migrate.h"

/* Serialises concurrent `bokvarctl migrate` runs: an arbitrary fixed key. */
#define MIGRATE_LOCK_KEY "7243155001"

static const char bootstrap_sql[] =
        "CREATE SCHEMA IF NOT EXISTS bokvar;\n"
        "CREATE TABLE IF NOT EXISTS bokvar.schema_migrations (\n"
        "        version integer PRIMARY KEY,\n"
        "        name text NOT NULL,\n"
        "        checksum text NOT NULL,\n"
        "        applied_at timestamptz NOT NULL DEFAULT now(),\n"
        "        applied_by text NOT NULL DEFAULT current_user\n"
        ");\n";

int migrate_expected_version(void) {
        return n_migrations > 0 ? migrations[n_migrations - 1].version : 0;
}

int migrate_check_schema(PGconn *conn) {
        int expected = migrate_expected_version(), have = 0, r;
        char line[512];

        r = db_schema_version(conn, &have);
        if (r == -ENOENT)
                return log_error_errno(ESTALE, "The database has no bokvar schema yet; run `bokvarctl migrate`.");
        if (r < 0)
                return log_error_errno(EIO, "Cannot read the schema version: %s",
                                       db_error_line(conn, NULL, line, sizeof line));
        if (have < expected)
                return log_error_errno(ESTALE,
                                       "The database schema is version %d, older than the %d this binary expects; "
                                       "run `bokvarctl migrate`.",
                                       have, expected);
        if (have > expected)
                return log_error_errno(EPROTO,
                                       "The database schema is version %d, newer than the %d this binary knows; "
                                       "upgrade bokvar, or point it at another database.",
                                       have, expected);
        return 0;
}

/* Checks that migrations already applied are the ones this binary carries. */
static int check_applied(PGconn *conn) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = db_exec(conn, &res, "SELECT version, checksum FROM bokvar.schema_migrations ORDER BY version", 0, NULL);
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++) {
                int v = atoi(PQgetvalue(res, i, 0));

                for (size_t m = 0; m < n_migrations; m++) {
                        _cleanup_pgresult_ PGresult *sum = NULL;
                        const char *p[1] = { migrations[m].sql };

                        if (migrations[m].version != v)
                                continue;
                        r = db_exec(conn, &sum, "SELECT md5($1)", 1, p);
                        if (r < 0)
                                return r;
                        if (!streq(PQgetvalue(sum, 0, 0), PQgetvalue(res, i, 1)))
                                log_warning("Migration %s differs from the one applied on this database; "
                                            "the schema may not be what this binary expects.",
                                            migrations[m].name);
                }
        }
        return 0;
}

/* This database's group roles and their privileges (bokvar.access_setup,
 * sql/006_access.sql), on every run: roles an administrator created since the
 * last run get their privileges now. What the migrating role could not do
 * is logged as the statements an administrator runs. */
static int access_setup(PGconn *conn) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = db_exec(conn, &res, "SELECT to_regprocedure('bokvar.access_setup()') IS NOT NULL", 0, NULL);
        if (r < 0 || !streq(PQgetvalue(res, 0, 0), "t"))
                return r;
        PQclear(TAKE_PTR(res));
        r = db_exec(conn, &res, "SELECT unnest(bokvar.access_setup())", 0, NULL);
        if (r < 0)
                return r;
        if (PQntuples(res) > 0)
                log_warning("The roles of this database are not complete; as a database administrator (psql as "
                            "postgres, say), run:");
        for (int i = 0; i < PQntuples(res); i++)
                log_warning("  %s", PQgetvalue(res, i, 0));
        return 0;
}

int migrate_check_owner(PGconn *conn, bool must_be_owner) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = db_exec(conn, &res,
                    "SELECT r.rolname, r.rolsuper, r.rolname = session_user, session_user "
                    "FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'bokvar'",
                    0, NULL);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return 0;
        if (streq(PQgetvalue(res, 0, 1), "t"))
                log_warning("The bokvar schema belongs to %s, a superuser. Superusers are never held to row-level "
                            "security, so the views and functions bokvar gives people would show each of them every "
                            "household. Let a role of its own, no superuser, own the database and run `bokvarctl "
                            "migrate` (see the README).",
                            PQgetvalue(res, 0, 0));
        if (must_be_owner && !streq(PQgetvalue(res, 0, 2), "t"))
                return log_error_errno(EPERM,
                                       "Connected as %s, but the bokvar schema belongs to %s: bokvard connects as the "
                                       "schema's owner (anyone else sees only what their actor may).",
                                       PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 0));
        return 0;
}

int migrate_apply(PGconn *conn, size_t *ret_applied) {
        size_t applied = 0;
        int have = 0, r;

        r = db_exec(conn, NULL, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL);
        if (r < 0)
                return r;
        r = db_exec_script(conn, bootstrap_sql);
        if (r < 0)
                goto finish;
        r = db_schema_version(conn, &have);
        if (r < 0)
                goto finish;
        if (have > migrate_expected_version()) {
                r = log_error_errno(EPROTO,
                                    "The database schema is version %d, newer than the %d this binary knows; "
                                    "refusing to migrate. Use a newer bokvarctl.",
                                    have, migrate_expected_version());
                goto finish;
        }
        r = check_applied(conn);
        if (r < 0)
                goto finish;

        for (size_t i = 0; i < n_migrations; i++) {
                const struct migration *m = &migrations[i];
                char version[16];
                const char *p[3] = { version, m->name, m->sql };
                PGresult *res;
                char line[512];

                if (m->version <= have)
                        continue;
                (void) snprintf(version, sizeof version, "%d", m->version);
                r = db_exec(conn, NULL, "BEGIN", 0, NULL);
                if (r < 0)
                        goto finish;
                /* A file of several statements needs the simple query protocol. */
                res = PQexec(conn, m->sql);
                if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
                        r = log_error_errno(EIO, "Migration %s failed, nothing of it was applied: %s", m->name,
                                            db_error_line(conn, res, line, sizeof line));
                        PQclear(res);
                        (void) db_exec(conn, NULL, "ROLLBACK", 0, NULL);
                        goto finish;
                }
                PQclear(res);
                r = db_exec(conn, NULL,
                            "INSERT INTO bokvar.schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                            3, p);
                if (r >= 0)
                        r = db_exec(conn, NULL, "COMMIT", 0, NULL);
                if (r < 0) {
                        (void) db_exec(conn, NULL, "ROLLBACK", 0, NULL);
                        goto finish;
                }
                log_info("Applied migration %s.", m->name);
                applied++;
        }
        r = access_setup(conn);
        if (r < 0)
                goto finish;
        r = migrate_check_owner(conn, false);
        if (r < 0)
                goto finish;
        if (ret_applied)
                *ret_applied = applied;
finish:
        (void) db_exec(conn, NULL, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", 0, NULL);
        return r;
}
