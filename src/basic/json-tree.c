/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A JSON value as a flat array of nodes, and jsonb's way of printing it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-scan.h"
#include "bokvar/basic/json-tree.h"

struct parser {
        struct json_tree *t;
        const char *s;
        size_t n, i;
        unsigned depth;
};

static void skip_blank(struct parser *p) {
        while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
                p->i++;
}

static int new_node(struct parser *p, enum json_type type, int32_t *ret) {
        struct json_tree *t = p->t;

        if (t->n_nodes >= INT32_MAX || !GREEDY_REALLOC(t->nodes, t->n_allocated, t->n_nodes + 1))
                return -ENOMEM;
        t->nodes[t->n_nodes] = (struct json_node){ .type = type, .first = -1, .next = -1 };
        *ret = (int32_t) t->n_nodes++;
        return 0;
}

static int hex_digit(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int read_hex4(struct parser *p, unsigned *ret) {
        unsigned v = 0;

        if (p->n - p->i < 4)
                return -EBADMSG;
        for (int k = 0; k < 4; k++) {
                int h = hex_digit(p->s[p->i + (size_t) k]);

                if (h < 0)
                        return -EBADMSG;
                v = v * 16 + (unsigned) h;
        }
        p->i += 4;
        *ret = v;
        return 0;
}

/* A string at p->i (on its quote), unescaped into the tree's text. */
static int parse_string(struct parser *p, uint32_t *ret, uint32_t *ret_len) {
        struct buf *b = &p->t->text;
        size_t start = b->len;

        if (b->len > UINT32_MAX / 2)
                return -ENOMEM;
        p->i++;
        for (;;) {
                size_t run = p->i;
                char c;

                while (run < p->n && p->s[run] != '"' && p->s[run] != '\\')
                        run++;
                if (buf_put(b, p->s + p->i, run - p->i) < 0)
                        return -ENOMEM;
                p->i = run;
                if (p->i >= p->n)
                        return -EBADMSG;
                if (p->s[p->i] == '"') {
                        p->i++;
                        break;
                }
                if (++p->i >= p->n)
                        return -EBADMSG;
                c = p->s[p->i++];
                switch (c) {
                case '"': case '\\': case '/':
                        if (buf_putc(b, c) < 0)
                                return -ENOMEM;
                        break;
                case 'b': if (buf_putc(b, '\b') < 0) return -ENOMEM; break;
                case 'f': if (buf_putc(b, '\f') < 0) return -ENOMEM; break;
                case 'n': if (buf_putc(b, '\n') < 0) return -ENOMEM; break;
                case 'r': if (buf_putc(b, '\r') < 0) return -ENOMEM; break;
                case 't': if (buf_putc(b, '\t') < 0) return -ENOMEM; break;
                case 'u': {
                        unsigned u, lo;

                        if (read_hex4(p, &u) < 0)
                                return -EBADMSG;
                        if (u >= 0xd800 && u < 0xdc00) {
                                if (p->n - p->i < 6 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
                                        return -EBADMSG;
                                p->i += 2;
                                if (read_hex4(p, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
                                        return -EBADMSG;
                                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                        } else if ((u >= 0xdc00 && u < 0xe000) || u == 0)
                                return -EBADMSG;
                        if (utf8_put(b, u) < 0)
                                return -ENOMEM;
                        break;
                }
                default:
                        return -EBADMSG;
                }
        }
        *ret = (uint32_t) start;
        *ret_len = (uint32_t) (b->len - start);
        return 0;
}

static int parse_value(struct parser *p, int32_t *ret);

static int parse_container(struct parser *p, bool object, int32_t node) {
        char close = object ? '}' : ']';
        int32_t last = -1;
        uint32_t count = 0;
        int k;

        if (++p->depth > JSON_SCAN_MAX_DEPTH)
                return -EBADMSG;
        p->i++;
        skip_blank(p);
        if (p->i < p->n && p->s[p->i] == close) {
                p->i++;
                p->depth--;
                return 0;
        }
        for (;;) {
                uint32_t key = 0, key_len = 0;
                int32_t child;

                skip_blank(p);
                if (object) {
                        if (p->i >= p->n || p->s[p->i] != '"')
                                return -EBADMSG;
                        if ((k = parse_string(p, &key, &key_len)) < 0)
                                return k;
                        skip_blank(p);
                        if (p->i >= p->n || p->s[p->i++] != ':')
                                return -EBADMSG;
                }
                if ((k = parse_value(p, &child)) < 0)
                        return k;
                p->t->nodes[child].key = key;
                p->t->nodes[child].key_len = key_len;
                if (last < 0)
                        p->t->nodes[node].first = child;
                else
                        p->t->nodes[last].next = child;
                last = child;
                count++;
                skip_blank(p);
                if (p->i >= p->n)
                        return -EBADMSG;
                if (p->s[p->i] == ',') {
                        p->i++;
                        continue;
                }
                if (p->s[p->i] != close)
                        return -EBADMSG;
                p->i++;
                break;
        }
        p->t->nodes[node].count = count;
        p->depth--;
        return 0;
}

static bool literal(struct parser *p, const char *w) {
        size_t l = strlen(w);

        if (p->n - p->i < l || memcmp(p->s + p->i, w, l) != 0)
                return false;
        p->i += l;
        return true;
}

static int parse_value(struct parser *p, int32_t *ret) {
        int32_t node;
        int k;
        char c;

        skip_blank(p);
        if (p->i >= p->n)
                return -EBADMSG;
        c = p->s[p->i];
        if (c == '{' || c == '[') {
                if ((k = new_node(p, c == '{' ? JSON_OBJECT : JSON_ARRAY, &node)) < 0)
                        return k;
                if ((k = parse_container(p, c == '{', node)) < 0)
                        return k;
        } else if (c == '"') {
                uint32_t text, len;

                if ((k = new_node(p, JSON_STRING, &node)) < 0)
                        return k;
                if ((k = parse_string(p, &text, &len)) < 0)
                        return k;
                p->t->nodes[node].text = text;
                p->t->nodes[node].text_len = len;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
                size_t start = p->i;

                if ((k = new_node(p, JSON_NUMBER, &node)) < 0)
                        return k;
                while (p->i < p->n && strchr("+-.eE0123456789", p->s[p->i]))
                        p->i++;
                p->t->nodes[node].text = (uint32_t) p->t->text.len;
                p->t->nodes[node].text_len = (uint32_t) (p->i - start);
                if (buf_put(&p->t->text, p->s + start, p->i - start) < 0)
                        return -ENOMEM;
        } else if (literal(p, "true")) {
                if ((k = new_node(p, JSON_TRUE, &node)) < 0)
                        return k;
        } else if (literal(p, "false")) {
                if ((k = new_node(p, JSON_FALSE, &node)) < 0)
                        return k;
        } else if (literal(p, "null")) {
                if ((k = new_node(p, JSON_NULL, &node)) < 0)
                        return k;
        } else
                return -EBADMSG;
        *ret = node;
        return 0;
}

int json_tree_parse(struct json_tree *t, const char *json, size_t len) {
        struct parser p = { .t = t, .s = json, .n = len };
        int32_t root;
        int k;

        t->n_nodes = 0;
        buf_clear(&t->text);
        k = parse_value(&p, &root);
        if (k < 0)
                return k;
        skip_blank(&p);
        return p.i == p.n ? 0 : -EBADMSG;
}

void json_tree_done(struct json_tree *t) {
        t->nodes = mfree(t->nodes);
        t->n_nodes = t->n_allocated = 0;
        buf_free(&t->text);
}

/* An array index as jsonb reads a path key: strtol()'s whole number
 * (blanks and a sign before it allowed), within int. */
static bool array_index(const char *key, long *ret) {
        char *end;
        long v;

        errno = 0;
        v = strtol(key, &end, 10);
        if (end == key || *end || errno != 0 || v < INT_MIN || v > INT_MAX)
                return false;
        *ret = v;
        return true;
}

const struct json_node *json_tree_get(const struct json_tree *t, char *const *path) {
        const struct json_node *n;

        if (t->n_nodes == 0)
                return NULL;
        n = &t->nodes[0];
        for (size_t i = 0; path && path[i]; i++) {
                const struct json_node *found = NULL;
                size_t kl = strlen(path[i]);

                if (n->type == JSON_OBJECT) {
                        /* The last of duplicate keys, as jsonb keeps. */
                        for (int32_t c = n->first; c >= 0; c = t->nodes[c].next)
                                if (t->nodes[c].key_len == kl && memcmp(t->text.data + t->nodes[c].key, path[i], kl) == 0)
                                        found = &t->nodes[c];
                } else if (n->type == JSON_ARRAY) {
                        long idx;
                        int32_t c = n->first;

                        if (!array_index(path[i], &idx))
                                return NULL;
                        if (idx < 0) {
                                if (idx == INT_MIN || -idx > (long) n->count)
                                        return NULL;
                                idx += (long) n->count;
                        }
                        for (long k = 0; c >= 0 && k < idx; k++)
                                c = t->nodes[c].next;
                        found = c >= 0 ? &t->nodes[c] : NULL;
                }
                if (!found)
                        return NULL;
                n = found;
        }
        return n;
}

/* A number as numeric_in() reads it and numeric_out() writes it: no
 * exponent, no leading zeros, the digits after the point that the
 * exponent leaves. */
static int put_number(struct buf *out, const char *s, size_t n) {
        char digits[128];
        size_t nd = 0, i = 0, n_int = 0, n_frac = 0;
        long exp = 0, point, k;
        bool neg = false, zero = true;

        if (i < n && s[i] == '-')
                neg = true, i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, n_int++)
                if (nd < sizeof digits)
                        digits[nd++] = s[i];
        if (i < n && s[i] == '.')
                for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, n_frac++)
                        if (nd < sizeof digits)
                                digits[nd++] = s[i];
        if (i < n && (s[i] == 'e' || s[i] == 'E'))
                exp = strtol(s + i + 1, NULL, 10);
        if (nd != n_int + n_frac || exp > 1000 || exp < -1000)
                return -EINVAL;   /* the reader refuses such numbers */
        for (size_t j = 0; j < nd; j++)
                zero = zero && digits[j] == '0';
        point = (long) n_int + exp;   /* the point's place among the digits */
        if (neg && !zero && buf_putc(out, '-') < 0)
                return -ENOMEM;
        /* The whole part: digits before the point, leading zeros dropped. */
        {
                bool any = false;

                for (k = 0; k < point; k++) {
                        char c = k < (long) nd ? digits[k] : '0';

                        if (!any && c == '0')
                                continue;
                        any = true;
                        if (buf_putc(out, c) < 0)
                                return -ENOMEM;
                }
                if (!any && buf_putc(out, '0') < 0)
                        return -ENOMEM;
        }
        /* The scale: the digits after the point, as written and moved by
         * the exponent. */
        if ((long) nd > point) {
                if (buf_putc(out, '.') < 0)
                        return -ENOMEM;
                for (k = point; k < (long) nd; k++)
                        if (buf_putc(out, k < 0 ? '0' : digits[k]) < 0)
                                return -ENOMEM;
        }
        return 0;
}

int json_put_string(struct buf *out, const char *s, size_t n) {
        if (buf_putc(out, '"') < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                int k;

                switch (c) {
                case '\b': k = buf_puts(out, "\\b"); break;
                case '\f': k = buf_puts(out, "\\f"); break;
                case '\n': k = buf_puts(out, "\\n"); break;
                case '\r': k = buf_puts(out, "\\r"); break;
                case '\t': k = buf_puts(out, "\\t"); break;
                case '"': k = buf_puts(out, "\\\""); break;
                case '\\': k = buf_puts(out, "\\\\"); break;
                default:
                        k = c < ' ' ? buf_printf(out, "\\u%04x", c) : buf_putc(out, (char) c);
                }
                if (k < 0)
                        return -ENOMEM;
        }
        return buf_putc(out, '"');
}

/* jsonb's order of keys: shorter first, then bytewise; of equal keys the
 * later one first, so that it is the one kept. */
static int compare_members(const void *a, const void *b, void *userdata) {
        const struct json_tree *t = userdata;
        const struct json_node *x = &t->nodes[*(const int32_t *) a], *y = &t->nodes[*(const int32_t *) b];
        int c;

        if (x->key_len != y->key_len)
                return x->key_len < y->key_len ? -1 : 1;
        c = memcmp(t->text.data + x->key, t->text.data + y->key, x->key_len);
        if (c != 0)
                return c;
        return *(const int32_t *) a > *(const int32_t *) b ? -1 : 1;
}

struct printer {
        json_tree_scalar_fn scalar;
        void *userdata;
        const struct json_node *path[JSON_SCAN_MAX_DEPTH + 1];
        size_t depth;
};

static int put_scalar(const struct json_tree *t, const struct json_node *n, struct buf *out) {
        switch (n->type) {
        case JSON_TRUE:
                return buf_puts(out, "true");
        case JSON_FALSE:
                return buf_puts(out, "false");
        case JSON_NUMBER:
                return put_number(out, t->text.data + n->text, n->text_len);
        case JSON_STRING:
                return json_put_string(out, t->text.data + n->text, n->text_len);
        default:
                return -EINVAL;
        }
}

static int put_value(const struct json_tree *t, const struct json_node *n, struct printer *pr, struct buf *out) {
        _cleanup_free_ int32_t *members = NULL;
        size_t m = 0;
        int k;

        switch (n->type) {
        case JSON_NULL:
                return buf_puts(out, "null");
        case JSON_TRUE:
        case JSON_FALSE:
        case JSON_NUMBER:
        case JSON_STRING:
                if (pr && pr->scalar)
                        return pr->scalar(pr->userdata, t, n, pr->path, pr->depth, out);
                return put_scalar(t, n, out);
        case JSON_ARRAY:
                if (buf_putc(out, '[') < 0)
                        return -ENOMEM;
                for (int32_t c = n->first; c >= 0; c = t->nodes[c].next) {
                        if (c != n->first && buf_puts(out, ", ") < 0)
                                return -ENOMEM;
                        if ((k = put_value(t, &t->nodes[c], pr, out)) < 0)
                                return k;
                }
                return buf_putc(out, ']');
        case JSON_OBJECT:
                if (n->count > 0 && !(members = calloc(n->count, sizeof *members)))
                        return -ENOMEM;
                for (int32_t c = n->first; c >= 0; c = t->nodes[c].next)
                        members[m++] = c;
                if (m > 1)
                        qsort_r(members, m, sizeof *members, compare_members, (void *) t);
                if (buf_putc(out, '{') < 0)
                        return -ENOMEM;
                for (size_t i = 0, shown = 0; i < m; i++) {
                        const struct json_node *c = &t->nodes[members[i]];

                        if (i > 0) {
                                const struct json_node *prev = &t->nodes[members[i - 1]];

                                if (prev->key_len == c->key_len &&
                                    memcmp(t->text.data + prev->key, t->text.data + c->key, c->key_len) == 0)
                                        continue;
                        }
                        if (shown++ > 0 && buf_puts(out, ", ") < 0)
                                return -ENOMEM;
                        if (json_put_string(out, t->text.data + c->key, c->key_len) < 0 || buf_puts(out, ": ") < 0)
                                return -ENOMEM;
                        if (pr) {
                                if (pr->depth >= JSON_SCAN_MAX_DEPTH)
                                        return -E2BIG;
                                pr->path[pr->depth++] = c;
                        }
                        k = put_value(t, c, pr, out);
                        if (pr)
                                pr->depth--;
                        if (k < 0)
                                return k;
                }
                return buf_putc(out, '}');
        }
        return -EINVAL;
}

int json_tree_text(const struct json_tree *t, const struct json_node *n, struct buf *out) {
        int k;

        switch (n->type) {
        case JSON_NULL:
                return 0;
        case JSON_STRING:
                /* buf_put of nothing leaves no text: "" must still be text. */
                if (buf_reserve(out, n->text_len + 1) < 0 || buf_put(out, t->text.data + n->text, n->text_len) < 0)
                        return -ENOMEM;
                return 1;
        default:
                k = put_value(t, n, NULL, out);
                return k < 0 ? k : 1;
        }
}

int json_tree_print(const struct json_tree *t, const struct json_node *n, json_tree_scalar_fn scalar, void *userdata,
                    struct buf *out) {
        struct printer pr = { .scalar = scalar, .userdata = userdata };

        return put_value(t, n, &pr, out);
}
