/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Gathered file:line:column diagnostics. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/diag.h"
#include "bokvar/basic/util.h"

static bool grow(struct diag *d) {
        size_t cap = d->cap, want = d->n + 1;
        char **m, **p;
        unsigned *l, *c;

        if (want <= cap)
                return true;
        cap = MAX(want, cap * 2);
        m = reallocarray(d->messages, cap, sizeof *m);
        if (m)
                d->messages = m;
        p = reallocarray(d->paths, cap, sizeof *p);
        if (p)
                d->paths = p;
        l = reallocarray(d->lines, cap, sizeof *l);
        if (l)
                d->lines = l;
        c = reallocarray(d->columns, cap, sizeof *c);
        if (c)
                d->columns = c;
        if (!m || !p || !l || !c)
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
        if (!b.data || !grow(d) || !(d->paths[d->n] = strdup(path))) {
                buf_free(&b);
                return -ENOMEM;
        }
        d->lines[d->n] = line;
        d->columns[d->n] = column;
        d->messages[d->n++] = buf_steal(&b);
        return -EINVAL;
}

void diag_free(struct diag *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->messages[i]);
                free(d->paths[i]);
        }
        d->messages = mfree(d->messages);
        d->paths = mfree(d->paths);
        d->lines = mfree(d->lines);
        d->columns = mfree(d->columns);
        d->n = d->cap = 0;
}

/* Where a path first appears: files keep the order they were read in. */
static size_t file_rank(const struct diag *d, size_t start, size_t i) {
        for (size_t j = start; j < i; j++)
                if (streq(d->paths[j], d->paths[i]))
                        return j;
        return i;
}

static bool before(const struct diag *d, size_t start, size_t a, size_t b) {
        size_t ra = file_rank(d, start, a), rb = file_rank(d, start, b);

        if (ra != rb)
                return ra < rb;
        return d->lines[a] < d->lines[b] || (d->lines[a] == d->lines[b] && d->columns[a] < d->columns[b]);
}

void diag_sort(struct diag *d, size_t start) {
        /* Insertion sort: stable, and lists are short. */
        for (size_t i = start + 1; i < d->n; i++)
                for (size_t j = i; j > start && before(d, start, j, j - 1); j--) {
                        char *m = d->messages[j], *p = d->paths[j];
                        unsigned l = d->lines[j], c = d->columns[j];

                        d->messages[j] = d->messages[j - 1];
                        d->paths[j] = d->paths[j - 1];
                        d->lines[j] = d->lines[j - 1];
                        d->columns[j] = d->columns[j - 1];
                        d->messages[j - 1] = m;
                        d->paths[j - 1] = p;
                        d->lines[j - 1] = l;
                        d->columns[j - 1] = c;
                }
}

void diag_print(const struct diag *d, FILE *f) {
        struct buf b = {};

        for (size_t i = 0; i < d->n; i++) {
                buf_clear(&b);
                /* A message may quote a value: never a control character raw. */
                fprintf(f, "%s\n", buf_put_terminal_text(&b, d->messages[i], true) == 0 ? b.data : "(out of memory)");
        }
        buf_free(&b);
}
