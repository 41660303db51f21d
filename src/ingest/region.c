/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The area of a regional feed. */
#include <errno.h>
#include <string.h>

#include "bokvar/basic/word.h"
#include "bokvar/ingest/region.h"

/* Whether the normalised postal code key is one of codes (a '*' at a
 * code's end: a prefix of it). */
static int postal_listed(char *const *codes, const char *key, bool *ret) {
        struct buf c = {};

        *ret = false;
        for (size_t i = 0; codes[i] && !*ret; i++) {
                size_t len = strlen(codes[i]);
                bool prefix = len > 1 && codes[i][len - 1] == '*';
                int k;

                buf_clear(&c);
                k = word_normalize(codes[i], &c);
                if (k < 0) {
                        buf_free(&c);
                        return -ENOMEM;
                }
                if (k == 0)
                        continue;
                /* word_normalize() keeps the '*': it is no punctuation. */
                if (prefix && c.len > 0 && c.data[c.len - 1] == '*')
                        *ret = strncmp(key, c.data, c.len - 1) == 0;
                else
                        *ret = streq(key, c.data);
        }
        buf_free(&c);
        return 0;
}

int region_check(const struct feed_config *f, const struct signal_row *row, enum region *ret) {
        const char *postal = row->text[FIELD_POSTAL_CODE], *municipality = row->text[FIELD_MUNICIPALITY_CODE];
        bool given = false;

        if (!f->only.postal_codes && !f->only.municipality_codes) {
                *ret = REGION_INSIDE;
                return 0;
        }
        if (f->only.municipality_codes && municipality) {
                given = true;
                for (char *const *c = f->only.municipality_codes; *c; c++)
                        if (streq(*c, municipality)) {
                                *ret = REGION_INSIDE;
                                return 0;
                        }
        }
        if (f->only.postal_codes && postal) {
                struct buf key = {};
                bool listed = false;
                int k = word_normalize(postal, &key);

                if (k < 0)
                        return -ENOMEM;
                if (k > 0) {
                        given = true;
                        k = postal_listed(f->only.postal_codes, key.data, &listed);
                }
                buf_free(&key);
                if (k < 0)
                        return k;
                if (listed) {
                        *ret = REGION_INSIDE;
                        return 0;
                }
        }
        *ret = given ? REGION_OUTSIDE : REGION_UNKNOWN;
        return 0;
}
