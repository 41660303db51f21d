/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The mapping jsonb the ingest SQL reads. */
#include <string.h>

#include "bokvar/ingest/mapping.h"

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
