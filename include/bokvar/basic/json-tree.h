/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One JSON value held whole, for reading a feed's record (which the reader
 * bounds): the value at a path of keys, and its text the way PostgreSQL's
 * jsonb gives it (`doc #>> path`): a string unescaped, a number as numeric
 * writes it ("1.5e1" is "15"), an object or array as jsonb prints it, keys
 * in jsonb's order with the last of duplicate keys kept. The text must be
 * JSON the reader validated; anything else is refused, never guessed at. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bokvar/basic/util.h"

enum json_type {
        JSON_NULL,
        JSON_FALSE,
        JSON_TRUE,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
};

struct json_node {
        enum json_type type;
        uint32_t count;           /* array and object: children */
        int32_t first, next;      /* first child, next sibling; -1 for none */
        uint32_t key, key_len;    /* object members: the unescaped key in the tree's text */
        uint32_t text, text_len;  /* strings unescaped, numbers as written */
};

/* Reusable: each parse replaces the last, keeping the memory. */
struct json_tree {
        struct json_node *nodes;
        size_t n_nodes, n_allocated;
        struct buf text;
};

/* Parses one JSON value: 0, -EBADMSG for what is not JSON, -ENOMEM. */
int json_tree_parse(struct json_tree *t, const char *json, size_t len);
void json_tree_done(struct json_tree *t);

/* The value at path (keys, NULL-terminated; an array is indexed by a key
 * that is a whole number, negative ones counting from the end, as jsonb
 * does), or NULL when there is none. An empty path is the whole value. */
const struct json_node *json_tree_get(const struct json_tree *t, char *const *path);
/* Appends n's text as `->>` gives it and returns 1; 0 for null, which has
 * none; -ENOMEM. */
int json_tree_text(const struct json_tree *t, const struct json_node *n, struct buf *out);

/* Decides how a scalar (neither null nor a container) is printed by
 * json_tree_print(): path holds the object members on the way to it (an
 * array's elements have their array's path), depth of them. Appends to out;
 * 0 or -ENOMEM. */
typedef int (*json_tree_scalar_fn)(void *userdata, const struct json_tree *t, const struct json_node *n,
                                   const struct json_node *const *path, size_t depth, struct buf *out);
/* Appends n as jsonb prints it, every scalar through scalar(). 0, -ENOMEM,
 * or -E2BIG for nesting deeper than JSON_SCAN_MAX_DEPTH. */
int json_tree_print(const struct json_tree *t, const struct json_node *n, json_tree_scalar_fn scalar, void *userdata,
                    struct buf *out);
/* Appends text as a JSON string, escaped as jsonb escapes it. */
int json_put_string(struct buf *out, const char *s, size_t n);
