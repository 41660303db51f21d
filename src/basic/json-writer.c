/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The JSON writer: commas, nesting and escaping in one place. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bokvar/basic/json-writer.h"

void json_writer_init(struct json_writer *w, struct buf *out) {
        *w = (struct json_writer){ .out = out };
}

static bool in_object(const struct json_writer *w) {
        return w->depth > 0 && (w->in_object & (UINT32_C(1) << w->depth));
}

static void fail(struct json_writer *w, int error) {
        if (w->error == 0)
                w->error = error;
}

/* Before a value: the comma after the previous one, or the check that a
 * key came first. */
static bool value_start(struct json_writer *w) {
        uint32_t bit = UINT32_C(1) << w->depth;

        if (w->error)
                return false;
        if (in_object(w)) {
                if (!w->after_key) {
                        fail(w, -EINVAL);
                        return false;
                }
                w->after_key = false;
                return true;
        }
        if (w->depth == 0 && (w->has_items & 1)) {
                fail(w, -EINVAL);   /* a second top-level value */
                return false;
        }
        if (w->has_items & bit && buf_putc(w->out, ',') < 0) {
                fail(w, -ENOMEM);
                return false;
        }
        w->has_items |= bit;
        return true;
}

static void put(struct json_writer *w, int r) {
        if (r < 0)
                fail(w, -ENOMEM);
}

static void begin(struct json_writer *w, char c, bool object) {
        if (!value_start(w))
                return;
        if (w->depth + 1 >= JSON_WRITER_MAX_DEPTH) {
                fail(w, -EINVAL);
                return;
        }
        w->depth++;
        w->has_items &= ~(UINT32_C(1) << w->depth);
        if (object)
                w->in_object |= UINT32_C(1) << w->depth;
        else
                w->in_object &= ~(UINT32_C(1) << w->depth);
        put(w, buf_putc(w->out, c));
}

static void end(struct json_writer *w, char c, bool object) {
        if (w->error)
                return;
        if (w->depth == 0 || in_object(w) != object || w->after_key) {
                fail(w, -EINVAL);
                return;
        }
        w->depth--;
        put(w, buf_putc(w->out, c));
}

void json_object_begin(struct json_writer *w) {
        begin(w, '{', true);
}

void json_object_end(struct json_writer *w) {
        end(w, '}', true);
}

void json_array_begin(struct json_writer *w) {
        begin(w, '[', false);
}

void json_array_end(struct json_writer *w) {
        end(w, ']', false);
}

void json_key(struct json_writer *w, const char *key) {
        uint32_t bit = UINT32_C(1) << w->depth;

        if (w->error)
                return;
        if (!in_object(w) || w->after_key) {
                fail(w, -EINVAL);
                return;
        }
        if (w->has_items & bit)
                put(w, buf_putc(w->out, ','));
        w->has_items |= bit;
        put(w, buf_put_json_string(w->out, key, strlen(key)));
        put(w, buf_putc(w->out, ':'));
        w->after_key = true;
}

void json_string_n(struct json_writer *w, const char *s, size_t n) {
        if (value_start(w))
                put(w, buf_put_json_string(w->out, s, n));
}

void json_string(struct json_writer *w, const char *s) {
        if (!s)
                json_null(w);
        else
                json_string_n(w, s, strlen(s));
}

void json_int(struct json_writer *w, int64_t v) {
        if (value_start(w))
                put(w, buf_printf(w->out, "%" PRIi64, v));
}

void json_uint(struct json_writer *w, uint64_t v) {
        if (value_start(w))
                put(w, buf_printf(w->out, "%" PRIu64, v));
}

void json_fixed(struct json_writer *w, double v, unsigned decimals) {
        if (decimals > 9 || v != v || v - v != 0) {   /* NaN and infinities are not JSON */
                fail(w, -EINVAL);
                return;
        }
        if (value_start(w))
                put(w, buf_printf(w->out, "%.*f", (int) decimals, v));
}

void json_bool(struct json_writer *w, bool v) {
        if (value_start(w))
                put(w, buf_puts(w->out, v ? "true" : "false"));
}

void json_null(struct json_writer *w) {
        if (value_start(w))
                put(w, buf_puts(w->out, "null"));
}

void json_raw(struct json_writer *w, const char *json) {
        if (value_start(w))
                put(w, buf_puts(w->out, json));
}

void json_strv(struct json_writer *w, char *const *l) {
        json_array_begin(w);
        for (size_t i = 0; l && l[i]; i++)
                json_string(w, l[i]);
        json_array_end(w);
}

int json_writer_finish(struct json_writer *w) {
        if (w->error)
                return w->error;
        if (w->depth != 0 || w->after_key || !(w->has_items & 1))
                return -EINVAL;
        return 0;
}
