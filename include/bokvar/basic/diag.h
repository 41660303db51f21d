/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A list of "file:line:column: message" diagnostics, gathered so that an
 * operator sees every mistake in a file at once, not one per run. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "bokvar/basic/macro.h"

struct diag {
        char **messages;
        char **paths;      /* where each message points, for sorting */
        unsigned *lines;
        unsigned *columns;
        size_t n;
        size_t cap;
};

/* Appends "path:line:column: message"; line 0 leaves out line and column.
 * Returns -EINVAL so callers can "return diag_add(...)". */
int diag_add(struct diag *d, const char *path, unsigned line, unsigned column, const char *fmt, ...) _printf_(5, 6);
void diag_free(struct diag *d);
/* Orders the messages from index start on as an operator reads files: by
 * file (in the order files first appear), then line and column. */
void diag_sort(struct diag *d, size_t start);
/* Writes every message on its own line. */
void diag_print(const struct diag *d, FILE *f);
