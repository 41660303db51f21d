/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One page of a feed, from its source into the COPY the round has open:
 * https, http and sftp through libcurl's multi interface (a conditional GET
 * with the feed's validators, the Link header for paging), file feeds read
 * from disk here. The body goes through the feed's reader into COPY text for
 * the staging table, handed to libpq as it arrives; when libpq cannot take
 * more, the source pauses (CURL_WRITEFUNC_PAUSE, or the file is not read)
 * until the connection has drained. Memory is bounded by the reader's
 * longest record and one chunk of COPY text, never by the body.
 *
 * Nothing here blocks the event loop, and nothing here speaks SQL: the
 * caller starts the COPY before transfer_start() and ends it in done(). */
#pragma once

#include <stdbool.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/ingest/reader.h"
#include "bokvar/ingest/stage.h"

enum transfer_end {
        TRANSFER_OK,
        TRANSFER_NOT_MODIFIED,   /* HTTP 304, or a file unchanged since its validator */
        TRANSFER_FAILED,
};

struct transfer;

/* The transfer has ended; t->end says how. With TRANSFER_OK every byte of
 * the body has been handed to the COPY, which the caller now ends; otherwise
 * the caller aborts the COPY, so nothing staged is kept. Called once per
 * transfer_start(): from the event loop, or from inside transfer_start()
 * when the transfer ends before it begins (a file that cannot be opened or
 * is unchanged, no memory for the reader). Never from inside a libcurl
 * callback. done may free the transfer: nothing here touches it afterwards. */
typedef void (*transfer_done_fn)(struct transfer *t, void *userdata);

struct transfer {
        /* From transfer_init(), kept across transfers. */
        sd_event *event;
        struct curl_glue *glue;
        transfer_done_fn done;
        void *userdata;

        /* From transfer_start(), borrowed until done(). */
        const struct feed_config *cfg;
        struct pgconn *pg;
        const char *url;

        /* The outcome, for the caller: valid from done() to transfer_reset(). */
        enum transfer_end end;
        char error[512];             /* why it failed, in words */
        long status;                 /* HTTP status; 0 for file and sftp */
        uint64_t bytes;              /* of the body */
        char *etag, *last_modified;  /* the final response's validators */
        char *file_validator;        /* file feeds: device, inode, size and mtime */
        char *link_next;             /* the Link header's rel="next" */
        struct stage stage;          /* the CSV header, the body's paging value */
        char sha256[65];             /* drop folders: the body's SHA-256 in hex, once done with TRANSFER_OK */

        /* The transfer's own state. */
        CURL *easy;
        struct curl_slist *headers;
        int fd;
        sd_event_source *file_reader;
        struct reader *reader;
        bool paused;                 /* waiting for libpq to drain */
        bool in_curl_callback;
        bool body_done;              /* the source has nothing more to give */
        EVP_MD_CTX *digest;          /* drop folders: the SHA-256 of the body so far */
};

/* Before first use: a transfer holding nothing, that reports to done. */
void transfer_init(struct transfer *t, sd_event *event, struct curl_glue *glue, transfer_done_fn done,
                   void *userdata);

/* Starts fetching url (the feed's own URL or a later page of it) into the
 * COPY that pg has open, its records mapped and validated against the day
 * today. etag and last_modified are the validators for a conditional GET
 * (a file feed compares etag with the file's validator), or NULL to fetch
 * unconditionally. The outcome comes through done. */
void transfer_start(struct transfer *t, const struct feed_config *cfg, struct pgconn *pg, const char *url,
                    day_t today, const char *etag, const char *last_modified);

/* Lets go of everything the transfer holds, stopping one under way without
 * calling done; afterwards it can start again. */
void transfer_reset(struct transfer *t);

/* After a transfer of a paged feed: the next page's URL (from the body's
 * paging value or the Link header), on the same site as the feed's URL, as
 * a new string; it may be this page's own URL (a change feed with nothing
 * new). NULL when this was the last page, or when the next page cannot be
 * followed, in which case *ret_error says why. */
char *transfer_next_page(const struct transfer *t, const char **ret_error);
