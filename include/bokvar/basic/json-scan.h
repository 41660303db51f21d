/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A streaming JSON scanner: validates strictly, and finds, without holding
 * a document in memory, the elements of one array (the records) and the
 * value at one path (the next-page cursor). What it accepts PostgreSQL's
 * jsonb accepts too: no \u0000, paired surrogates, valid UTF-8, numbers
 * within numeric's range, nesting no deeper than JSON_SCAN_MAX_DEPTH. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/util.h"

#define JSON_SCAN_MAX_DEPTH 64

struct json_scan;

struct json_scan_ops {
        /* One element of the records array, complete, as it was written.
         * is_object is false for arrays, strings, numbers and literals.
         * problem, when not NULL, is the first thing in it that PostgreSQL
         * cannot store ("line L, column C: \u0000 is not allowed in
         * text"): a string with \u0000, a control character, invalid
         * UTF-8, an unpaired surrogate or an unknown escape, or a number
         * too long or out of range. The scan goes on after such a record. */
        int (*record)(void *userdata, unsigned line, const char *text, size_t len, bool is_object,
                      const char *problem);
        /* A record longer than max_record: its first bytes and its line. */
        int (*record_too_long)(void *userdata, unsigned line, const char *head, size_t len);
        /* The string at the next path (unescaped), or NULL for null. */
        int (*next)(void *userdata, const char *value);
};

/* records: the records array's path as keys (NULL-terminated; empty: the
 * top-level value is the array; NULL: no records, only validate). next:
 * the path of the paging value, or NULL. */
int json_scan_new(char *const *records, char *const *next, size_t max_record, const struct json_scan_ops *ops,
                  void *userdata, struct json_scan **ret);
struct json_scan *json_scan_free(struct json_scan *s);

/* Feeds bytes; returns 0, a callback's negative result, or -EBADMSG on the
 * first error that leaves the rest unreadable (a syntax error, nesting too
 * deep), or a problem as above in the next-page value, after which
 * json_scan_error() says what and where and the scanner accepts nothing
 * more. Problems inside records go to record(); elsewhere they are ignored,
 * since nothing of them is kept. */
int json_scan_feed(struct json_scan *s, const char *data, size_t n);
/* End of input: -EBADMSG if the document is incomplete. */
int json_scan_finish(struct json_scan *s);
/* The first error, as "line L, column C: what", or NULL. */
const char *json_scan_error(const struct json_scan *s);
/* Whether the records array was found at all. */
bool json_scan_found_records(const struct json_scan *s);

/* Validates text as one complete JSON value: returns 0, or -EBADMSG with
 * the first error, as "line L, column C: what", copied into error (at most
 * error_size bytes with the NUL; error may be NULL). *ret_is_object (when
 * not NULL) is set either way: true when the text's first non-blank
 * character is '{'. */
int json_validate(const char *text, size_t len, bool *ret_is_object, char *error, size_t error_size);
