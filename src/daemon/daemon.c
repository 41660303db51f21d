/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvard's event loop: signals, watchdog, reload, stop. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/daemon/daemon.h"
#include "bokvar/db/db.h"
#include "bokvar/db/migrate.h"

static usec_t now_monotonic(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

/* Sends STATUS= to the service manager (and logs it at debug level),
 * naming every feed whose last fetch failed, so that `systemctl status`
 * shows a feed that keeps failing whatever else happened last. */
static void notify_status(struct daemon *d, const char *fmt, ...) _printf_(2, 3);
static void notify_status(struct daemon *d, const char *fmt, ...) {
        _cleanup_(buf_free) struct buf b = {};
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = buf_vprintf(&b, fmt, ap);
        va_end(ap);
        for (size_t i = 0; r >= 0 && i < d->n_failing; i++)
                r = buf_printf(&b, "%s%s (%d time%s)", i ? ", " : "; failing: ", d->failing[i].name,
                               d->failing[i].failures, d->failing[i].failures == 1 ? "" : "s");
        if (r < 0)
                return;
        (void) sd_notifyf(false, "STATUS=%s", b.data);
        log_debug("Status: %s", b.data);
}

/* Keeps the list of failing feeds: a failed fetch adds or counts, a good
 * one removes. */
static void note_failing(struct daemon *d, const char *feed, bool ok, int failures) {
        size_t i;

        for (i = 0; i < d->n_failing; i++)
                if (streq(d->failing[i].name, feed))
                        break;
        if (ok) {
                if (i < d->n_failing) {
                        free(d->failing[i].name);
                        d->failing[i] = d->failing[--d->n_failing];
                }
                return;
        }
        if (i == d->n_failing) {
                struct failing_feed *grown = reallocarray(d->failing, d->n_failing + 1, sizeof *grown);
                char *name = strdup(feed);

                if (!grown || !name) {
                        free(name);
                        if (grown)
                                d->failing = grown;
                        log_oom();
                        return;
                }
                d->failing = grown;
                d->failing[d->n_failing++] = (struct failing_feed){ .name = name };
        }
        d->failing[i].failures = MAX(failures, 1);
}

/* Feeds gone from the configuration are no longer failing. */
static void forget_unconfigured(struct daemon *d) {
        for (size_t i = 0; i < d->n_failing;) {
                bool configured = false;

                for (size_t j = 0; j < d->config->n_feeds; j++)
                        configured = configured || streq(d->config->feeds[j].name, d->failing[i].name);
                if (configured) {
                        i++;
                        continue;
                }
                free(d->failing[i].name);
                d->failing[i] = d->failing[--d->n_failing];
        }
}

/* Logs every diagnostic of a failed configuration load. */
static void log_diag(const struct diag *dg) {
        for (size_t i = 0; i < dg->n; i++)
                log_full_errno(LOG_ERR, 0, LOG_FIELDS({ "CONFIG_ERROR", dg->messages[i] }), "%s", dg->messages[i]);
}

static int load_config(const char *path, struct config **ret, struct diag *dg) {
        return config_load(path, CONFIG_LOAD_CREDENTIALS | CONFIG_CHECK_FILES, ret, dg);
}

/* Re-reads the configuration; an invalid one leaves the running one in place. */
static void daemon_reload(struct daemon *d) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct diag dg = {};
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading %s",
                          (unsigned long long) now_monotonic(), d->config_path);
        log_info("Reloading configuration from %s.", d->config_path);

        r = load_config(d->config_path, &c, &dg);
        if (r < 0) {
                log_diag(&dg);
                log_error("Reload failed (%zu error%s); keeping the previous configuration.", dg.n,
                          dg.n == 1 ? "" : "s");
                notify_status(d, "Reload failed, keeping previous configuration: %s",
                              dg.n > 0 ? dg.messages[0] : strerror(-r));
                diag_free(&dg);
                (void) sd_notify(false, "READY=1");
                return;
        }
        if (!streq_ptr(c->database, d->config->database))
                log_warning("database: changed in %s; the new connection string takes effect after a restart.",
                            d->config_path);
        log_set_max_level(d->log_level_override >= 0 ? d->log_level_override : c->log_level);
        if (d->feeds) {
                r = feeds_reconfigure(d->feeds, c);
                if (r < 0)
                        log_error_errno(r, "Cannot apply the new feeds: %m");
        }
        /* New rules become a new version, and everything is rescored. */
        syncer_apply(d->syncer, c, false);
        dispatcher_reconfigure(d->dispatcher, c);
        config_unref(d->config);
        d->config = TAKE_PTR(c);
        forget_unconfigured(d);
        log_info("Configuration reloaded.");
        notify_status(d, "Running; configuration reloaded");
        (void) sd_notify(false, "READY=1");
}

static int on_sighup(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata) {
        daemon_reload(userdata);
        return 0;
}

/* Stopped sending: everything claimed is recorded or given back. */
static void on_dispatch_stopped(void *userdata) {
        struct daemon *d = userdata;

        (void) sd_event_exit(d->event, d->once ? EXIT_FAIL : EXIT_OK);
}

static int on_sigterm(sd_event_source *s _unused_, const struct signalfd_siginfo *si, void *userdata) {
        struct daemon *d = userdata;
        const char *name = si->ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";

        if (d->stopping) {
                log_info("Received %s again, stopping now.", name);
                return sd_event_exit(d->event, d->once ? EXIT_FAIL : EXIT_OK);
        }
        d->stopping = true;
        log_info("Received %s, stopping%s.", name, d->once ? " before the pass is done" : "");
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping: finishing the sends in flight");
        dispatcher_stop(d->dispatcher, on_dispatch_stopped, d);
        return 0;
}

/* After every fetch: the journal has the details, STATUS= the latest and
 * the feeds that are failing. */
static void on_fetched(const struct fetch_result *r, void *userdata) {
        struct daemon *d = userdata;

        note_failing(d, r->feed, r->ok, r->failures);
        if (!r->ok)
                notify_status(d, "Feed %s failed: %s; will retry", r->feed, r->error);
        else if (r->not_modified)
                notify_status(d, "Feed %s: not modified (%.1fs)", r->feed, r->seconds);
        else
                notify_status(d, "Feed %s: %lld rows, %lld accepted, %lld updated, %lld duplicate, %lld quarantined (%.1fs)",
                              r->feed, (long long) r->rows_read, (long long) r->accepted, (long long) r->updated,
                              (long long) r->duplicate, (long long) r->quarantined, r->seconds);
}

static void once_finish(struct daemon *d) {
        d->phase = PHASE_DONE;
        d->exit_status = d->once_ok ? EXIT_OK : EXIT_FAIL;
        (void) sd_notify(false, "STOPPING=1\nSTATUS=One pass done, stopping");
        (void) sd_event_exit(d->event, d->exit_status);
}

/* With --once: every feed had its round; bring the scores up to date. */
static void on_all_fetched(bool all_ok, void *userdata) {
        struct daemon *d = userdata;

        if (!all_ok) {
                d->once_ok = false;
                log_error("Not every feed could be fetched and ingested; see above.");
        }
        if (d->stopping)
                return;
        d->phase = PHASE_RESCORE;
        notify_status(d, "Rescoring");
        syncer_daily(d->syncer);
}

static int start_feeds(struct daemon *d) {
        const struct feeds_callbacks cb = {
                .fetched = on_fetched,
                .all_done = on_all_fetched,
                .userdata = d,
        };
        int r;

        d->phase = PHASE_FEEDS;
        r = feeds_new(d->event, d->glue, d->config, d->once, &cb, &d->feeds);
        if (r < 0)
                return log_error_errno(r, "Cannot start polling the feeds: %m");
        return 0;
}

/* With --once: everything due is sent (or failed and waits for a retry). */
static void on_drained(bool ok, const struct dispatch_stats *st, void *userdata) {
        struct daemon *d = userdata;

        log_info("Dispatch: %llu delivered, %llu to retry later, %llu dead letters.",
                 (unsigned long long) st->delivered, (unsigned long long) st->retried,
                 (unsigned long long) st->dead);
        if (!ok) {
                log_error("Dispatch could not finish: a database error, see above.");
                d->once_ok = false;
        } else if (st->retried > 0 || st->dead > 0) {
                log_error("Not every event could be delivered; see above and `bokvarctl outbox`.");
                d->once_ok = false;
        }
        once_finish(d);
}

/* A sync job is done: teams stored, rules loaded, households rescored. */
static void on_synced(bool ok, const char *what, void *userdata) {
        struct daemon *d = userdata;

        if (ok) {
                log_info("Scoring: %s.", what);
                notify_status(d, "Scoring: %s", what);
        } else {
                log_error("Scoring failed: %s%s.", what, d->once ? "" : "; it will be tried again");
                notify_status(d, "Scoring failed: %s", what);
                if (d->once)
                        d->once_ok = false;
        }
        if (d->phase == PHASE_RULES) {
                if (d->stopping)
                        return;
                if (start_feeds(d) < 0) {
                        d->once_ok = false;
                        (void) sd_event_exit(d->event, EXIT_FAIL);
                }
                return;
        }
        if (d->phase == PHASE_RESCORE && d->once && syncer_idle(d->syncer) && !d->stopping) {
                d->phase = PHASE_DISPATCH;
                notify_status(d, "Sending what is due");
                (void) dispatcher_drain(d->dispatcher, on_drained, d);
        }
}

/* A long rescore's progress, for `systemctl status`. */
static void on_sync_progress(const char *line, void *userdata) {
        notify_status(userdata, "Scoring: %s", line);
}

/* Makes sure every configured feed has its row, outside any fetch, so that
 * two daemons starting together never wait on each other's first insert. */
static int register_feeds(PGconn *conn, const struct config *c) {
        for (size_t i = 0; i < c->n_feeds; i++) {
                const char *p[2] = { c->feeds[i].name, feed_source_names[c->feeds[i].source] };

                if (db_exec(conn, NULL,
                            "INSERT INTO bokvar.feed (name, source) VALUES ($1, $2::bokvar.feed_source) "
                            "ON CONFLICT (name) DO NOTHING",
                            2, p) < 0)
                        return -EIO;
        }
        return 0;
}

int daemon_start(const char *config_path, bool once, int log_level_override, struct daemon **ret) {
        _cleanup_(daemon_freep) struct daemon *d = NULL;
        _cleanup_pgconn_ PGconn *conn = NULL;
        struct diag dg = {};
        sigset_t mask;
        int r;

        d = calloc(1, sizeof *d);
        if (!d || !(d->config_path = strdup(config_path)))
                return log_oom(), EXIT_FAIL;
        d->once = once;
        d->log_level_override = log_level_override;

        r = load_config(config_path, &d->config, &dg);
        if (r < 0) {
                log_diag(&dg);
                log_error("Configuration %s is invalid (%zu error%s); not starting.", config_path, dg.n,
                          dg.n == 1 ? "" : "s");
                diag_free(&dg);
                return EXIT_FAIL;
        }
        log_set_max_level(log_level_override >= 0 ? log_level_override : d->config->log_level);

        r = db_connect(d->config, "bokvard", &conn);
        if (r < 0)
                return EXIT_DATABASE;
        r = migrate_check_owner(conn, true);
        if (r == -EIO)
                return EXIT_DATABASE;
        if (r < 0)
                return EXIT_FAIL;
        r = migrate_check_schema(conn);
        if (r == -EIO)
                return EXIT_DATABASE;
        if (r < 0)
                return EXIT_SCHEMA;
        if (register_feeds(conn, d->config) < 0)
                return EXIT_DATABASE;

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m"), EXIT_FAIL;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Cannot block signals: %m"), EXIT_FAIL;
        if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_sigterm, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGINT, on_sigterm, d)) < 0 ||
            (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d)) < 0)
                return log_error_errno(r, "Cannot watch signals: %m"), EXIT_FAIL;
        /* Pings the watchdog from the loop when WatchdogSec= is set: a hung
         * loop is restarted by systemd. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the watchdog: %m"), EXIT_FAIL;
        r = curl_glue_new(d->event, &d->glue);
        if (r < 0)
                return log_error_errno(r, "Cannot set up libcurl: %m"), EXIT_FAIL;
        r = syncer_new(d->event, d->config, on_synced, d, &d->syncer);
        if (r < 0)
                return log_error_errno(r, "Cannot set up scoring: %m"), EXIT_FAIL;
        syncer_on_progress(d->syncer, on_sync_progress);
        /* Running for good, a failed job is tried again; one pass reports it. */
        syncer_retry_failed(d->syncer, !once);
        r = dispatcher_new(d->event, d->glue, d->config, &d->dispatcher);
        if (r < 0)
                return log_error_errno(r, "Cannot set up dispatch: %m"), EXIT_FAIL;

        *ret = TAKE_PTR(d);
        return EXIT_OK;
}

int daemon_run(struct daemon *d) {
        int r;

        /* The rules first, so that the first ingests score under them; then
         * the feeds (on_synced starts them). */
        d->once_ok = true;
        d->phase = PHASE_RULES;
        syncer_apply(d->syncer, d->config, false);
        /* Outreach goes out as soon as it is due; with --once, at the end. */
        if (!d->once)
                (void) dispatcher_start(d->dispatcher);
        (void) sd_notify(false, "READY=1\nSTATUS=Running");
        log_info("bokvard started (config %s%s).", d->config_path, d->once ? ", one pass" : "");

        r = sd_event_loop(d->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAIL;
        log_info("bokvard stopped.");
        return r;
}

struct daemon *daemon_free(struct daemon *d) {
        if (!d)
                return NULL;
        feeds_free(d->feeds);
        syncer_free(d->syncer);
        dispatcher_free(d->dispatcher);
        curl_glue_free(d->glue);
        sd_event_unref(d->event);
        config_unref(d->config);
        free(d->config_path);
        for (size_t i = 0; i < d->n_failing; i++)
                free(d->failing[i].name);
        free(d->failing);
        return mfree(d);
}
