/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bar charts as SVG, in whole pixels of a fixed view box that the
 * stylesheet scales to the page's width. */
#include <stdio.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/chart.h"
#include "bokvar/web/page.h"

#define WIDTH 720
#define TOP 14
#define RIGHT 16
#define COLOURS 8

long long chart_axis_top(long long max) {
        long long p = 1;

        if (max <= 1)
                return 1;
        for (;;) {
                static const int steps[] = { 1, 2, 5 };

                for (size_t i = 0; i < ELEMENTSOF(steps); i++)
                        if (steps[i] * p >= max)
                                return steps[i] * p;
                if (p > __LONG_LONG_MAX__ / 100)
                        return max;
                p *= 10;
        }
}

/* How many parts the axis is cut into: round steps, whole numbers. */
static int axis_steps(long long top) {
        static const int candidates[] = { 5, 4, 2, 1 };

        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (top % candidates[i] == 0)
                        return candidates[i];
        return 1;
}

static long long category_total(const struct chart *c, size_t k) {
        long long t = 0;

        for (size_t s = 0; s < c->n_series; s++)
                t += MAX(c->series[s].values[k], 0LL);
        return t;
}

static long long largest(const struct chart *c) {
        long long max = 0;

        for (size_t k = 0; k < c->n_categories; k++)
                if (c->layout == CHART_STACKED)
                        max = MAX(max, category_total(c, k));
                else
                        for (size_t s = 0; s < c->n_series; s++)
                                max = MAX(max, c->series[s].values[k]);
        return max;
}

/* A bar, with what it stands for as its tooltip. */
static void bar(struct html *h, const struct chart *c, size_t s, size_t k, long long x, long long y, long long w,
                long long ht) {
        char value[L10N_TEXT_MAX];

        if (ht <= 0 || w <= 0)
                return;
        (void) l10n_int(c->series[s].values[k], value);
        html_printf(h, "<rect class=\"s%zu\" x=\"%lld\" y=\"%lld\" width=\"%lld\" height=\"%lld\"><title>", s % COLOURS,
                    x, y, w, ht);
        if (c->n_series > 1)
                html_printf(h, "%s, ", c->series[s].label);
        html_printf(h, "%s: %s</title></rect>\n", c->categories[k], value);
}

static void tick_label(struct html *h, long long v, long long x, long long y, const char *anchor) {
        char value[L10N_TEXT_MAX];

        (void) l10n_int(v, value);
        html_printf(h, "<text class=\"tick\" x=\"%lld\" y=\"%lld\" text-anchor=\"%s\">%s</text>\n", x, y, anchor, value);
}

static void vertical(struct html *h, const struct chart *c, long long top) {
        const long long left = 60, bottom = 40, height = 280, plot_w = WIDTH - left - RIGHT;
        const long long plot_h = height - TOP - bottom, n = (long long) MAX(c->n_categories, (size_t) 1);
        const long long band = plot_w / n;
        int steps = axis_steps(top);

        html_printf(h, "<svg viewBox=\"0 0 %d %lld\" role=\"img\" aria-labelledby=\"%s-title %s-note\" "
                       "focusable=\"false\">\n",
                    WIDTH, height, c->id, c->id);
        for (int i = 0; i <= steps; i++) {
                long long v = top / steps * i, y = TOP + plot_h - plot_h * i / steps;

                html_printf(h, "<line class=\"grid\" x1=\"%lld\" y1=\"%lld\" x2=\"%lld\" y2=\"%lld\"/>\n", left, y,
                            (long long) WIDTH - RIGHT, y);
                tick_label(h, v, left - 8, y + 4, "end");
        }
        for (size_t k = 0; k < c->n_categories; k++) {
                long long x0 = left + (long long) k * band, base = TOP + plot_h;

                if (c->layout == CHART_STACKED) {
                        long long w = band * 6 / 10, x = x0 + (band - w) / 2, sum = 0;

                        for (size_t s = 0; s < c->n_series; s++) {
                                long long v = MAX(c->series[s].values[k], 0LL);
                                long long y_hi = base - plot_h * (sum + v) / top, y_lo = base - plot_h * sum / top;

                                bar(h, c, s, k, x, y_hi, w, y_lo - y_hi);
                                sum += v;
                        }
                } else {
                        long long inner = band * 8 / 10, w = inner / (long long) MAX(c->n_series, (size_t) 1);

                        for (size_t s = 0; s < c->n_series; s++) {
                                long long v = MAX(c->series[s].values[k], 0LL), ht = plot_h * v / top;

                                bar(h, c, s, k, x0 + (band - inner) / 2 + (long long) s * w, base - ht, w - 1, ht);
                        }
                }
                html_printf(h, "<text class=\"label\" x=\"%lld\" y=\"%lld\" text-anchor=\"middle\">%s</text>\n",
                            x0 + band / 2, height - bottom + 18, c->categories[k]);
        }
        html_printf(h, "<line class=\"axis\" x1=\"%lld\" y1=\"%lld\" x2=\"%lld\" y2=\"%lld\"/>\n</svg>\n", left,
                    TOP + plot_h, (long long) WIDTH - RIGHT, TOP + plot_h);
}

static void horizontal(struct html *h, const struct chart *c, long long top) {
        const long long left = 240, bottom = 28, plot_w = WIDTH - left - RIGHT;
        const long long band = c->layout == CHART_GROUPED ? 12 * (long long) c->n_series + 12 : 26;
        const long long plot_h = band * (long long) c->n_categories, height = TOP + plot_h + bottom;
        int steps = axis_steps(top);

        html_printf(h, "<svg viewBox=\"0 0 %d %lld\" role=\"img\" aria-labelledby=\"%s-title %s-note\" "
                       "focusable=\"false\">\n",
                    WIDTH, height, c->id, c->id);
        for (int i = 0; i <= steps; i++) {
                long long v = top / steps * i, x = left + plot_w * i / steps;

                html_printf(h, "<line class=\"grid\" x1=\"%lld\" y1=\"%d\" x2=\"%lld\" y2=\"%lld\"/>\n", x, TOP, x,
                            TOP + plot_h);
                tick_label(h, v, x, height - 8, "middle");
        }
        for (size_t k = 0; k < c->n_categories; k++) {
                long long y0 = TOP + (long long) k * band, sum = 0;

                if (c->layout == CHART_STACKED)
                        for (size_t s = 0; s < c->n_series; s++) {
                                long long v = MAX(c->series[s].values[k], 0LL);
                                long long x_lo = left + plot_w * sum / top, x_hi = left + plot_w * (sum + v) / top;

                                bar(h, c, s, k, x_lo, y0 + 5, x_hi - x_lo, band - 10);
                                sum += v;
                        }
                else
                        for (size_t s = 0; s < c->n_series; s++) {
                                long long v = MAX(c->series[s].values[k], 0LL);

                                bar(h, c, s, k, left, y0 + 6 + 12 * (long long) s, plot_w * v / top, 11);
                        }
                html_printf(h, "<text class=\"label\" x=\"%lld\" y=\"%lld\" text-anchor=\"end\">%s</text>\n", left - 8,
                            y0 + band / 2 + 4, c->categories[k]);
        }
        html_printf(h, "<line class=\"axis\" x1=\"%lld\" y1=\"%d\" x2=\"%lld\" y2=\"%lld\"/>\n</svg>\n", left, TOP, left,
                    TOP + plot_h);
}

static void legend(struct html *h, const struct chart *c) {
        if (c->n_series < 2)
                return;
        html_markup(h, "<ul class=\"legend\">\n");
        for (size_t s = 0; s < c->n_series; s++)
                html_printf(h, "<li><span class=\"swatch s%zu\"></span>%s</li>\n", s % COLOURS, c->series[s].label);
        html_markup(h, "</ul>\n");
}

static void table(struct html *h, const struct chart *c) {
        bool total = c->layout == CHART_STACKED && c->n_series > 1;

        html_printf(h, "<table class=\"chart-data\">\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>",
                    c->title, c->category_heading);
        for (size_t s = 0; s < c->n_series; s++)
                html_printf(h, "<th scope=\"col\" class=\"num\">%s</th>", c->series[s].label);
        if (total)
                html_printf(h, "<th scope=\"col\" class=\"num\">%s</th>", _("Total"));
        html_markup(h, "</tr></thead>\n<tbody>\n");
        for (size_t k = 0; k < c->n_categories; k++) {
                html_printf(h, "<tr><th scope=\"row\">%s</th>", c->categories[k]);
                for (size_t s = 0; s < c->n_series; s++) {
                        html_markup(h, "<td class=\"num\">");
                        page_int(h, c->series[s].values[k]);
                        html_markup(h, "</td>");
                }
                if (total) {
                        html_markup(h, "<td class=\"num\">");
                        page_int(h, category_total(c, k));
                        html_markup(h, "</td>");
                }
                html_markup(h, "</tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n");
}

void chart_write(struct html *h, const struct chart *c) {
        long long top = chart_axis_top(largest(c));

        /* A table of many series is too wide to sit beside the picture: below it. */
        html_markup(h, "<figure class=\"chart");
        if (c->n_series > 2)
                html_markup(h, " wide");
        html_printf(h, "\" aria-labelledby=\"%s-title\">\n<h3 id=\"%s-title\">%s</h3>\n", c->id, c->id, c->title);
        html_printf(h, "<div class=\"chart-picture\">\n<p class=\"visually-hidden\" id=\"%s-note\">%s</p>\n", c->id,
                    _("A bar chart; its numbers are in the table beside it."));
        if (c->horizontal)
                horizontal(h, c, top);
        else
                vertical(h, c, top);
        legend(h, c);
        html_markup(h, "</div>\n");
        table(h, c);
        html_markup(h, "</figure>\n");
}
