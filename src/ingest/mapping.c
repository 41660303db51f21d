/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where each canonical field of a record comes from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-tree.h"
#include "bokvar/basic/json-writer.h"
#include "bokvar/ingest/mapping.h"

struct source {
        bool set;
        const char *constant;
        int column;              /* CSV: its place in the header; -1 when the header lacks it */
        char **path;             /* JSON: the keys */
};

struct mapping {
        const struct feed_config *feed;
        char *const *header;     /* the fetch's column names (borrowed), n_header of them */
        size_t n_header;
        struct signal_rules rules;
        struct source source[_FIELD_MAX];
        char *missing;
        struct json_tree tree;
        struct buf value;
};

/* Splits a dot path into keys ("a..b" has an empty one, as it always had). */
static char **split_path(const char *path) {
        char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        for (;;) {
                size_t n = strcspn(path, ".");
                _cleanup_free_ char *k = strndup(path, n);

                if (!k || strv_extend(&l, k) < 0)
                        return strv_free(l);
                if (!path[n])
                        return l;
                path += n + 1;
        }
}

/* The order in which the mapping's fields were always listed in reasons:
 * jsonb's order of their names (shorter first, then bytewise). */
static int compare_names(const void *a, const void *b) {
        const char *x = canonical_field_names[*(const int *) a], *y = canonical_field_names[*(const int *) b];
        size_t lx = strlen(x), ly = strlen(y);

        return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static int note_missing(struct mapping *m) {
        _cleanup_(buf_free) struct buf b = {};
        int order[_FIELD_MAX];

        for (int i = 0; i < _FIELD_MAX; i++)
                order[i] = i;
        qsort(order, _FIELD_MAX, sizeof order[0], compare_names);
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct source *s = &m->source[order[i]];

                if (!s->set || s->constant || s->column >= 0)
                        continue;
                if ((b.len > 0 && buf_puts(&b, "; ") < 0) || buf_puts(&b, "column ") < 0 ||
                    canonical_quote(&b, m->feed->map[order[i]].from) < 0 ||
                    buf_printf(&b, " (mapped to %s) is not in the header", canonical_field_names[order[i]]) < 0)
                        return -ENOMEM;
        }
        m->missing = b.len > 0 ? buf_steal(&b) : NULL;
        return 0;
}

int mapping_new(const struct feed_config *f, char *const *header, day_t today, struct mapping **ret) {
        _cleanup_(mapping_freep) struct mapping *m = NULL;
        int k;

        m = calloc(1, sizeof *m);
        if (!m)
                return -ENOMEM;
        m->feed = f;
        m->header = header;
        m->n_header = header ? strv_length(header) : 0;
        m->rules = (struct signal_rules){
                .decimal_comma = f->decimal_comma,
                .identity = f->identity,
                .kind_values = f->map[FIELD_KIND].values,
                .today = today,
                .jurisdiction = f->jurisdiction,
        };
        if (f->date_format && date_format_from_string(f->date_format, &m->rules.date_format) < 0)
                return -EINVAL;
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct field_map *fm = &f->map[i];
                struct source *s = &m->source[i];

                if (!fm->set)
                        continue;
                s->set = true;
                s->column = -1;
                if (fm->value) {
                        s->constant = fm->value;
                        continue;
                }
                if (f->format == FEED_FORMAT_CSV) {
                        for (size_t c = 0; header && header[c]; c++)
                                if (streq(header[c], fm->from)) {
                                        s->column = (int) c;
                                        break;
                                }
                        continue;
                }
                s->path = split_path(fm->from);
                if (!s->path)
                        return -ENOMEM;
        }
        if (f->format == FEED_FORMAT_CSV && (k = note_missing(m)) < 0)
                return k;
        *ret = TAKE_PTR(m);
        return 0;
}

struct mapping *mapping_free(struct mapping *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < _FIELD_MAX; i++)
                strv_free(m->source[i].path);
        free(m->missing);
        json_tree_done(&m->tree);
        buf_free(&m->value);
        return mfree(m);
}

const char *mapping_missing(const struct mapping *m) {
        return m->missing;
}

int mapping_map_fields(struct mapping *m, char *const *fields, size_t n, struct signal_row *row) {
        signal_row_clear(row);
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct source *s = &m->source[i];
                const char *v = NULL;

                if (!s->set)
                        continue;
                if (s->constant)
                        v = s->constant;
                else if (s->column >= 0 && (size_t) s->column < n)
                        v = fields[s->column];
                if (v && signal_row_set(row, i, v, strlen(v)) < 0)
                        return -ENOMEM;
        }
        return signal_validate(&m->rules, m->missing, false, row);
}

int mapping_map_json(struct mapping *m, const char *json, size_t len, struct signal_row *row) {
        bool amount_is_number = false;
        int k;

        signal_row_clear(row);
        k = json_tree_parse(&m->tree, json, len);
        if (k < 0)
                return k;
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct source *s = &m->source[i];
                const struct json_node *node;

                if (!s->set)
                        continue;
                if (s->constant) {
                        if (signal_row_set(row, i, s->constant, strlen(s->constant)) < 0)
                                return -ENOMEM;
                        continue;
                }
                node = json_tree_get(&m->tree, s->path);
                if (!node)
                        continue;
                if (i == FIELD_AMOUNT)
                        amount_is_number = node->type == JSON_NUMBER;
                buf_clear(&m->value);
                k = json_tree_text(&m->tree, node, &m->value);
                if (k < 0)
                        return k;
                if (k > 0 && signal_row_set(row, i, m->value.data ? m->value.data : "", m->value.len) < 0)
                        return -ENOMEM;
        }
        return signal_validate(&m->rules, NULL, amount_is_number, row);
}

/* ---- masking ---- */

/* The fields a quarantined row may show as they are: never personal. */
static bool field_is_shown(size_t f) {
        return f == FIELD_EXTERNAL_ID || f == FIELD_KIND || f == FIELD_OCCURRED_AT || f == FIELD_DEADLINE ||
               f == FIELD_CHILDREN || f == FIELD_AMOUNT || f == FIELD_MONTHS_IN_ARREARS || f == FIELD_NOTIFIED_AT ||
               f == FIELD_MUNICIPALITY_CODE;
}

void mapping_mask_identity(const char *id, char *out, size_t size) {
        size_t n = strlen(id);

        if (n == 12)
                (void) snprintf(out, size, "%.8s-****", id);
        else if (n == 11)
                (void) snprintf(out, size, "%.6s*****", id);
        else {
                size_t k = 0;

                for (; k < n && k + 1 < size; k++)
                        out[k] = '*';
                if (size > 0)
                        out[k] = 0;
        }
}

/* A value that may be an identity number: its date of birth, or stars;
 * a blank value as it is. */
static int mask_person(const struct mapping *m, const char *v, struct buf *out) {
        char id[IDENTITY_MAX], problem[256], shown[32];

        if (v[strspn(v, " ")] == 0)
                return buf_puts(out, v);
        if (identity_number(v, m->rules.today, NULL, id, problem, sizeof problem) != 0)
                return buf_puts(out, "***");
        mapping_mask_identity(id, shown, sizeof shown);
        return buf_puts(out, shown);
}

int mapping_mask_fields(struct mapping *m, char *const *fields, size_t n, struct buf *out) {
        _cleanup_free_ char **masked = calloc(n + 1, sizeof(char *));
        _cleanup_(buf_free) struct buf text = {};
        _cleanup_free_ size_t *at = calloc(n + 1, sizeof(size_t));
        const struct feed_config *f = m->feed;
        int k;

        if (!masked || !at)
                return -ENOMEM;
        /* Each field's masked text, one after the other in text. */
        for (size_t i = 0; i < n; i++) {
                const char *v = fields[i], *col = i < m->n_header ? m->header[i] : NULL;
                bool shown = false, person = false;

                at[i] = text.len;
                if (!v)
                        continue;
                for (size_t c = 0; col && c < _FIELD_MAX; c++) {
                        const struct field_map *fm = &f->map[c];

                        if (fm->set && !fm->value && streq(fm->from, col)) {
                                shown = shown || field_is_shown(c);
                                person = person || c == FIELD_PERSON_ID;
                        }
                }
                if (v[strspn(v, " ")] == 0 || shown)
                        k = buf_puts(&text, v);
                else if (person)
                        k = mask_person(m, v, &text);
                else
                        k = buf_puts(&text, "***");
                if (k < 0 || buf_putc(&text, 0) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                masked[i] = fields[i] ? text.data + at[i] : NULL;
        return canonical_csv_line(masked, n, f->csv.delimiter, out);
}

/* Whether the members on path are the keys of a mapped path. */
static bool path_is(const struct json_tree *t, const struct json_node *const *path, size_t depth, char *const *keys) {
        size_t i = 0;

        for (; keys && keys[i]; i++)
                if (i >= depth || path[i]->key_len != strlen(keys[i]) ||
                    memcmp(t->text.data + path[i]->key, keys[i], path[i]->key_len) != 0)
                        return false;
        return keys && i == depth;
}

static int mask_scalar(void *userdata, const struct json_tree *t, const struct json_node *n,
                       const struct json_node *const *path, size_t depth, struct buf *out) {
        const struct mapping *m = userdata;
        _cleanup_(buf_free) struct buf value = {}, masked = {};

        for (size_t f = 0; f < _FIELD_MAX; f++)
                if (field_is_shown(f) && m->source[f].set && m->source[f].path &&
                    path_is(t, path, depth, m->source[f].path))
                        return json_tree_print(t, n, NULL, NULL, out);
        if (m->source[FIELD_PERSON_ID].set && path_is(t, path, depth, m->source[FIELD_PERSON_ID].path)) {
                if (json_tree_text(t, n, &value) < 0 || mask_person(m, value.data ? value.data : "", &masked) < 0)
                        return -ENOMEM;
                return json_put_string(out, masked.data ? masked.data : "", masked.len);
        }
        return buf_puts(out, "\"***\"");
}

int mapping_mask_json(struct mapping *m, struct buf *out) {
        const struct json_node *root = json_tree_get(&m->tree, NULL);

        if (!root)
                return -EINVAL;
        return json_tree_print(&m->tree, root, mask_scalar, m, out);
}

/* ---- the mapping as JSON ---- */

/* A dot path as a JSON array of keys: "case.address.street". */
static void write_path(struct json_writer *w, const char *path) {
        const char *p = path;

        json_array_begin(w);
        for (;;) {
                size_t l = strcspn(p, ".");

                json_string_n(w, p, l);
                if (!p[l])
                        break;
                p += l + 1;
        }
        json_array_end(w);
}

void mapping_write_json(struct json_writer *w, const struct feed_config *f) {
        char delim[2] = { f->csv.delimiter, 0 };

        json_object_begin(w);
        json_key_string(w, "source", feed_source_names[f->source]);
        json_key_string(w, "format", feed_format_to_string(f->format));
        json_key_string(w, "delimiter", delim);
        json_key_bool(w, "decimal_comma", f->decimal_comma);
        json_key_string(w, "date_format", f->date_format ? f->date_format : "YYYY-MM-DD");
        if (f->identity) {
                json_key(w, "identity");
                json_strv(w, f->identity);
        }
        json_key(w, "fields");
        json_object_begin(w);
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct field_map *m = &f->map[i];

                if (!m->set)
                        continue;
                json_key(w, canonical_field_names[i]);
                json_object_begin(w);
                if (m->value)
                        json_key_string(w, "value", m->value);
                else if (f->format == FEED_FORMAT_CSV)
                        json_key_string(w, "column", m->from);
                else {
                        json_key(w, "path");
                        write_path(w, m->from);
                }
                if (m->values) {
                        json_key(w, "values");
                        json_object_begin(w);
                        for (size_t k = 0; m->values[k] && m->values[k + 1]; k += 2)
                                json_key_string(w, m->values[k], m->values[k + 1]);
                        json_object_end(w);
                }
                json_object_end(w);
        }
        json_object_end(w);
        json_object_end(w);
}

int mapping_to_json(const struct feed_config *f, struct buf *out) {
        struct json_writer w;

        json_writer_init(&w, out);
        mapping_write_json(&w, f);
        return json_writer_finish(&w);
}
