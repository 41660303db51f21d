/* SPDX-License-Identifier: GPL-3.0-or-later */
/* COPY text for the staging table. */
#include <errno.h>
#include <string.h>

#include "bokvar/ingest/stage.h"

/* COPY's text format: backslash, tab, newline and carriage return escaped. */
static int copy_text(struct buf *b, const char *s, size_t n) {
        size_t start = 0;

        if (buf_reserve(b, n * 2) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char e;

                switch (s[i]) {
                case '\\': e = '\\'; break;
                case '\t': e = 't'; break;
                case '\n': e = 'n'; break;
                case '\r': e = 'r'; break;
                default: continue;
                }
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

static int stage_header(void *userdata, char *const *names, size_t n) {
        struct stage *s = userdata;

        s->header = strv_free(s->header);
        s->header = calloc(1, sizeof(char *));
        if (!s->header)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&s->header, names[i]) < 0)
                        return -ENOMEM;
        return 0;
}

static int stage_fields(void *userdata, unsigned line, char *const *fields, size_t n) {
        struct stage *s = userdata;
        int r = buf_printf(&s->out, "%llu\t%u\t{", (unsigned long long) ++s->rows, line);

        for (size_t i = 0; r == 0 && i < n; i++) {
                if (i > 0)
                        r = buf_putc(&s->out, ',');
                if (r == 0)
                        r = fields[i] ? copy_array_element(&s->out, fields[i]) : buf_puts(&s->out, "NULL");
        }
        if (r == 0)
                r = buf_puts(&s->out, "}\t\\N\t\\N\t\\N\n");
        return r;
}

static int stage_json(void *userdata, unsigned line, const char *text, size_t len) {
        struct stage *s = userdata;
        int r = buf_printf(&s->out, "%llu\t%u\t\\N\t", (unsigned long long) ++s->rows, line);

        if (r == 0)
                r = copy_text(&s->out, text, len);
        if (r == 0)
                r = buf_puts(&s->out, "\t\\N\t\\N\n");
        return r;
}

static int stage_error(void *userdata, unsigned line, const char *raw, size_t len, const char *reason) {
        struct stage *s = userdata;
        int r = buf_printf(&s->out, "%llu\t%u\t\\N\t\\N\t", (unsigned long long) ++s->rows, line);

        if (r == 0)
                r = copy_text(&s->out, raw, len);
        if (r == 0)
                r = buf_putc(&s->out, '\t');
        if (r == 0)
                r = copy_text(&s->out, reason, strlen(reason));
        if (r == 0)
                r = buf_putc(&s->out, '\n');
        return r;
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
        s->rows = 0;
}
