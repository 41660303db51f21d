/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Blocking database helpers: connect, schema check, checked statements. */
#include <errno.h>
#include <string.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"

void db_connect_params(const struct config *c, const char *application_name, const char *keys[static DB_PARAMS_MAX],
                       const char *values[static DB_PARAMS_MAX]) {
        size_t n = 0;

        /* A server that vanishes without a word (a failover, a dropped NAT
         * mapping) is noticed within a minute, not after TCP's quarter of an
         * hour of retransmissions. Before dbname, so that the connection
         * string may say otherwise; no effect over a Unix socket. */
        keys[n] = "keepalives_idle";
        values[n++] = "30";
        keys[n] = "keepalives_interval";
        values[n++] = "10";
        keys[n] = "keepalives_count";
        values[n++] = "3";
        keys[n] = "tcp_user_timeout";
        values[n++] = "60000";
        /* JIT compiles a plan in a few hundred milliseconds; bokvar's
         * statements are set-based and planned for what they touch, and a
         * small ingest would wait on the compiler longer than on the work.
         * A statement whose client died (kill -9) stops within seconds
         * instead of running on with its locks. */
        keys[n] = "options";
        values[n++] = "-c jit=off -c client_connection_check_interval=2s";
        /* dbname is expanded as a full conninfo string or URI; left out, the
         * PG* environment variables and libpq's defaults apply. */
        if (c && c->database) {
                keys[n] = "dbname";
                values[n++] = c->database;
        }
        if (c && c->database_password.value) {
                keys[n] = "password";
                values[n++] = c->database_password.value;
        }
        keys[n] = "fallback_application_name";
        values[n++] = application_name;
        keys[n] = NULL;
        values[n] = NULL;
}

char *db_value_or_null(const PGresult *res, int row, int column) {
        return PQgetisnull(res, row, column) ? NULL : strdup(PQgetvalue(res, row, column));
}

const char *db_error_line(PGconn *conn, const PGresult *res, char *buf, size_t size) {
        const char *m = res ? PQresultErrorMessage(res) : NULL;
        size_t l;

        if (isempty(m) && conn)
                m = PQerrorMessage(conn);
        if (isempty(m))
                m = "unknown error";
        l = strcspn(m, "\n");
        if (l >= size)
                l = size - 1;
        memcpy(buf, m, l);
        buf[l] = 0;
        return buf;
}

/* Server NOTICEs ("already exists, skipping") are for debugging only. */
static void notice_to_debug(void *arg _unused_, const char *message) {
        log_debug("Database notice: %.*s", (int) strcspn(message, "\n"), message);
}

int db_connect(const struct config *c, const char *application_name, PGconn **ret) {
        const char *keys[DB_PARAMS_MAX], *values[DB_PARAMS_MAX];
        char line[512];
        PGconn *conn;

        db_connect_params(c, application_name, keys, values);
        conn = PQconnectdbParams(keys, values, 1);
        if (!conn)
                return log_oom();
        if (PQstatus(conn) != CONNECTION_OK) {
                log_error("Cannot connect to the database: %s", db_error_line(conn, NULL, line, sizeof line));
                PQfinish(conn);
                return -ECONNREFUSED;
        }
        PQsetNoticeProcessor(conn, notice_to_debug, NULL);
        *ret = conn;
        return 0;
}

int db_exec(PGconn *conn, PGresult **ret, const char *sql, int n_params, const char *const *params) {
        PGresult *res;
        char line[512];
        ExecStatusType st;

        res = PQexecParams(conn, sql, n_params, NULL, params, NULL, NULL, 0);
        st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                log_error("Database statement failed: %s", db_error_line(conn, res, line, sizeof line));
                PQclear(res);
                return -EIO;
        }
        if (ret)
                *ret = res;
        else
                PQclear(res);
        return 0;
}

int db_exec_script(PGconn *conn, const char *sql) {
        _cleanup_pgresult_ PGresult *res = NULL;
        char line[512];

        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
                return log_error_errno(EIO, "Database statement failed: %s",
                                       db_error_line(conn, res, line, sizeof line));
        return 0;
}

int db_schema_version(PGconn *conn, int *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;

        res = PQexec(conn, "SELECT to_regclass('bokvar.schema_migrations') IS NOT NULL");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                return -EIO;
        if (!streq(PQgetvalue(res, 0, 0), "t"))
                return -ENOENT;
        PQclear(res);
        res = PQexec(conn, "SELECT coalesce(max(version), 0) FROM bokvar.schema_migrations");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                return -EIO;
        *ret = atoi(PQgetvalue(res, 0, 0));
        return 0;
}
