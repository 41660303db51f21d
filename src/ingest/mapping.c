/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The mapping jsonb the ingest SQL reads. */
#include <string.h>

#include "bokvar/ingest/mapping.h"

static int put_string(struct buf *b, const char *s) {
        return buf_put_json_string(b, s, strlen(s));
}

/* A dot path as a JSON array of keys: "case.address.street". */
static int put_path(struct buf *b, const char *path) {
        const char *p = path;
        int r = buf_putc(b, '[');

        while (r == 0) {
                size_t l = strcspn(p, ".");

                r = buf_put_json_string(b, p, l);
                if (r < 0 || !p[l])
                        break;
                r = buf_putc(b, ',');
                p += l + 1;
        }
        return r < 0 ? r : buf_putc(b, ']');
}

int mapping_to_json(const struct feed_config *f, struct buf *out) {
        char delim[2] = { f->csv.delimiter, 0 };
        bool first = true;
        int r = 0;

        r |= buf_puts(out, "{\"source\": ");
        r |= put_string(out, feed_source_names[f->source]);
        r |= buf_puts(out, ", \"format\": ");
        r |= put_string(out, feed_format_to_string(f->format));
        r |= buf_puts(out, ", \"delimiter\": ");
        r |= put_string(out, delim);
        r |= buf_printf(out, ", \"decimal_comma\": %s", f->decimal_comma ? "true" : "false");
        r |= buf_puts(out, ", \"date_format\": ");
        r |= put_string(out, f->date_format ? f->date_format : "YYYY-MM-DD");
        if (f->identity) {
                r |= buf_puts(out, ", \"identity\": [");
                for (size_t i = 0; f->identity[i]; i++) {
                        r |= buf_puts(out, i ? ", " : "");
                        r |= put_string(out, f->identity[i]);
                }
                r |= buf_puts(out, "]");
        }
        r |= buf_puts(out, ", \"fields\": {");
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                const struct field_map *m = &f->map[i];

                if (!m->set)
                        continue;
                r |= buf_puts(out, first ? "" : ", ");
                first = false;
                r |= put_string(out, canonical_field_names[i]);
                if (m->value) {
                        r |= buf_puts(out, ": {\"value\": ");
                        r |= put_string(out, m->value);
                } else if (f->format == FEED_FORMAT_CSV) {
                        r |= buf_puts(out, ": {\"column\": ");
                        r |= put_string(out, m->from);
                } else {
                        r |= buf_puts(out, ": {\"path\": ");
                        r |= put_path(out, m->from);
                }
                if (m->values) {
                        r |= buf_puts(out, ", \"values\": {");
                        for (size_t k = 0; m->values[k] && m->values[k + 1]; k += 2) {
                                r |= buf_puts(out, k ? ", " : "");
                                r |= put_string(out, m->values[k]);
                                r |= buf_puts(out, ": ");
                                r |= put_string(out, m->values[k + 1]);
                        }
                        r |= buf_puts(out, "}");
                }
                r |= buf_puts(out, "}");
        }
        r |= buf_puts(out, "}}");
        return r < 0 ? -ENOMEM : 0;
}
