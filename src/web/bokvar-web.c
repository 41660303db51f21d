/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvar-web: the caseworkers' web pages, behind the municipality's
 * sign-on proxy. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "bokvar-build.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"
#include "bokvar/db/migrate.h"
#include "bokvar/web/router.h"
#include "bokvar/web/server.h"
#include "bokvar/web/web.h"

/* A form is a few kilobytes; nothing bokvar-web takes is larger. */
#define MAX_BODY (64 * 1024)
/* How long a stop waits for the pages being answered. */
#define STOP_TIMEOUT (10 * USEC_PER_SEC)

struct main_state {
        sd_event *event;
        struct web_server *server;
        struct web *web;
        bool stopping;
};

static void help(void) {
        printf("Usage: bokvar-web [OPTIONS]\n"
               "\n"
               "Serves the caseworkers' pages (the worklist, the households, their actions,\n"
               "notices registered by hand) behind the municipality's sign-on proxy.\n"
               "\n"
               "  -c, --config FILE        configuration file (default %s)\n"
               "      --listen ADDRESS     serve on a Unix socket PATH or on HOST:PORT instead\n"
               "                           of the sockets systemd passes (bokvar-web.socket)\n"
               "      --log-target TARGET  auto, journal or console (default auto)\n"
               "      --log-level LEVEL    err, warning, notice, info or debug (overrides the file)\n"
               "      --version            print the version and exit\n"
               "  -h, --help               print this help and exit\n"
               "\n"
               "Signals: SIGTERM and SIGINT stop (pages being answered are finished).\n"
               "Exit status: 0 ok (also after web.idle_exit without requests), 1 failure or\n"
               "invalid configuration, 2 usage, 3 database unreachable, 4 schema mismatch.\n",
               CONFIG_DEFAULT_PATH);
}

static void on_stopped(void *userdata) {
        struct main_state *m = userdata;

        (void) sd_event_exit(m->event, EXIT_OK);
}

static int on_stop_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        struct main_state *m = userdata;

        log_warning("Pages still being answered after %llu s; stopping anyway.",
                    (unsigned long long) (STOP_TIMEOUT / USEC_PER_SEC));
        (void) sd_event_exit(m->event, EXIT_OK);
        return 0;
}

static int on_sigterm(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        struct main_state *m = userdata;
        uint64_t now;

        if (m->stopping)
                return sd_event_exit(m->event, EXIT_OK);
        m->stopping = true;
        log_info("Stopping: finishing the pages being answered.");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        if (sd_event_now(m->event, CLOCK_MONOTONIC, &now) >= 0)
                (void) sd_event_add_time(m->event, NULL, CLOCK_MONOTONIC, now + STOP_TIMEOUT, USEC_PER_SEC,
                                         on_stop_timeout, m);
        web_server_stop(m->server, on_stopped, m);
        return 0;
}

static void on_idle(void *userdata) {
        struct main_state *m = userdata;

        (void) sd_notify(false, "STOPPING=1\nSTATUS=Idle, exiting");
        (void) sd_event_exit(m->event, EXIT_OK);
}

/* The web service connects with its own role (web.database), which may act
 * for signed-on people and nothing else. */
static int use_web_database(struct config *c) {
        if (c->web.database) {
                free(c->database);
                c->database = strdup(c->web.database);
                if (!c->database)
                        return -ENOMEM;
                secret_done(&c->database_password);
                c->database_password = c->web.database_password;
                c->web.database_password = (struct secret){};
        }
        return 0;
}

static int trusted_uids(const struct config *c, uid_t **ret, size_t *ret_n) {
        size_t n = strv_length(c->web.trusted_users);
        _cleanup_free_ uid_t *uids = NULL;

        if (n == 0) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        uids = calloc(n, sizeof *uids);
        if (!uids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const struct passwd *pw = getpwnam(c->web.trusted_users[i]);

                if (!pw)
                        return log_error_errno(ENOENT, "web.trusted_users: no user '%s' on this system.",
                                               c->web.trusted_users[i]);
                uids[i] = pw->pw_uid;
        }
        *ret = TAKE_PTR(uids);
        *ret_n = n;
        return 0;
}

static int run(const char *config_path, const char *listen, int level) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        _cleanup_pgconn_ PGconn *conn = NULL;
        _cleanup_free_ uid_t *uids = NULL;
        _cleanup_free_ int *fds = NULL;
        struct main_state m = {};
        struct diag dg = {};
        size_t n_fds = 0, n_uids = 0;
        sigset_t mask;
        int r, status = EXIT_FAIL;

        r = config_load(config_path, CONFIG_LOAD_WEB_CREDENTIALS, &c, &dg);
        if (r < 0) {
                for (size_t i = 0; i < dg.n; i++)
                        log_full_errno(LOG_ERR, 0, LOG_FIELDS({ "CONFIG_ERROR", dg.messages[i] }), "%s",
                                       dg.messages[i]);
                log_error("Configuration %s is invalid (%zu error%s); not starting.", config_path, dg.n,
                          dg.n == 1 ? "" : "s");
                diag_free(&dg);
                return EXIT_FAIL;
        }
        log_set_max_level(level >= 0 ? level : c->log_level);
        if (use_web_database(c) < 0 || trusted_uids(c, &uids, &n_uids) < 0)
                return EXIT_FAIL;

        r = db_connect(c, "bokvar-web", &conn);
        if (r < 0)
                return EXIT_DATABASE;
        r = migrate_check_schema(conn);
        if (r < 0)
                return r == -EIO ? EXIT_DATABASE : EXIT_SCHEMA;
        PQfinish(TAKE_PTR(conn));

        if (web_listen(listen, &fds, &n_fds) < 0)
                return EXIT_FAIL;

        r = sd_event_default(&m.event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m"), EXIT_FAIL;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                log_error_errno(errno, "Cannot block signals: %m");
                goto finish;
        }
        if ((r = sd_event_add_signal(m.event, NULL, SIGTERM, on_sigterm, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_sigterm, &m)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                log_error_errno(r, "Cannot set up the event loop: %m");
                goto finish;
        }
        if (web_new(m.event, c, &m.web) < 0)
                goto finish;
        {
                const struct web_server_options o = {
                        .identity_header = c->web.identity_header ? c->web.identity_header
                                                                  : WEB_IDENTITY_HEADER_DEFAULT,
                        .trusted_uids = uids,
                        .n_trusted_uids = n_uids,
                        .idle_exit = c->web.idle_exit,
                        .max_body = MAX_BODY,
                        .idle = on_idle,
                        .idle_userdata = &m,
                };

                r = web_server_new(m.event, &o, fds, n_fds, router_handle, m.web, &m.server);
                if (r < 0)
                        goto finish;
                /* The server owns the sockets now. */
                fds = mfree(fds);
        }

        (void) sd_notify(false, "READY=1\nSTATUS=Serving");
        log_info("bokvar-web started (config %s).", config_path);
        r = sd_event_loop(m.event);
        status = r < 0 ? EXIT_FAIL : r;
        log_info("bokvar-web stopped.");
finish:
        /* Pages still waiting for the database are answered 503 before the
         * server goes, which needs every connection resumed. */
        if (m.web)
                db_pool_abort(m.web->pool);
        web_server_free(m.server);
        web_free(m.web);
        sd_event_unref(m.event);
        return status;
}

int main(int argc, char *argv[]) {
        enum { ARG_LISTEN = 0x100, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        enum log_target target = LOG_TARGET_AUTO;
        const char *config = CONFIG_DEFAULT_PATH, *listen = NULL;
        int c, level = -1, r;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case ARG_LISTEN:
                        listen = optarg;
                        break;
                case ARG_LOG_TARGET:
                        if (log_target_from_string(optarg, &target) < 0) {
                                fprintf(stderr, "bokvar-web: unknown log target '%s' (auto, journal, console)\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_LOG_LEVEL:
                        if (log_level_from_string(optarg, &level) < 0) {
                                fprintf(stderr, "bokvar-web: unknown log level '%s'\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_VERSION:
                        printf("bokvar-web %s\n", BOKVAR_VERSION);
                        return EXIT_OK;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'bokvar-web --help'.\n");
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "bokvar-web: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        log_setup("bokvar-web", target);
        r = run(config, listen, level);
        l10n_done();
        return r;
}
