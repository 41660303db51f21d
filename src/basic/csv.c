/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CSV fields. */
#include <errno.h>
#include <string.h>

#include "bokvar/basic/csv.h"

static int field(struct buf *b, const char *s, bool first, bool guard) {
        if (!first && buf_putc(b, ',') < 0)
                return -ENOMEM;
        if (!s)
                return 0;
        if (!strpbrk(s, ",\"\r\n") && !(guard && s[0] && strchr("=+-@\t\r", s[0])))
                return buf_puts(b, s) < 0 ? -ENOMEM : 0;
        if (buf_putc(b, '"') < 0 || (guard && s[0] && strchr("=+-@\t\r", s[0]) && buf_putc(b, '\'') < 0))
                return -ENOMEM;
        for (const char *p = s; *p; p++)
                if ((*p == '"' && buf_putc(b, '"') < 0) || buf_putc(b, *p) < 0)
                        return -ENOMEM;
        return buf_putc(b, '"') < 0 ? -ENOMEM : 0;
}

int csv_value(struct buf *b, const char *s, bool first) {
        return field(b, s, first, false);
}

int csv_text(struct buf *b, const char *s, bool first) {
        return field(b, s, first, true);
}

int csv_end(struct buf *b) {
        return buf_puts(b, "\r\n") < 0 ? -ENOMEM : 0;
}

int csv_row(struct buf *b, const char *const *fields, size_t n, unsigned long text) {
        for (size_t i = 0; i < n; i++)
                if (field(b, fields[i], i == 0, i < 64 && (text & (1UL << i))) < 0)
                        return -ENOMEM;
        return csv_end(b);
}
