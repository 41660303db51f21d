/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Gathered file:line:column diagnostics. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "bokvar/diag.h"
#include "bokvar/util.h"

static bool grow(struct diag *d) {
        size_t cap = d->cap, want = d->n + 1;
        char **m;
        unsigned *l, *c;

        if (want <= cap)
                return true;
        cap = MAX(want, cap * 2);
        m = reallocarray(d->messages, cap, sizeof *m);
        if (m)
                d->messages = m;
        l = reallocarray(d->lines, cap, sizeof *l);
        if (l)
                d->lines = l;
        c = reallocarray(d->columns, cap, sizeof *c);
        if (c)
                d->columns = c;
        if (!m || !l || !c)
                return false;
        d->cap = cap;
        return true;
}

int diag_add(struct diag *d, const char *path, unsigned line, unsigned column, const char *fmt, ...) {
        struct buf b = {};
        va_list ap;

        if (line > 0)
                (void) buf_printf(&b, "%s:%u:%u: ", path, line, column);
        else
                (void) buf_printf(&b, "%s: ", path);
        va_start(ap, fmt);
        (void) buf_vprintf(&b, fmt, ap);
        va_end(ap);
        if (!b.data || !grow(d)) {
                buf_free(&b);
                return -ENOMEM;
        }
        d->lines[d->n] = line;
        d->columns[d->n] = column;
        d->messages[d->n++] = buf_steal(&b);
        return -EINVAL;
}

void diag_free(struct diag *d) {
        for (size_t i = 0; i < d->n; i++)
                free(d->messages[i]);
        d->messages = mfree(d->messages);
        d->lines = mfree(d->lines);
        d->columns = mfree(d->columns);
        d->n = d->cap = 0;
}

void diag_sort(struct diag *d, size_t start) {
        /* Insertion sort: stable, and lists are short. */
        for (size_t i = start + 1; i < d->n; i++)
                for (size_t j = i; j > start; j--) {
                        unsigned l = d->lines[j], c = d->columns[j];
                        char *m = d->messages[j];

                        if (d->lines[j - 1] < l || (d->lines[j - 1] == l && d->columns[j - 1] <= c))
                                break;
                        d->lines[j] = d->lines[j - 1];
                        d->columns[j] = d->columns[j - 1];
                        d->messages[j] = d->messages[j - 1];
                        d->lines[j - 1] = l;
                        d->columns[j - 1] = c;
                        d->messages[j - 1] = m;
                }
}

void diag_print(const struct diag *d, FILE *f) {
        for (size_t i = 0; i < d->n; i++)
                fprintf(f, "%s\n", d->messages[i]);
}
