/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One small JSON writer for every document bokvar sends: the mapping and
 * the fetch to the ingest SQL, teams and rules to the sync, the webhook
 * payload's envelope, outcomes to the outbox. Commas and nesting are kept
 * here, so a caller writes keys and values in order and nothing else.
 *
 * Errors are sticky: after the first (out of memory, nesting too deep, a
 * value where a key belongs) every call does nothing, and
 * json_writer_finish() returns it. Strings must be valid UTF-8; they are
 * escaped as JSON requires (control characters as \u00XX). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/util.h"

#define JSON_WRITER_MAX_DEPTH 32

struct json_writer {
        struct buf *out;
        unsigned depth;
        uint32_t has_items;     /* bit d: the container at depth d holds something */
        uint32_t in_object;     /* bit d: the container at depth d is an object */
        bool after_key;         /* a key was written; its value comes next */
        int error;
};

/* Appends to out (which keeps what it held). */
void json_writer_init(struct json_writer *w, struct buf *out);
/* 0 when one complete value was written, else the first error (-ENOMEM,
 * or -EINVAL for a document left open or a misplaced key or value). */
int json_writer_finish(struct json_writer *w);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
/* In an object: the key of the next value. */
void json_key(struct json_writer *w, const char *key);

/* Values. A NULL string is written as null. */
void json_string(struct json_writer *w, const char *s);
void json_string_n(struct json_writer *w, const char *s, size_t n);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
/* A number with a fixed count of decimals (0 to 9). */
void json_fixed(struct json_writer *w, double v, unsigned decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Text that already is one JSON value (from PostgreSQL's jsonb, say),
 * written as it is. */
void json_raw(struct json_writer *w, const char *json);
/* A NULL-terminated list of strings as an array; NULL as an empty one. */
void json_strv(struct json_writer *w, char *const *l);

/* key and value in one call, for the common case. */
static inline void json_key_string(struct json_writer *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}
static inline void json_key_int(struct json_writer *w, const char *key, int64_t v) {
        json_key(w, key);
        json_int(w, v);
}
static inline void json_key_uint(struct json_writer *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_uint(w, v);
}
static inline void json_key_bool(struct json_writer *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}
