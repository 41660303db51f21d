/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A drop folder: a feed whose url names a directory (file: or sftp://)
 * into which a landlord or an agency delivers files. Which files are
 * ready is found by two looks a moment apart: a file whose size or
 * modification time changed between them is still being written and waits
 * for the next poll. Each ready file then becomes a fetch of its own
 * (fetch.c), in order of modification time; a local file is moved to the
 * folder's done/ after its commit, an sftp file is left where it is and
 * remembered (bokvar.feed_file, by its content's SHA-256, which also keeps
 * a file delivered twice under two names from being ingested twice).
 *
 * Nothing here blocks the event loop for longer than a directory listing
 * of the local disk; an sftp listing goes through libcurl's multi
 * interface. Nothing here speaks SQL. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"

/* How long apart the two looks are. */
#define DROP_SETTLE_USEC (1 * USEC_PER_SEC)

struct drop_file {
        char *name;           /* as in the folder */
        char *source;         /* what to read: the file's resolved path, or its sftp:// URL */
        uint64_t size;
        int64_t mtime;        /* local: nanoseconds since the epoch; sftp: minutes, as the listing gives them */
};

struct drop_scan;
/* The scan has ended: s->files (s->n_files of them) are ready, in order,
 * or error is why the folder could not be listed. Called from the event
 * loop, once per drop_scan_start(). */
typedef void (*drop_scan_done_fn)(struct drop_scan *s, const char *error, void *userdata);

struct drop_scan {
        sd_event *event;
        struct curl_glue *glue;
        const struct feed_config *cfg;
        drop_scan_done_fn done;
        void *userdata;

        struct drop_file *files;   /* the ready files, once done */
        size_t n_files;

        struct drop_file *first;   /* the first look */
        size_t n_first;
        int looks;
        sd_event_source *timer;
        CURL *easy;
        struct buf listing;
        char error[512];
};

/* Lists the drop folder of cfg twice, DROP_SETTLE_USEC apart. */
void drop_scan_start(struct drop_scan *s, sd_event *event, struct curl_glue *glue, const struct feed_config *cfg,
                     drop_scan_done_fn done, void *userdata);
/* Lets go of everything the scan holds; a scan under way stops without
 * calling done. */
void drop_scan_reset(struct drop_scan *s);

/* Moves a local file that was ingested (or had been: its content is
 * known) into the folder's done/ (made when missing), under its own name,
 * or name.N when done/ has one. 0, or -errno with why in error. */
int drop_file_done(const struct feed_config *cfg, const struct drop_file *f, char *error, size_t size);

/* How the listing showed the file ("SIZE:TIME"), into buf; returns buf. */
const char *drop_file_seen_as(const struct drop_file *f, char buf[static 64]);

/* Parses one line of an sftp directory listing as libcurl gives it
 * ("-rw-r--r--    1 user group  1234 Dec  2 08:00 name"): 1 with the
 * name (in name, of size name_size), size and time for a regular file, 0
 * for anything else (a directory, a link, an unreadable line). */
int drop_parse_listing_line(const char *line, char *name, size_t name_size, uint64_t *ret_size, int64_t *ret_time);
