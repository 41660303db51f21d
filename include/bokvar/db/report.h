/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The yearly report as people read it, for bokvarctl report and
 * bokvar-web's report page alike, so that both show the same figures in
 * the same order with the same words: one statement lays bokvar.report()'s
 * object out as rows (a figure, its keys, the year's value and the year
 * before's), and the table here puts them in order, in sections, with a
 * label in the language in use (l10n_use) and each value written as that
 * language writes it. A figure the database gives that this table does
 * not know is left out of what people read (the test of the report
 * compares the two). */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/l10n-format.h"

/* The rows: $1 the year, $2 (boolean) with the year before; columns as
 * below. For the signals, key is the source and sub the kind; for counts
 * by key (outcomes), key; by two keys (outcomes by cause, the months of
 * the signals), key and sub. A list of household ids is one value, the
 * ids apart by spaces. */
extern const char report_rows_sql[];
enum {
        REPORT_COL_FIGURE,
        REPORT_COL_KEY,
        REPORT_COL_SUB,
        REPORT_COL_VALUE,
        REPORT_COL_PREVIOUS,
};

enum report_value {
        REPORT_COUNT,
        REPORT_SHARE,        /* 0.453: 45,3 % */
        REPORT_DAYS,         /* a median, perhaps half a day */
        REPORT_HOUSEHOLDS,   /* household ids */
};

/* A section of the report: its heading (NULL: none, a blank line) and its
 * figures in order. */
struct report_line {
        unsigned section;
        bool indented;               /* a part of the line above it */
        enum report_value kind;
        const char *figure;          /* bokvar.report()'s key */
        const char *key, *sub;       /* NULL for a figure of one value */
        const char *value, *previous;   /* NULL: none (a count by key the year lacks is 0) */
};

/* Puts the rows in the report's order; the lines point into rows. NULL
 * with no memory. Free with free(). */
struct report_line *report_lines(const PGresult *rows, size_t *ret_n);

/* The heading of a section, translated; NULL for a section without one. */
const char *report_section_heading(unsigned section);
/* A line's label, translated, into buf. */
const char *report_line_label(const struct report_line *l, char *buf, size_t size);
/* The figure's name for a machine (CSV): "tasks_opened",
 * "signals.landlord.arrears", "outcomes.kept_home", into buf. */
const char *report_line_name(const struct report_line *l, char *buf, size_t size);
/* A value (the line's value or previous) as the database writes it, for
 * a spreadsheet (bokvarctl report --csv and the report page's CSV alike):
 * a count by key the year lacks is "0", other values NULL for none. */
const char *report_value_raw(const struct report_line *l, const char *v);
/* A value (the line's value or previous) as the language in use writes
 * it: "-" for none, household ids as they are. */
const char *report_value_text(const struct report_line *l, const char *v, char out[static L10N_TEXT_MAX]);
