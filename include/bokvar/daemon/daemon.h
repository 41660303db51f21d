/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvard's life: start-up checks, the sd-event loop, reload and stop, and
 * what it tells systemd (READY=1, RELOADING=1, STATUS=, STOPPING=1). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/config/config.h"
#include "bokvar/daemon/sync.h"
#include "bokvar/ingest/feeds.h"
#include "bokvar/outreach/dispatch.h"

struct daemon {
        sd_event *event;
        char *config_path;
        struct config *config;
        bool once;                 /* one pass of the pipeline, then exit */
        int log_level_override;    /* --log-level, or -1 */
        int exit_status;
        struct curl_glue *glue;
        struct feeds *feeds;
        struct syncer *syncer;
        struct dispatcher *dispatcher;
        enum {
                PHASE_RULES,       /* loading the rules before anything else */
                PHASE_FEEDS,       /* polling (with once: fetching each feed once) */
                PHASE_RESCORE,     /* once: the daily rescore after the fetches */
                PHASE_DISPATCH,    /* once: sending what is due */
                PHASE_DONE,
        } phase;
        bool once_ok;              /* with once: every step succeeded so far */
        bool stopping;             /* SIGTERM came: finishing what is in flight */
        struct failing_feed {
                char *name;
                int failures;      /* failed fetches in a row */
        } *failing;                /* feeds whose last fetch failed, named in every STATUS= */
        size_t n_failing;
};

/* Loads the configuration and checks the database; logs why it cannot start
 * and returns the exit status to use, or 0. */
int daemon_start(const char *config_path, bool once, int log_level_override, struct daemon **ret);
/* Runs until stopped (or, with once, until the pass is done); returns the
 * process exit status. */
int daemon_run(struct daemon *d);
struct daemon *daemon_free(struct daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct daemon *, daemon_free);
