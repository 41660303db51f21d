/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Strict YAML: a document tree with positions, and typed readers that report
 * file:line:column. Anchors, aliases, tags, several documents, duplicate keys
 * and deep nesting are refused, so a file is plain data and nothing else. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bokvar/basic/diag.h"
#include "bokvar/basic/duration.h"

/* Files larger than this are refused before parsing. */
#define YDOC_MAX_SIZE ((size_t) 1024 * 1024)
/* Nesting deeper than this is refused. */
#define YDOC_MAX_DEPTH 32

enum ynode_type {
        YNODE_SCALAR,
        YNODE_MAPPING,
        YNODE_SEQUENCE,
};

struct ynode {
        enum ynode_type type;
        unsigned line, column;     /* 1-based */
        /* scalars */
        char *value;               /* NUL-terminated */
        size_t length;
        bool plain;                /* unquoted: may read as null, bool or number */
        /* mappings: keys at even, values at odd indexes; sequences: items */
        struct ynode **children;
        size_t n_children;
        size_t cap;
};

struct ynode *ynode_free(struct ynode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ynode *, ynode_free);

/* Parses size bytes of data; errors name path. Returns 0 with *ret set (NULL
 * for an empty document). Returns -EINVAL with the reasons added to d; *ret is
 * then still set when the document's shape was read (after, say, a duplicate
 * key), so that callers can go on and report later mistakes too. */
int ydoc_parse(const char *path, const char *data, size_t size, struct ynode **ret, struct diag *d);
/* Reads a file of at most YDOC_MAX_SIZE bytes into *ret (NUL-terminated,
 * its length in *ret_size); what went wrong is added to d. */
int ydoc_read(const char *path, char **ret, size_t *ret_size, struct diag *d);

/* True for ~, null, Null, NULL and an empty plain scalar. */
bool ynode_is_null(const struct ynode *n);
/* The value under key in a mapping, or NULL. */
const struct ynode *ynode_find(const struct ynode *map, const char *key);
/* Short name of a node's type for messages: "a mapping", "a list", "a string". */
const char *ynode_type_name(const struct ynode *n);

/* What a reader of one file needs: its name for messages and where they go. */
struct yreader {
        const char *path;
        struct diag *diag;
        void *userdata;
};

int y_error(const struct yreader *r, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);

/* One key of a mapping: parse() gets the value node and base + offset. */
struct yfield {
        const char *key;
        int (*parse)(const struct yreader *r, const struct ynode *value, void *dest);
        size_t offset;
        bool required;
};

/* Reads mapping n into base by the fields table (terminated by key == NULL).
 * Unknown keys and missing required keys are errors; a null value counts as
 * absent. what names the mapping in messages ("feed 'x'"). Every error found
 * is reported; returns -EINVAL if there was any. */
int y_map(const struct yreader *r, const struct ynode *n, const char *what, const struct yfield *fields,
          void *base);

/* Value readers usable in yfield tables. */
int y_string(const struct yreader *r, const struct ynode *n, void *dest);       /* char ** */
int y_bool(const struct yreader *r, const struct ynode *n, void *dest);         /* bool * */
int y_duration(const struct yreader *r, const struct ynode *n, void *dest);     /* usec_t * */
int y_string_list(const struct yreader *r, const struct ynode *n, void *dest);  /* char *** */

/* Scalar readers with explicit limits. */
int y_scalar(const struct yreader *r, const struct ynode *n, const char *what);
int y_int64(const struct yreader *r, const struct ynode *n, int64_t min, int64_t max, int64_t *ret);
/* A decimal number with at most two fractional digits, in hundredths. */
int y_centi(const struct yreader *r, const struct ynode *n, int64_t min, int64_t max, int64_t *ret);
