/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Mapped records as COPY text for the typed staging table. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/ingest/region.h"
#include "bokvar/ingest/stage.h"

/* COPY's text format: backslash, tab, newline and carriage return escaped. */
static const char copy_escape[256] = { ['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r' };

/* How many bytes of s[0, n) need no escape: eight at a time while none
 * of them is below 0x20 or a backslash, then one at a time. */
static size_t plain_prefix(const char *s, size_t n) {
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        size_t i = 0;

        for (; i + 8 <= n; i += 8) {
                uint64_t w, x;

                memcpy(&w, s + i, 8);
                x = w ^ (ones * '\\');
                if ((((w - ones * 0x20) & ~w) | ((x - ones) & ~x)) & highs)
                        break;
        }
        while (i < n && !copy_escape[(unsigned char) s[i]])
                i++;
        return i;
}

static int copy_text(struct buf *b, const char *s, size_t n) {
        size_t start = 0;

        if (buf_reserve(b, n * 2) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char e;

                i += plain_prefix(s + i, n - i);
                if (i == n)
                        break;
                e = copy_escape[(unsigned char) s[i]];
                memcpy(b->data + b->len, s + start, i - start);
                b->len += i - start;
                b->data[b->len++] = '\\';
                b->data[b->len++] = e;
                start = i + 1;
        }
        memcpy(b->data + b->len, s + start, n - start);
        b->len += n - start;
        b->data[b->len] = 0;
        return 0;
}

/* A text[] literal element, quoted, inside COPY text: the array's own
 * escapes (\" and \\) get COPY's escaping on top. */
static int copy_array_element(struct buf *b, const char *s) {
        size_t n = strlen(s);

        if (buf_reserve(b, n * 4 + 2) < 0)
                return -ENOMEM;
        b->data[b->len++] = '"';
        for (size_t i = 0; i < n; i++) {
                char *o = b->data + b->len;

                switch (s[i]) {
                case '"': memcpy(o, "\\\\\"", 3); b->len += 3; break;
                case '\\': memcpy(o, "\\\\\\\\", 4); b->len += 4; break;
                case '\t': memcpy(o, "\\t", 2); b->len += 2; break;
                case '\n': memcpy(o, "\\n", 2); b->len += 2; break;
                case '\r': memcpy(o, "\\r", 2); b->len += 2; break;
                default: *o = s[i]; b->len++;
                }
        }
        b->data[b->len++] = '"';
        b->data[b->len] = 0;
        return 0;
}

/* A column: tab before it, \N for NULL. */
static int put_text_n(struct buf *b, const char *s, size_t n) {
        if (buf_putc(b, '\t') < 0)
                return -ENOMEM;
        return s ? copy_text(b, s, n) : buf_puts(b, "\\N");
}

static int put_text(struct buf *b, const char *s) {
        return put_text_n(b, s, s ? strlen(s) : 0);
}

/* A field of the row, whose length its storage knows. */
static int put_field(struct buf *b, const struct signal_row *row, enum canonical_field f) {
        return put_text_n(b, row->text[f], row->text[f] ? row->storage[f].len : 0);
}

/* One of the row's normalised words, or NULL. */
static int put_word(struct buf *b, bool has, const struct buf *w) {
        return put_text_n(b, has ? (w->data ? w->data : "") : NULL, has ? w->len : 0);
}

static int put_nulls(struct buf *b, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                if (buf_puts(b, "\t\\N") < 0)
                        return -ENOMEM;
        return 0;
}

/* Digits of v, without printf: a million rows make this a hot spot. */
static int put_digits(struct buf *b, uint64_t v) {
        char d[20];
        size_t n = 0;

        do
                d[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        if (buf_reserve(b, n) < 0)
                return -ENOMEM;
        while (n > 0)
                b->data[b->len++] = d[--n];
        b->data[b->len] = 0;
        return 0;
}

static int put_int(struct buf *b, int64_t v) {
        if (v < 0)
                return buf_puts(b, "\t\\N");
        return buf_putc(b, '\t') < 0 ? -ENOMEM : put_digits(b, (uint64_t) v);
}

static int put_day(struct buf *b, day_t d) {
        char text[11];

        if (d == DAY_NONE)
                return buf_puts(b, "\t\\N");
        return buf_putc(b, '\t') < 0 ? -ENOMEM : buf_put(b, day_format(d, text), 10);
}

/* The seq and line that begin every row. */
static int put_row_start(struct buf *b, uint64_t seq, unsigned line) {
        if (put_digits(b, seq) < 0 || buf_putc(b, '\t') < 0 || put_digits(b, line) < 0)
                return -ENOMEM;
        return 0;
}

/* The typed columns of a signal, from external_id to landlord_key. */
static int put_signal(struct buf *b, const struct signal_row *row) {
        char amount[24];

        if (put_field(b, row, FIELD_EXTERNAL_ID) < 0 || buf_putc(b, '\t') < 0 ||
            buf_puts(b, signal_kind_names[row->kind]) < 0 ||
            put_day(b, row->occurred_at) < 0 || put_day(b, row->deadline) < 0 ||
            put_text(b, row->person_id[0] ? row->person_id : NULL) < 0 || put_field(b, row, FIELD_NAME) < 0 ||
            put_field(b, row, FIELD_ADDRESS) < 0 || put_field(b, row, FIELD_POSTAL_CODE) < 0 ||
            put_field(b, row, FIELD_CITY) < 0 || put_field(b, row, FIELD_APARTMENT) < 0 ||
            put_int(b, row->children) < 0 ||
            (row->amount < 0 ? buf_puts(b, "\t\\N")
                             : buf_putc(b, '\t') < 0 ? -ENOMEM
                                                     : buf_puts(b, canonical_amount_format(row->amount, amount))) < 0 ||
            put_int(b, row->months_in_arrears) < 0 || put_field(b, row, FIELD_LANDLORD) < 0 ||
            put_word(b, row->has_address_key, &row->address_key) < 0 ||
            put_word(b, row->has_postal_key, &row->postal_key) < 0 ||
            put_word(b, row->has_city_key, &row->city_key) < 0 ||
            put_word(b, row->has_landlord_key, &row->landlord_key) < 0)
                return -ENOMEM;
        return 0;
}

/* Keeps the order of the signals' external ids: a fetch sorted by them
 * (most exports are) has no record twice, which the SQL then need not
 * search for. strcmp() orders bytes as COLLATE "C" does. */
static int track_id_order(struct stage *s, const char *id) {
        if (s->ids_unordered)
                return 0;
        if (!id || (s->has_last_id && strcmp(id, s->last_id.data ? s->last_id.data : "") <= 0)) {
                s->ids_unordered = true;
                return 0;
        }
        buf_clear(&s->last_id);
        s->has_last_id = true;
        return buf_puts(&s->last_id, id);
}

void stage_init(struct stage *s, const struct feed_config *feed, day_t today) {
        s->feed = feed;
        s->today = today;
}

static int ensure_mapping(struct stage *s) {
        if (s->mapping)
                return 0;
        return mapping_new(s->feed, s->header, s->today, &s->mapping);
}

static int stage_header(void *userdata, char *const *names, size_t n) {
        struct stage *s = userdata;

        s->header = strv_free(s->header);
        s->mapping = mapping_free(s->mapping);
        s->header = calloc(1, sizeof(char *));
        if (!s->header)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&s->header, names[i]) < 0)
                        return -ENOMEM;
        return ensure_mapping(s);
}

/* A mapped record of a regional feed (only:) that is outside its area is
 * counted and goes no further: 1. One that cannot be placed becomes a row
 * to quarantine (*k = 1, with the reason). 0 for the rest. */
static int outside_area(struct stage *s, int *k) {
        enum region where;
        int r = region_check(s->feed, &s->row, &where);

        if (r < 0)
                return r;
        if (where == REGION_OUTSIDE) {
                s->filtered++;
                return 1;
        }
        if (where == REGION_UNKNOWN) {
                if ((s->row.reason.len > 0 && buf_puts(&s->row.reason, "; ") < 0) ||
                    buf_puts(&s->row.reason, REGION_UNKNOWN_REASON) < 0)
                        return -ENOMEM;
                *k = 1;
        }
        return 0;
}

/* After a record is mapped (k: 0 to stage, 1 to quarantine): one outside
 * a regional feed's area is counted and goes no further; one to stage is
 * written whole; one to quarantine gets its row begun with the reason, and
 * the caller adds what it knows of the record. 1 when the record is done,
 * 0 when the caller goes on, negative errno. */
static int stage_mapped(struct stage *s, unsigned line, int k) {
        struct buf *b = &s->out;
        int o = outside_area(s, &k);

        if (o != 0)
                return o;
        if (put_row_start(b, ++s->rows, line) < 0)
                return -ENOMEM;
        if (k == 0)
                return track_id_order(s, s->row.text[FIELD_EXTERNAL_ID]) < 0 || put_signal(b, &s->row) < 0 ||
                                       put_nulls(b, 5) < 0 || buf_putc(b, '\n') < 0
                               ? -ENOMEM
                               : 1;
        s->quarantined++;
        if (put_nulls(b, 18) < 0 || put_text(b, s->row.reason.data) < 0 || buf_putc(b, '\t') < 0)
                return -ENOMEM;
        return 0;
}

static int stage_fields(void *userdata, unsigned line, char *const *fields, size_t n) {
        struct stage *s = userdata;
        struct buf *b = &s->out;
        int k;

        if ((k = ensure_mapping(s)) < 0)
                return k;
        k = mapping_map_fields(s->mapping, fields, n, &s->row);
        if (k < 0)
                return k;
        if ((k = stage_mapped(s, line, k)) != 0)
                return k < 0 ? k : 0;

        /* Quarantined: after the reason, the record written back as a CSV
         * line, its fields for a retry, and what operators see of it. */
        {
                _cleanup_(buf_free) struct buf line_text = {};

                if (canonical_csv_line(fields, n, s->feed->csv.delimiter, &line_text) < 0 ||
                    copy_text(b, line_text.data ? line_text.data : "", line_text.len) < 0)
                        return -ENOMEM;
        }
        if (buf_puts(b, "\t{") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (i > 0 && buf_putc(b, ',') < 0)
                        return -ENOMEM;
                if ((fields[i] ? copy_array_element(b, fields[i]) : buf_puts(b, "NULL")) < 0)
                        return -ENOMEM;
        }
        if (buf_puts(b, "}\t\\N\t") < 0)
                return -ENOMEM;
        {
                _cleanup_(buf_free) struct buf masked = {};

                if (mapping_mask_fields(s->mapping, fields, n, &masked) < 0 ||
                    copy_text(b, masked.data ? masked.data : "", masked.len) < 0)
                        return -ENOMEM;
        }
        return buf_putc(b, '\n');
}

static int stage_json(void *userdata, unsigned line, const char *text, size_t len) {
        struct stage *s = userdata;
        struct buf *b = &s->out;
        int k;

        if ((k = ensure_mapping(s)) < 0)
                return k;
        k = mapping_map_json(s->mapping, text, len, &s->row);
        if (k < 0)
                return k;
        if ((k = stage_mapped(s, line, k)) != 0)
                return k < 0 ? k : 0;

        /* Quarantined: after the reason, the document (its own raw), and
         * what operators see of it. */
        if (buf_puts(b, "\\N\t\\N\t") < 0 || copy_text(b, text, len) < 0 || buf_putc(b, '\t') < 0)
                return -ENOMEM;
        {
                _cleanup_(buf_free) struct buf masked = {};

                if (mapping_mask_json(s->mapping, &masked) < 0 ||
                    copy_text(b, masked.data ? masked.data : "", masked.len) < 0)
                        return -ENOMEM;
        }
        return buf_putc(b, '\n');
}

static int stage_error(void *userdata, unsigned line, const char *raw, size_t len, const char *reason) {
        struct stage *s = userdata;
        struct buf *b = &s->out;

        s->quarantined++;
        if (put_row_start(b, ++s->rows, line) < 0 || put_nulls(b, 18) < 0 ||
            put_text(b, reason) < 0 || buf_putc(b, '\t') < 0 || copy_text(b, raw, len) < 0 ||
            buf_puts(b, "\t\\N\t\\N\t\\N\n") < 0)
                return -ENOMEM;
        return 0;
}

static int stage_next(void *userdata, const char *value) {
        struct stage *s = userdata;

        free(s->next);
        s->next = value && *value ? strdup(value) : NULL;
        return value && *value && !s->next ? -ENOMEM : 0;
}

const struct reader_ops stage_reader_ops = {
        .header = stage_header,
        .fields = stage_fields,
        .json = stage_json,
        .error = stage_error,
        .next = stage_next,
};

void stage_done(struct stage *s) {
        buf_free(&s->out);
        s->header = strv_free(s->header);
        s->next = mfree(s->next);
        s->mapping = mapping_free(s->mapping);
        signal_row_done(&s->row);
        buf_free(&s->last_id);
        s->has_last_id = s->ids_unordered = false;
        s->rows = s->quarantined = s->filtered = 0;
}
