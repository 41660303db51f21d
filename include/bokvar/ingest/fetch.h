/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One round of one feed: the transaction steps that take its body into
 * PostgreSQL, page by page, each page a transaction of its own:
 *
 *   connect → session set-up → BEGIN → bokvar.feed_claim() → SAVEPOINT →
 *   bokvar.stage_create() → COPY while the transfer runs →
 *   bokvar.ingest_fetch() → COMMIT
 *
 * or, when the transfer or the ingest fails, ROLLBACK TO SAVEPOINT →
 * bokvar.feed_failed() → COMMIT. A drop folder (dropdir.h) is listed
 * first, and each ready file is a page; a local file goes to done/ after
 * its page's COMMIT. The scheduler (feeds.c) owns each struct round and
 * decides when a round starts; the round tells it, through round_ops, what each page
 * committed and how the round ended. Everything runs on the event loop;
 * nothing here blocks. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/config/config.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/ingest/dropdir.h"
#include "bokvar/ingest/transfer.h"

/* What one fetch did, for the journal and STATUS=. */
struct fetch_result {
        const char *feed;
        bool ok;
        bool skipped;         /* another process held the feed, or it was not due */
        bool not_modified;
        unsigned status;      /* HTTP status; 0 for file and sftp */
        int64_t rows_read, accepted, updated, duplicate, quarantined;
        int64_t filtered;     /* outside a regional feed's area (only:), counted in rows_read */
        double seconds;
        const char *error;    /* when !ok */
        int failures;         /* when !ok: failed fetches in a row, this one included */
};

enum round_end {
        ROUND_COMMITTED,      /* the last page's ingest, or its failure, is committed */
        ROUND_SKIPPED,        /* another process holds the feed, or it is not due */
        ROUND_ABORTED,        /* no database, or a statement failed: this page left no trace */
};

/* How a round reports to its scheduler. res is logged to the journal
 * before the call, and is valid during it only. */
struct round_ops {
        /* A page was committed and the next page follows. */
        void (*page_committed)(const struct fetch_result *res, void *userdata);
        /* The round is over. The round still holds its connection and state
         * (the feed's configuration, for the next interval): the scheduler
         * lets go of them with fetch_round_reset() or frees the round.
         * Called once per fetch_round_start(): from the event loop, or from
         * inside fetch_round_start() when not even the connection can be
         * set up. */
        void (*finished)(const struct fetch_result *res, enum round_end end, void *userdata);
        /* How long until the feed is due again after failures consecutive
         * failed fetches: recorded with a failed fetch (bokvar.feed_failed). */
        usec_t (*backoff)(int failures, void *userdata);
};

struct round {
        /* From fetch_round_init(), kept across rounds. */
        sd_event *event;
        const char *name;             /* the feed's; borrowed */
        bool once;                    /* wait for the feed's lock, and fetch it whether due or not */
        const struct round_ops *ops;
        void *userdata;
        int failures;                 /* consecutive, as the last claim found them */
        day_t today;                  /* the database's, as the last claim found it */

        /* The round under way; fetch_round_reset() lets go of it. */
        struct config *config;        /* a reference kept for the round */
        const struct feed_config *cfg;
        struct pgconn *pg;
        char *url;                    /* the page being fetched */
        char *etag, *last_modified;   /* the feed's validators, as claimed */
        char *cursor;                 /* where the chain of pages goes on */
        bool more;                    /* ... in this round: the next page is not this one */
        unsigned pages;
        bool cursor_at_start;         /* the round resumed an interrupted chain of pages */
        int64_t rows_read, accepted, updated, duplicate, quarantined, filtered;   /* what the ingest counted */
        bool failed;                  /* the page failed, and is being rolled back and recorded */
        char error[512];              /* ... why */
        struct timespec started;
        double started_epoch;
        struct transfer transfer;     /* the page's body */
        struct drop_scan scan;        /* drop folders: the files ready this round, one page each */
        size_t drop_next;             /* ... the one being fetched */
        bool drop_known;              /* ... it had been ingested before (its content is known) */
        char drop_error[512];         /* ... why the folder could not be listed */
};

/* Before first use: a round of the feed name (which must outlive it) that
 * reports to ops. */
void fetch_round_init(struct round *r, sd_event *event, struct curl_glue *glue, const char *name, bool once,
                      const struct round_ops *ops, void *userdata);

/* Starts a round of cfg, one of config's feeds (a reference on config is
 * kept for the round). Only when no round is under way. */
void fetch_round_start(struct round *r, struct config *config, const struct feed_config *cfg);

/* Lets go of everything the round holds. A round under way stops without
 * calling ops: closing its connection rolls its transaction back. */
void fetch_round_reset(struct round *r);
