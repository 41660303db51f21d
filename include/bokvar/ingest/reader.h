/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Finding records in a feed's body as it arrives: CSV (any ASCII-compatible
 * encoding, quoted fields across lines, lines ending in CR, LF or CRLF),
 * NDJSON (a record a line) and JSON (the elements of one array). What is cheap to check is checked here:
 * encoding, record shape, JSON syntax. Everything else is the SQL's job.
 * Memory is bounded by the longest record, never by the body. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"

/* Longer records are reported, not read. */
#define READER_MAX_RECORD ((size_t) 1024 * 1024)

struct reader;

struct reader_ops {
        /* The CSV header (or "1", "2", ... without one). */
        int (*header)(void *userdata, char *const *names, size_t n);
        /* A CSV record: n fields of UTF-8, trimmed; NULL for empty ones. */
        int (*fields)(void *userdata, unsigned line, char *const *fields, size_t n);
        /* A JSON record: one object, validated, as it was written. */
        int (*json)(void *userdata, unsigned line, const char *text, size_t len);
        /* A record that cannot be read. raw is UTF-8 (bytes that are not
         * shown as \xNN), reason says why in words. */
        int (*error)(void *userdata, unsigned line, const char *raw, size_t len, const char *reason);
        /* JSON paging: the value at paging.next (NULL for null or absent). */
        int (*next)(void *userdata, const char *value);
};

int reader_new(const struct feed_config *f, const struct reader_ops *ops, void *userdata, struct reader **ret);
struct reader *reader_free(struct reader *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct reader *, reader_free);

/* Reads the next n bytes of the body. A record that cannot be read goes to
 * error() and the reading goes on; a callback's error ends it. -EBADMSG:
 * the document cannot be read any further (a JSON syntax error, two
 * byte-order marks), reader_error() says why, and the caller fails the
 * whole fetch rather than keep part of the document. */
int reader_feed(struct reader *r, const char *data, size_t n);
/* The body is complete: reports a truncated last record; -EBADMSG for an
 * incomplete JSON document or a missing records array. */
int reader_finish(struct reader *r);
/* Why the document cannot be read (after -EBADMSG), in words without any of
 * its data, or NULL. */
const char *reader_error(const struct reader *r);

/* Appends raw bytes to out as UTF-8 text: valid UTF-8 as it is, every other
 * byte (and NUL) as \xNN. At most max bytes of input are shown. */
int reader_render_raw(const char *raw, size_t len, size_t max, struct buf *out);
