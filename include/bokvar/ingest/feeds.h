/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Polling the feeds: each on its own timer, fetched over libcurl (https,
 * http, sftp) or read from disk (file), streamed through a reader into
 * PostgreSQL with COPY, and ingested in the same transaction that advances
 * the feed's validators and cursor. This is the scheduler; a round's
 * transaction steps are in fetch.h, the transfer of a page in transfer.h.
 *
 * Everything runs on the caller's sd-event loop and nothing here blocks it.
 * At most max_parallel_fetches rounds run at once; each holds one database
 * connection of its own while it runs. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/config/config.h"
#include "bokvar/ingest/fetch.h"

struct feeds;

/* Called from the event loop. With once, also from inside feeds_new() and
 * feeds_reconfigure(), which start the rounds at once: fetched for a round
 * that ends as it starts (not even a database connection could be set up),
 * all_done when no round is left to wait for, or there is no feed. */
struct feeds_callbacks {
        /* After every fetch (each page of a paged feed); r is valid during
         * the call only. */
        void (*fetched)(const struct fetch_result *r, void *userdata);
        /* With once: every feed has had its round. */
        void (*all_done)(bool all_ok, void *userdata);
        void *userdata;
};

/* Starts polling every feed of config (a reference is kept; event too).
 * glue must outlive the feeds. With once, each feed is fetched once
 * (waiting for another process's fetch to finish instead of skipping it,
 * and whether or not it is due), and all_done says how it went. */
int feeds_new(sd_event *event, struct curl_glue *glue, struct config *config, bool once,
              const struct feeds_callbacks *cb, struct feeds **ret);
/* Stops every round under way (their transactions roll back). */
struct feeds *feeds_free(struct feeds *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct feeds *, feeds_free);

/* Takes a new configuration: added feeds start, removed ones stop after any
 * fetch under way, changed ones use it from their next round. */
int feeds_reconfigure(struct feeds *f, struct config *config);
