/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CSV for spreadsheets (RFC 4180): fields apart by commas, a field quoted
 * when it holds a comma, a quote or a line break, its quotes doubled;
 * lines end in CRLF. Text that people or feeds wrote is written with
 * csv_text(), which also keeps a spreadsheet from taking it for a formula
 * (a leading = + - @, tab or carriage return gets an apostrophe before
 * it, as OWASP advises for CSV injection); numbers, dates and our own
 * words with csv_value(). */
#pragma once

#include <stdbool.h>

#include "bokvar/basic/util.h"

/* A field (NULL: empty), with the comma before it unless first. */
int csv_value(struct buf *b, const char *s, bool first);
int csv_text(struct buf *b, const char *s, bool first);
/* The end of a line. */
int csv_end(struct buf *b);
/* A whole line of n fields; those whose bit is set in text (1 << i) are
 * written as csv_text(), the others as csv_value(). */
int csv_row(struct buf *b, const char *const *fields, size_t n, unsigned long text);
