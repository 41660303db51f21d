/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bar charts drawn on the server as SVG, for the report page: no script,
 * no asset from anywhere, nothing the Content-Security-Policy refuses
 * (colours come from the stylesheet by class). Each is a figure: its
 * title as a heading, the SVG (role="img", named by the title and a
 * sentence saying where its numbers are), a legend, and a table of the
 * same numbers beside it, which is what screen readers read. Numbers
 * are written in the page's language. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/web/html.h"

/* One series of bars: a value per category (counts, 0 or more). */
struct chart_series {
        const char *label;
        const long long *values;
};

enum chart_layout {
        CHART_STACKED,     /* a category's series on one another (and a total in the table) */
        CHART_GROUPED,     /* side by side */
};

struct chart {
        const char *id;                    /* for element ids: a-z, 0-9 and '-' */
        const char *title;                 /* text */
        const char *category_heading;      /* the table's first column ("Month") */
        const char *const *categories;     /* each category's label (text) */
        size_t n_categories;
        const struct chart_series *series;
        size_t n_series;
        enum chart_layout layout;
        bool horizontal;                   /* bars across, for long category labels */
};

/* Writes the whole figure. At most 8 series are told apart by colour; more
 * repeat them (the legend and the table still name each). */
void chart_write(struct html *h, const struct chart *c);

/* The top of a value axis: the smallest 1, 2 or 5 times a power of ten at
 * least max (1 for nothing), so that its ticks are round numbers. */
long long chart_axis_top(long long max);
