/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Strict YAML documents: libyaml events folded into a positioned tree, and the
 * typed readers the config and rules loaders are built from. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "bokvar/basic/util.h"
#include "bokvar/basic/yamldoc.h"

struct ynode *ynode_free(struct ynode *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_children; i++)
                ynode_free(n->children[i]);
        free(n->children);
        free(n->value);
        return mfree(n);
}

static struct ynode *ynode_new(enum ynode_type type, const yaml_mark_t *m) {
        struct ynode *n = calloc(1, sizeof *n);

        if (!n)
                return NULL;
        n->type = type;
        n->line = (unsigned) m->line + 1;
        n->column = (unsigned) m->column + 1;
        return n;
}

bool ynode_is_null(const struct ynode *n) {
        if (n->type != YNODE_SCALAR || !n->plain)
                return false;
        return n->length == 0 || streq(n->value, "~") || streq(n->value, "null") || streq(n->value, "Null") ||
               streq(n->value, "NULL");
}

const struct ynode *ynode_find(const struct ynode *map, const char *key) {
        if (map->type != YNODE_MAPPING)
                return NULL;
        for (size_t i = 0; i + 1 < map->n_children; i += 2)
                if (streq(map->children[i]->value, key))
                        return map->children[i + 1];
        return NULL;
}

const char *ynode_type_name(const struct ynode *n) {
        switch (n->type) {
        case YNODE_MAPPING:
                return "a mapping";
        case YNODE_SEQUENCE:
                return "a list";
        case YNODE_SCALAR:
                return ynode_is_null(n) ? "nothing" : "a single value";
        }
        return "?";
}

/* The key among the first n children of map that reads key, or NULL. */
static const struct ynode *key_before(const struct ynode *map, size_t n, const char *key) {
        for (size_t i = 0; i + 1 < n; i += 2)
                if (streq(map->children[i]->value, key))
                        return map->children[i];
        return NULL;
}

/* Adds child to parent, checking mapping keys for duplicates. A key given
 * twice is reported as it comes; when its value comes, the pair goes: the
 * first stands, and no reader sees the second (reading it over the first
 * lost what the first had allocated). */
static int ynode_append(struct ynode *parent, struct ynode *child, const char *path, struct diag *d) {
        const struct ynode *first;
        int r = 0;

        if (parent->type == YNODE_MAPPING && parent->n_children % 2 == 1 &&
            key_before(parent, parent->n_children - 1, parent->children[parent->n_children - 1]->value)) {
                ynode_free(parent->children[--parent->n_children]);
                ynode_free(child);
                return -EINVAL;
        }
        if (parent->type == YNODE_MAPPING && parent->n_children % 2 == 0) {
                if (child->type != YNODE_SCALAR) {
                        /* Keep the key/value pairing; the key reads as an empty word. */
                        r = diag_add(d, path, child->line, child->column, "mapping keys must be plain words, not %s",
                                     ynode_type_name(child));
                        for (size_t i = 0; i < child->n_children; i++)
                                ynode_free(child->children[i]);
                        child->n_children = 0;
                        child->type = YNODE_SCALAR;
                        if (!child->value && !(child->value = strdup("")))
                                return -ENOMEM;
                }
                first = key_before(parent, parent->n_children, child->value);
                if (first)
                        r = diag_add(d, path, child->line, child->column, "duplicate key '%s' (first given at line %u)",
                                     child->value, first->line);
        }
        if (!GREEDY_REALLOC(parent->children, parent->cap, parent->n_children + 1))
                return -ENOMEM;
        parent->children[parent->n_children++] = child;
        return r;
}

/* Anchors, aliases and tags make a file more than data: refuse them. */
static int check_node_props(const yaml_char_t *anchor, const yaml_char_t *tag, bool implicit, const yaml_mark_t *m,
                            const char *path, struct diag *d) {
        if (anchor)
                return diag_add(d, path, (unsigned) m->line + 1, (unsigned) m->column + 1,
                                "anchors (&%s) are not supported; write the value out", (const char *) anchor);
        if (tag && !implicit)
                return diag_add(d, path, (unsigned) m->line + 1, (unsigned) m->column + 1,
                                "tags (%s) are not supported", (const char *) tag);
        return 0;
}

/* Turns one event into a new node (or none). Errors that leave the document
 * shape intact are only reported (*soft), so that one run shows them all;
 * others stop the parse. */
static int node_from_event(const yaml_event_t *ev, const char *path, struct diag *d, struct ynode **ret, bool *soft) {
        struct ynode *n;

        *ret = NULL;
        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                *soft = true;
                (void) diag_add(d, path, (unsigned) ev->start_mark.line + 1, (unsigned) ev->start_mark.column + 1,
                                "aliases (*%s) are not supported; write the value out",
                                (const char *) ev->data.alias.anchor);
                /* A null stands in for the alias so keys and values stay paired. */
                n = ynode_new(YNODE_SCALAR, &ev->start_mark);
                if (!n || !(n->value = strdup("")))
                        return ynode_free(n), -ENOMEM;
                n->plain = true;
                break;
        case YAML_SCALAR_EVENT:
                if (check_node_props(ev->data.scalar.anchor, ev->data.scalar.tag,
                                     ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit,
                                     &ev->start_mark, path, d) < 0)
                        *soft = true;
                n = ynode_new(YNODE_SCALAR, &ev->start_mark);
                if (!n || !(n->value = strndup((const char *) ev->data.scalar.value, ev->data.scalar.length)))
                        return ynode_free(n), -ENOMEM;
                n->length = ev->data.scalar.length;
                n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                if (strlen(n->value) != n->length) {
                        *soft = true;
                        (void) diag_add(d, path, n->line, n->column, "value contains a NUL character");
                        n->length = strlen(n->value);
                }
                break;
        case YAML_SEQUENCE_START_EVENT:
                if (check_node_props(ev->data.sequence_start.anchor, ev->data.sequence_start.tag,
                                     ev->data.sequence_start.implicit, &ev->start_mark, path, d) < 0)
                        *soft = true;
                n = ynode_new(YNODE_SEQUENCE, &ev->start_mark);
                if (!n)
                        return -ENOMEM;
                break;
        case YAML_MAPPING_START_EVENT:
                if (check_node_props(ev->data.mapping_start.anchor, ev->data.mapping_start.tag,
                                     ev->data.mapping_start.implicit, &ev->start_mark, path, d) < 0)
                        *soft = true;
                n = ynode_new(YNODE_MAPPING, &ev->start_mark);
                if (!n)
                        return -ENOMEM;
                break;
        default:
                return 0;
        }
        *ret = n;
        return 0;
}

int ydoc_parse(const char *path, const char *data, size_t size, struct ynode **ret, struct diag *d) {
        struct ynode *stack[YDOC_MAX_DEPTH];
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        yaml_parser_t parser;
        size_t depth = 0, documents = 0;
        bool soft = false, done = false;
        int r = 0;

        if (size > YDOC_MAX_SIZE)
                return diag_add(d, path, 0, 0, "file is %zu bytes; at most %zu are accepted", size, YDOC_MAX_SIZE);

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, size);
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

        while (!done && r == 0) {
                struct ynode *n = NULL;
                yaml_event_t ev;

                if (!yaml_parser_parse(&parser, &ev)) {
                        r = diag_add(d, path, (unsigned) parser.problem_mark.line + 1,
                                     (unsigned) parser.problem_mark.column + 1, "%s%s%s",
                                     parser.problem ? parser.problem : "syntax error",
                                     parser.context ? " " : "", parser.context ? parser.context : "");
                        break;
                }

                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1)
                                r = diag_add(d, path, (unsigned) ev.start_mark.line + 1,
                                             (unsigned) ev.start_mark.column + 1,
                                             "only one YAML document per file is supported");
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        /* The finished container is attached to its parent below. */
                        n = stack[--depth];
                        break;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (depth >= YDOC_MAX_DEPTH) {
                                r = diag_add(d, path, (unsigned) ev.start_mark.line + 1,
                                             (unsigned) ev.start_mark.column + 1, "nested deeper than %d levels",
                                             YDOC_MAX_DEPTH);
                                break;
                        }
                        r = node_from_event(&ev, path, d, &n, &soft);
                        if (n)
                                stack[depth++] = n;
                        n = NULL;
                        break;
                default:
                        r = node_from_event(&ev, path, d, &n, &soft);
                        break;
                }

                if (r == 0 && n) {
                        if (depth > 0) {
                                int k = ynode_append(stack[depth - 1], n, path, d);

                                if (k == -ENOMEM) {
                                        ynode_free(n);
                                        r = k;
                                } else if (k < 0)
                                        soft = true;
                        } else
                                root = n;
                }
                yaml_event_delete(&ev);
        }

        /* After a hard error, containers still open were never attached. */
        while (depth > 0)
                ynode_free(stack[--depth]);
        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return soft ? -EINVAL : 0;
}

int ydoc_read(const char *path, char **ret, size_t *ret_size, struct diag *d) {
        int r = read_full_file(path, YDOC_MAX_SIZE, ret, ret_size);

        if (r == -EFBIG)
                return diag_add(d, path, 0, 0, "file is larger than %zu bytes; refusing to read it", YDOC_MAX_SIZE);
        if (r < 0)
                return diag_add(d, path, 0, 0, "cannot read: %s", strerror(-r));
        return 0;
}

int y_error(const struct yreader *r, const struct ynode *n, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return diag_add(r->diag, r->path, n ? n->line : 0, n ? n->column : 0, "%s", msg);
}

/* Levenshtein distance, capped: enough to suggest a key for a typo. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), row[64];

        if (la >= ELEMENTSOF(row) || lb >= ELEMENTSOF(row))
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t prev = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cur = row[j];

                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + (a[i - 1] != b[j - 1]));
                        prev = cur;
                }
        }
        return row[lb];
}

int y_map(const struct yreader *r, const struct ynode *n, const char *what, const struct yfield *fields,
          void *base) {
        size_t n_fields = 0;
        int ret = 0;

        if (n->type != YNODE_MAPPING)
                return y_error(r, n, "%s must be a mapping (key: value lines), not %s", what, ynode_type_name(n));

        uint64_t seen = 0;

        while (fields[n_fields].key)
                n_fields++;
        if (n_fields > 64)
                abort(); /* a table in our own code, not input */

        for (size_t i = 0; i + 1 < n->n_children; i += 2) {
                const struct ynode *k = n->children[i], *v = n->children[i + 1];
                size_t f;

                for (f = 0; f < n_fields; f++)
                        if (streq(fields[f].key, k->value))
                                break;
                if (f == n_fields) {
                        struct buf known = {};
                        size_t best = SIZE_MAX, best_d = 3;

                        for (size_t j = 0; j < n_fields; j++) {
                                size_t dist = edit_distance(k->value, fields[j].key);

                                if (dist < best_d) {
                                        best_d = dist;
                                        best = j;
                                }
                                (void) buf_printf(&known, "%s%s", j ? ", " : "", fields[j].key);
                        }
                        if (best != SIZE_MAX)
                                ret = y_error(r, k, "unknown key '%s' in %s; did you mean '%s'?", k->value, what,
                                              fields[best].key);
                        else
                                ret = y_error(r, k, "unknown key '%s' in %s (known keys: %s)", k->value, what,
                                              known.data ? known.data : "none");
                        buf_free(&known);
                        continue;
                }
                seen |= UINT64_C(1) << f;
                if (ynode_is_null(v)) {
                        if (fields[f].required)
                                ret = y_error(r, v, "'%s' in %s needs a value", k->value, what);
                        continue;
                }
                if (fields[f].parse(r, v, (char *) base + fields[f].offset) < 0)
                        ret = -EINVAL;
        }
        for (size_t f = 0; f < n_fields; f++)
                if (fields[f].required && !(seen & (UINT64_C(1) << f)))
                        ret = y_error(r, n, "%s is missing the required key '%s'", what, fields[f].key);
        return ret;
}

int y_scalar(const struct yreader *r, const struct ynode *n, const char *what) {
        if (n->type != YNODE_SCALAR)
                return y_error(r, n, "expected %s, got %s", what, ynode_type_name(n));
        return 0;
}

int y_string(const struct yreader *r, const struct ynode *n, void *dest) {
        char **s = dest, *c;

        if (y_scalar(r, n, "a text value") < 0)
                return -EINVAL;
        c = strdup(n->value);
        if (!c)
                return -ENOMEM;
        free(*s);
        *s = c;
        return 0;
}

int y_bool(const struct yreader *r, const struct ynode *n, void *dest) {
        bool *b = dest;

        if (y_scalar(r, n, "true or false") < 0)
                return -EINVAL;
        if (n->plain && streq(n->value, "true"))
                *b = true;
        else if (n->plain && streq(n->value, "false"))
                *b = false;
        else
                return y_error(r, n, "expected true or false, got '%s'", n->value);
        return 0;
}

int y_duration(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *reason;

        if (y_scalar(r, n, "a duration such as 15m") < 0)
                return -EINVAL;
        if (duration_parse(n->value, dest, &reason) < 0)
                return y_error(r, n, "invalid duration '%s': %s", n->value, reason);
        return 0;
}

int y_string_list(const struct yreader *r, const struct ynode *n, void *dest) {
        char ***l = dest;
        _cleanup_strv_free_ char **v = NULL;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "expected a list such as [\"a\", \"b\"], got %s", ynode_type_name(n));
        if (!(v = calloc(1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                const struct ynode *c = n->children[i];

                if (c->type != YNODE_SCALAR || ynode_is_null(c))
                        return y_error(r, c, "list items must be text values, not %s", ynode_type_name(c));
                if (strv_extend(&v, c->value) < 0)
                        return -ENOMEM;
        }
        strv_free(*l);
        *l = TAKE_PTR(v);
        return 0;
}

int y_int64(const struct yreader *r, const struct ynode *n, int64_t min, int64_t max, int64_t *ret) {
        const char *p;
        int64_t v = 0;
        bool neg = false;

        if (y_scalar(r, n, "a whole number") < 0)
                return -EINVAL;
        p = n->value;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (!n->plain || !*p)
                return y_error(r, n, "expected a whole number, got '%s'", n->value);
        for (; *p; p++) {
                if (*p == '_')
                        continue;
                if (*p < '0' || *p > '9')
                        return y_error(r, n, "expected a whole number, got '%s'", n->value);
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
                        return y_error(r, n, "'%s' is out of range (%lld to %lld)", n->value, (long long) min,
                                       (long long) max);
        }
        if (neg)
                v = -v;
        if (v < min || v > max)
                return y_error(r, n, "'%s' is out of range (%lld to %lld)", n->value, (long long) min,
                               (long long) max);
        *ret = v;
        return 0;
}

int y_centi(const struct yreader *r, const struct ynode *n, int64_t min, int64_t max, int64_t *ret) {
        const char *p;
        int64_t v = 0;
        int frac = -1;
        bool neg = false;

        if (y_scalar(r, n, "a number") < 0)
                return -EINVAL;
        p = n->value;
        if (*p == '-' || *p == '+')
                neg = *p++ == '-';
        if (!n->plain || !*p)
                return y_error(r, n, "expected a number such as 20000 or 1.5, got '%s'", n->value);
        for (; *p; p++) {
                if (*p == '_')
                        continue;
                if (*p == '.' && frac < 0) {
                        frac = 0;
                        continue;
                }
                if (*p < '0' || *p > '9' || frac >= 2)
                        return y_error(r, n, "expected a number with at most two decimals, got '%s'", n->value);
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *p - '0', &v))
                        goto range;
                if (frac >= 0)
                        frac++;
        }
        for (int k = frac < 0 ? 0 : frac; k < 2; k++)
                if (__builtin_mul_overflow(v, 10, &v))
                        goto range;
        if (neg)
                v = -v;
        if (v < min || v > max)
                goto range;
        *ret = v;
        return 0;
range:
        return y_error(r, n, "'%s' is out of range (%lld to %lld)", n->value, (long long) (min / 100),
                       (long long) (max / 100));
}
