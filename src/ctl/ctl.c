/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What bokvarctl's commands share: loading the configuration and connecting
 * once (as the invoking user), option parsing, queries and their errors,
 * choices from a vocabulary. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/db/migrate.h"
#include "bokvar/ingest/identity.h"

int ctl_config(struct ctl *ctl) {
        struct diag d = {};
        unsigned flags = CONFIG_CHECK_FILES;
        int r;

        if (ctl->config)
                return EXIT_OK;
        if (!ctl->config_explicit && access(ctl->config_path, R_OK) < 0 && (errno == ENOENT || errno == EACCES)) {
                /* No configuration, or one for the bokvar group only (a
                 * caseworker's case): libpq's environment, else the service
                 * "bokvar" of the system's pg_service.conf. */
                ctl->config = config_new();
                if (!ctl->config)
                        return log_oom(), EXIT_FAIL;
                if (isempty(getenv("PGSERVICE")) && isempty(getenv("PGDATABASE")) &&
                    !(ctl->config->database = strdup("service=bokvar")))
                        return log_oom(), EXIT_FAIL;
                return EXIT_OK;
        }
        if (!isempty(getenv("CREDENTIALS_DIRECTORY")))
                flags |= CONFIG_LOAD_CREDENTIALS;
        r = config_load(ctl->config_path, flags, &ctl->config, &d);
        if (r < 0) {
                diag_print(&d, stderr);
                diag_free(&d);
                return EXIT_FAIL;
        }
        return EXIT_OK;
}

int ctl_connect(struct ctl *ctl, bool check_schema) {
        int r;

        if (ctl->conn)
                return EXIT_OK;
        r = ctl_config(ctl);
        if (r != EXIT_OK)
                return r;
        if (db_connect(ctl->config, "bokvarctl", &ctl->conn) < 0)
                return EXIT_DATABASE;
        if (check_schema) {
                r = migrate_check_schema(ctl->conn);
                if (r < 0)
                        return r == -EIO ? EXIT_DATABASE : EXIT_SCHEMA;
        }
        return EXIT_OK;
}

int ctl_query(struct ctl *ctl, PGresult **ret, const char *sql, int n, const char *const *params) {
        return ctl_call(ctl, ret, NULL, sql, n, params);
}

int ctl_identity_number(struct ctl *ctl, const char *verb, const char *text, int status, char *id) {
        _cleanup_pgresult_ PGresult *day = NULL;
        char problem[256];
        int r;

        /* The database's day decides which century a Swedish number's is. */
        r = ctl_query(ctl, &day, "SELECT current_date - DATE '2000-01-01'", 0, NULL);
        if (r != EXIT_OK)
                return r;
        if (identity_number(text, (day_t) atoi(PQgetvalue(day, 0, 0)), NULL, id, problem, sizeof problem) != 0) {
                fprintf(stderr, "bokvarctl %s: that is not a valid identity number: %s%s\n", verb,
                        startswith(problem, "is ") ? "it " : "", problem);
                return status;
        }
        return -1;
}

int ctl_read_number(const char *verb, char *buf, size_t size) {
        struct termios shown, hidden;
        bool tty, got;

        /* Typed at a terminal, the number is asked for and not echoed: it
         * stays off the screen as well as out of the history. */
        tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &shown) >= 0;
        if (tty) {
                hidden = shown;
                hidden.c_lflag &= ~(tcflag_t) ECHO;
                hidden.c_lflag |= ECHONL;
                tty = tcsetattr(STDIN_FILENO, TCSAFLUSH, &hidden) >= 0;
                /* Asked once the echo is off: what is typed after the question is hidden. */
                fputs(_("Identity number (not shown): "), stderr);
                fflush(stderr);
        }
        got = fgets(buf, (int) size, stdin);
        if (tty)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &shown);
        if (!got) {
                fprintf(stderr, "bokvarctl %s: no identity number on standard input\n", verb);
                return EXIT_USAGE;
        }
        buf[strcspn(buf, "\r\n")] = 0;
        return -1;
}

bool ctl_valid_id(const char *s) {
        return s[0] && strlen(s) <= 18 && strspn(s, "0123456789") == strlen(s);
}

int ctl_parse_options(struct ctl *ctl, int argc, char *argv[], const struct option *options, const char *usage,
                      int (*on_option)(int c, const char *arg, void *userdata), void *userdata) {
        struct option all[32];
        size_t n = 0;
        int c;

        all[n++] = (struct option){ "json", no_argument, NULL, 'J' };
        all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
        for (const struct option *o = options; o && o->name && n + 1 < ELEMENTSOF(all); o++)
                all[n++] = *o;
        all[n] = (struct option){};

        /* Options may come anywhere after the command: they are permuted
         * before its arguments, which start at optind afterwards. */
        optind = 0;
        while ((c = getopt_long(argc, argv, "h", all, NULL)) >= 0) {
                int r;

                switch (c) {
                case 'J':
                        ctl->json = true;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                case '?':
                        fprintf(stderr, "Try 'bokvarctl %s --help'.\n", argv[0]);
                        return EXIT_USAGE;
                default:
                        r = on_option ? on_option(c, optarg, userdata) : EXIT_USAGE;
                        if (r >= 0)
                                return r;
                }
        }
        return -1;
}

int ctl_string_option(int c _unused_, const char *arg, void *userdata) {
        *(const char **) userdata = arg;
        return -1;
}

int ctl_no_arguments(int argc, char *argv[]) {
        if (optind < argc) {
                fprintf(stderr, "bokvarctl %s: unexpected argument '%s'\n", argv[0], argv[optind]);
                return EXIT_USAGE;
        }
        return -1;
}

int ctl_print_query(struct ctl *ctl, const char *sql, int n, const char *const *params) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_query(ctl, &res, sql, n, params);
        if (r != EXIT_OK)
                return r;
        output_result(stdout, res, ctl->json);
        return EXIT_OK;
}

bool ctl_one_of(const char *s, const char *const *l) {
        for (; *l; l++)
                if (streq(s, *l))
                        return true;
        return false;
}

void ctl_print_choices(FILE *f, const char *const *l) {
        for (size_t i = 0; l[i]; i++)
                fprintf(f, "%s%s", i ? ", " : "", l[i]);
}

char *ctl_choices(const char *const *l, const char *sep) {
        struct buf b = {};

        for (size_t i = 0; l[i]; i++)
                if (buf_printf(&b, "%s%s", i ? sep : "", l[i]) < 0) {
                        buf_free(&b);
                        return NULL;
                }
        return buf_steal(&b);
}

int ctl_call(struct ctl *ctl, PGresult **ret, const char *verb, const char *sql, int n, const char *const *params) {
        PGresult *res = PQexecParams(ctl->conn, sql, n, NULL, params, NULL, NULL, 0);
        const char *state, *msg;
        char line[256];
        int r;

        if (res && (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK)) {
                if (ret)
                        *ret = res;
                else
                        PQclear(res);
                return EXIT_OK;
        }
        state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        /* Not found; refused (not allowed to, closed already); input the
         * database could not take (a time that is none, say). */
        r = streq_ptr(state, "P0002")                                              ? EXIT_NOT_FOUND
            : streq_ptr(state, "42501") || (state && startswith(state, "22")) ? EXIT_FAIL
                                                                                   : EXIT_DATABASE;
        msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
        if (!msg)
                msg = db_error_line(ctl->conn, res, line, sizeof line);
        /* A privilege only another function has: say how to see one's own
         * (bokvar's own refusals already say who may). */
        fprintf(stderr, "bokvarctl%s%s: %s%s\n", verb ? " " : "", verb ? verb : "", msg,
                streq_ptr(state, "42501") && !strstr(msg, " may ") ? " (not for your function; `bokvarctl whoami`)" : "");
        PQclear(res);
        return r;
}

void ctl_sentence_internal(FILE *f, const char *fmt, const char *const *args) {
        _cleanup_free_ char *s = NULL;

        if (l10n_format(fmt, args, &s) < 0) {
                /* A translation with a conversion l10n_format does not take:
                 * the English of the source is no better; say so plainly. */
                fprintf(f, "(%s)\n", fmt);
                return;
        }
        output_text(f, s);
        fputc('\n', f);
}
