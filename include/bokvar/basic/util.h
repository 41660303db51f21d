/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Strings, growable buffers and whole-file reads shared by every module. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bokvar/basic/macro.h"

/* Grows *p to hold at least need elements of size sz; *allocated tracks capacity. */
void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t sz);
#define GREEDY_REALLOC(array, allocated, need) \
        greedy_realloc((void **) &(array), &(allocated), (need), sizeof((array)[0]))

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL when s does not start with it. */
const char *startswith(const char *s, const char *prefix);

/* For a URL after its "scheme://": true when the host is this machine
 * (localhost, 127.x.y.z, [::1]), where plain http is allowed. */
bool url_host_is_loopback(const char *rest);

/* strdup() that passes NULL through. */
int strdup_or_null(const char *s, char **ret);

/* Frees every string of a NULL-terminated vector, then the vector. */
char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
/* Appends a copy of s; *l may be NULL. */
int strv_extend(char ***l, const char *s);

/* A growable byte buffer, always NUL-terminated when non-empty. */
struct buf {
        char *data;
        size_t len;
        size_t cap;
};

int buf_reserve(struct buf *b, size_t extra);
int buf_put(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
/* One byte; the common case (room left) inline, for the readers' loops. */
static inline int buf_putc(struct buf *b, char c) {
        if (b->len + 1 < b->cap) {
                b->data[b->len++] = c;
                b->data[b->len] = 0;
                return 0;
        }
        return buf_put(b, &c, 1);
}
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* Appends s (n bytes of valid UTF-8) as a quoted JSON string. */
int buf_put_json_string(struct buf *b, const char *s, size_t n);
static inline void buf_clear(struct buf *b) {
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}
void buf_free(struct buf *b);
/* Hands out the buffer's string; the buffer is empty afterwards. */
char *buf_steal(struct buf *b);

/* Reads a whole file of at most max_size bytes; refuses larger ones with -EFBIG. */
int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* The directory part of path (".", when it has none). */
int path_dirname(const char *path, char **ret);
/* path if absolute, else dir/path. */
int path_join_relative(const char *dir, const char *path, char **ret);
/* Whether one of path's components is "..". */
bool path_has_dotdot(const char *path);
/* Whether path is root or lies under it, by whole components: "/srv/feeds"
 * holds "/srv/feeds/a.csv", not "/srv/feedsx/a.csv". Lexical only. */
bool path_is_under(const char *path, const char *root);
/* Resolves path and every root with realpath() (roots that do not exist are
 * skipped) and checks that the one lies under one of the others, so that
 * no symlink leads out. With allow_missing, a path that does not exist is
 * resolved through its directory. 0 with the resolved path in *ret;
 * -EPERM when it lies under no root; realpath()'s errno otherwise. */
int path_resolve_under(const char *path, char *const *roots, bool allow_missing, char **ret);

/* Appends s for a terminal: valid UTF-8 as it is, but control characters
 * (C0 but tab and newline, DEL, the C1 range U+0080 to U+009F) and bytes
 * that are not UTF-8 as \xNN, so that text from a feed can never move the
 * cursor, retitle or clear a terminal. With tab_newline, tabs and newlines
 * are escaped too, as \t and \n (for table cells). */
int buf_put_terminal_text(struct buf *b, const char *s, bool tab_newline);
/* True when s is valid UTF-8; *ret_bad (optional) gets the offset of the first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *ret_bad);
/* The code point c as UTF-8 into o, which has room for it: how many bytes (1 to 4). */
size_t utf8_encode(char *o, uint32_t c);
/* Appends code point c as UTF-8; -ENOMEM. */
int utf8_put(struct buf *out, uint32_t c);
/* How many bytes of s[0, n) are ASCII (below 0x80), eight at a time. */
size_t ascii_prefix(const char *s, size_t n);

/* Decimal string of an int64 into a caller buffer of at least 21 bytes. */
const char *fmt_i64(char buf[static 21], int64_t v);
