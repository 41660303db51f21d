/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Polling the feeds: each on its own timer, fetched over libcurl (https,
 * http, sftp) or read from disk (file), streamed through a reader into
 * PostgreSQL with COPY, and ingested in the same transaction that advances
 * the feed's validators and cursor. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bokvar/config/config.h"
#include "bokvar/basic/curl-glue.h"

struct feeds;

/* What one fetch did, for the journal and STATUS=. */
struct fetch_result {
        const char *feed;
        bool ok;
        bool skipped;         /* another process held the feed, or it was not due */
        bool not_modified;
        unsigned status;      /* HTTP status; 0 for file and sftp */
        int64_t rows_read, accepted, updated, duplicate, quarantined;
        double seconds;
        const char *error;    /* when !ok */
};

struct feeds_callbacks {
        /* After every fetch (each page of a paged feed). */
        void (*fetched)(const struct fetch_result *r, void *userdata);
        /* With once: every feed has had its round. */
        void (*all_done)(bool all_ok, void *userdata);
        void *userdata;
};

/* Starts polling every feed of config. With once, each feed is fetched once
 * (waiting for another process's fetch to finish instead of skipping it,
 * and whether or not it is due), and all_done says how it went. */
int feeds_new(sd_event *event, struct curl_glue *glue, struct config *config, bool once,
              const struct feeds_callbacks *cb, struct feeds **ret);
struct feeds *feeds_free(struct feeds *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct feeds *, feeds_free);

/* Takes a new configuration: added feeds start, removed ones stop after any
 * fetch under way, changed ones use it from their next round. */
int feeds_reconfigure(struct feeds *f, struct config *config);
