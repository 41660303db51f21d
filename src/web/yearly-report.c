/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The yearly report as a page, for coordinators and auditors: the figures
 * of bokvarctl report (db/report.h: the same rows, order and words) for
 * the year chosen beside the year before, charts of what committees look
 * at first (signals by kind per month, tasks opened and closed per month,
 * outcomes, the households that kept their home), each with its numbers
 * in a table, and the figures as CSV. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/csv.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/db/report.h"
#include "bokvar/web/chart.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"
#include "bokvar/web/yearly-report.h"

/* Years the picker offers: this one and so many before it. */
#define YEARS_OFFERED 10

static const char *for_coordinators_and_auditors(void) {
        return _("This page is for coordinators and auditors.");
}

static int this_year(void) {
        time_t now = time(NULL);
        struct tm tm;

        return localtime_r(&now, &tm) ? tm.tm_year + 1900 : 2026;
}

/* The year asked for (?year=), else this one; -1 for one that is no year. */
static int year_asked(struct web_request *wr) {
        const char *y = request_query(wr->rq, "year");

        if (isempty(y))
                return this_year();
        if (strlen(y) != 4 || strspn(y, "0123456789") != 4 || y[0] == '0')
                return -1;
        return atoi(y);
}

/* A value of the rows: figure (and key, sub) in the year (or the year before). */
static long long value_of(const PGresult *rows, const char *figure, const char *key, const char *sub, bool previous) {
        for (int i = 0; i < PQntuples(rows); i++) {
                const char *v = web_value(rows, i, previous ? "previous" : "value");

                if (!streq_ptr(PQgetvalue(rows, i, REPORT_COL_FIGURE), figure) ||
                    !streq_ptr(PQgetisnull(rows, i, REPORT_COL_KEY) ? NULL : PQgetvalue(rows, i, REPORT_COL_KEY), key) ||
                    !streq_ptr(PQgetisnull(rows, i, REPORT_COL_SUB) ? NULL : PQgetvalue(rows, i, REPORT_COL_SUB), sub))
                        continue;
                return v ? strtoll(v, NULL, 10) : 0;
        }
        return 0;
}

static const char *const months[] = { "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12" };

static void chart_signals(struct html *h, const PGresult *rows, const char *title, const char *const *month_names) {
        long long values[_SIGNAL_KIND_MAX][12] = {};
        struct chart_series series[_SIGNAL_KIND_MAX];
        size_t n = 0;

        /* The kinds the year had, in the vocabulary's order. */
        for (size_t k = 0; k < _SIGNAL_KIND_MAX; k++) {
                long long sum = 0;

                for (size_t m = 0; m < 12; m++) {
                        values[n][m] = value_of(rows, "signals_by_month", signal_kind_names[k], months[m], false);
                        sum += values[n][m];
                }
                if (sum > 0) {
                        series[n] = (struct chart_series){ label_signal_kind(signal_kind_names[k]), values[n] };
                        n++;
                }
        }
        if (n == 0) {
                html_printf(h, "<h3>%s</h3>\n<p>%s</p>\n", title, _("No signal occurred in the year."));
                return;
        }
        chart_write(h, &(const struct chart){
                               .id = "chart-signals",
                               .title = title,
                               .category_heading = _("Month"),
                               .categories = month_names,
                               .n_categories = 12,
                               .series = series,
                               .n_series = n,
                               .layout = CHART_STACKED,
                       });
}

static void chart_tasks(struct html *h, const PGresult *rows, const char *title, const char *const *month_names) {
        long long opened[12], closed[12];

        for (size_t m = 0; m < 12; m++) {
                opened[m] = value_of(rows, "tasks_opened_by_month", months[m], NULL, false);
                closed[m] = value_of(rows, "tasks_closed_by_month", months[m], NULL, false);
        }
        chart_write(h, &(const struct chart){
                               .id = "chart-tasks",
                               .title = title,
                               .category_heading = _("Month"),
                               .categories = month_names,
                               .n_categories = 12,
                               .series = (const struct chart_series[]){ { _("opened"), opened }, { _("closed"), closed } },
                               .n_series = 2,
                               .layout = CHART_GROUPED,
                       });
}

static void chart_outcomes(struct html *h, const PGresult *rows, const char *title, const char *year,
                           const char *previous) {
        long long now[_TASK_OUTCOME_MAX], before[_TASK_OUTCOME_MAX];
        const char *labels[_TASK_OUTCOME_MAX];
        size_t n = 0;

        for (size_t o = 0; o < _TASK_OUTCOME_MAX; o++) {
                now[n] = value_of(rows, "outcomes", task_outcome_names[o], NULL, false);
                before[n] = value_of(rows, "outcomes", task_outcome_names[o], NULL, true);
                if (now[n] > 0 || before[n] > 0)
                        labels[n++] = label_task_outcome(task_outcome_names[o]);
        }
        if (n == 0) {
                html_printf(h, "<h3>%s</h3>\n<p>%s</p>\n", title, _("No task was closed in either year."));
                return;
        }
        chart_write(h, &(const struct chart){
                               .id = "chart-outcomes",
                               .title = title,
                               .category_heading = _("Outcome"),
                               .categories = labels,
                               .n_categories = n,
                               .series = (const struct chart_series[]){ { year, now }, { previous, before } },
                               .n_series = 2,
                               .layout = CHART_GROUPED,
                               .horizontal = true,
                       });
}

static void chart_kept_home(struct html *h, const PGresult *rows, const char *title, const char *year,
                            const char *previous) {
        static const char *const figures[] = { "households_kept_home", "families_with_children_kept_home",
                                               "children_kept_home" };
        const char *labels[] = { _("Households that kept their home"), _("of them, families with children"),
                                 _("children in those families") };
        long long now[3], before[3];

        for (size_t i = 0; i < 3; i++) {
                now[i] = value_of(rows, figures[i], NULL, NULL, false);
                before[i] = value_of(rows, figures[i], NULL, NULL, true);
        }
        chart_write(h, &(const struct chart){
                               .id = "chart-kept-home",
                               .title = title,
                               .category_heading = _("Figure"),
                               .categories = labels,
                               .n_categories = 3,
                               .series = (const struct chart_series[]){ { year, now }, { previous, before } },
                               .n_series = 2,
                               .layout = CHART_GROUPED,
                               .horizontal = true,
                       });
}

/* Every figure, in sections, the year beside the year before. */
static void figures_table(struct html *h, const PGresult *rows, const char *year, const char *previous) {
        _cleanup_free_ struct report_line *lines = NULL;
        unsigned section = 0;
        size_t n = 0;

        lines = report_lines(rows, &n);
        if (!lines) {
                h->error = -ENOMEM;
                return;
        }
        html_printf(h,
                    "<table class=\"figures\">\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num previous\">%s</th></tr>"
                    "</thead>\n",
                    _("The year's figures, and the year before's"), _("Figure"), year, previous);
        for (size_t i = 0; i < n; i++) {
                const struct report_line *l = &lines[i];
                char label[256], now[L10N_TEXT_MAX], before[L10N_TEXT_MAX];

                if (i == 0 || l->section != section) {
                        const char *heading = report_section_heading(l->section);

                        if (i > 0)
                                html_markup(h, "</tbody>\n");
                        html_markup(h, "<tbody>\n");
                        if (heading)
                                html_printf(h, "<tr><th scope=\"rowgroup\" colspan=\"3\">%s</th></tr>\n", heading);
                        section = l->section;
                }
                html_markup(h, "<tr><th scope=\"row\"");
                /* A part of the figure above it (the section's own lines have a heading). */
                if (l->indented && !report_section_heading(l->section))
                        html_markup(h, " class=\"sub\"");
                html_printf(h, ">%s</th>", report_line_label(l, label, sizeof label));
                html_printf(h, "<td class=\"num\">%s</td><td class=\"num previous\">%s</td></tr>\n",
                            report_value_text(l, l->value, now), report_value_text(l, l->previous, before));
        }
        if (n > 0)
                html_markup(h, "</tbody>\n");
        html_markup(h, "</table>\n");
}

static void year_picker(struct html *h, int year) {
        int now = this_year();

        html_printf(h, "<form class=\"filters\" method=\"get\" action=\"/report\" aria-label=\"%s\">\n",
                    _("Choose a year"));
        html_printf(h, "<div><label for=\"report-year\">%s</label>\n<select id=\"report-year\" name=\"year\">\n",
                    _("Year"));
        if (year > now)
                html_printf(h, "<option value=\"%d\" selected>%d</option>\n", year, year);
        for (int y = now; y > now - YEARS_OFFERED; y--) {
                html_printf(h, "<option value=\"%d\"", y);
                if (y == year)
                        html_markup(h, " selected");
                html_printf(h, ">%d</option>\n", y);
        }
        if (year <= now - YEARS_OFFERED)
                html_printf(h, "<option value=\"%d\" selected>%d</option>\n", year, year);
        html_printf(h, "</select></div>\n<div><button type=\"submit\">%s</button></div>\n</form>\n", _("Show"));
}

static void on_report(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *rows = n == 1 ? r[0] : NULL;
        _cleanup_free_ char *title = NULL, *t_signals = NULL, *t_tasks = NULL, *t_outcomes = NULL, *t_kept = NULL;
        const char *month_names[12];
        char year[16], previous[16];
        int y = year_asked(wr);
        struct html h;

        if (!rows || !web_result_ok(rows)) {
                web_fail_page(wr, rows, for_coordinators_and_auditors());
                return;
        }
        (void) snprintf(year, sizeof year, "%d", y);
        (void) snprintf(previous, sizeof previous, "%d", y - 1);
        for (unsigned m = 0; m < 12; m++)
                month_names[m] = l10n_month(m + 1, true);
        if (l10n_format(_("Yearly report %s"), (const char *const[]){ year, NULL }, &title) < 0 ||
            l10n_format(_("Signals by kind, per month of %s"), (const char *const[]){ year, NULL }, &t_signals) < 0 ||
            l10n_format(_("Outreach tasks opened and closed, per month of %s"), (const char *const[]){ year, NULL },
                        &t_tasks) < 0 ||
            l10n_format(_("Outcomes of the tasks closed, %1$s and %2$s"), (const char *const[]){ year, previous, NULL },
                        &t_outcomes) < 0 ||
            l10n_format(_("Households that kept their home, %1$s and %2$s"),
                        (const char *const[]){ year, previous, NULL }, &t_kept) < 0) {
                web_fail(wr, NULL);
                return;
        }

        html_init(&h);
        page_begin(&h, title, wr->login, wr->function, PAGE_NAV_REPORT);
        html_printf(&h, "<h1>%s</h1>\n", title);
        html_printf(&h, "<p>%s</p>\n",
                    _("What the social services committee is told of the year: from every team, with what has been "
                      "purged since counted in. Kept their home: the outcomes kept their home and payment plan "
                      "agreed."));
        year_picker(&h, y);
        html_printf(&h, "<p><a href=\"/report.csv?year=%s\" download>", year);
        html_sentence(&h, _("Download the figures of %1$s and %2$s as CSV"), year, previous);
        html_markup(&h, "</a></p>\n");
        html_printf(&h, "<section aria-labelledby=\"charts\">\n<h2 id=\"charts\">%s</h2>\n", _("Charts"));
        chart_signals(&h, rows, t_signals, month_names);
        chart_tasks(&h, rows, t_tasks, month_names);
        chart_outcomes(&h, rows, t_outcomes, year, previous);
        chart_kept_home(&h, rows, t_kept, year, previous);
        html_printf(&h, "</section>\n<section aria-labelledby=\"figures\">\n<h2 id=\"figures\">%s</h2>\n",
                    _("All the figures"));
        figures_table(&h, rows, year, previous);
        html_markup(&h, "</section>\n");
        page_end(&h);
        web_respond(wr, 200, &h);
}

/* The year asked for's rows and the year before's, to done; 404 for a
 * year the picker does not offer. */
static void report_submit(struct web_request *wr, web_page_fn done) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        int year = year_asked(wr), r;
        char y[16];

        if (year < 0) {
                web_error(wr, 404, _("There is no such year. Choose one from the report page."));
                return;
        }
        (void) snprintf(y, sizeof y, "%d", year);
        r = web_batch_new(wr, &b);
        if (r >= 0)
                r = db_batch_add(b, report_rows_sql, 2, (const char *const[]){ y, "true" });
        if (r < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), done);
}

void report_page(struct web_request *wr) {
        report_submit(wr, on_report);
}

static void on_csv(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *rows = n == 1 ? r[0] : NULL;
        _cleanup_free_ struct report_line *lines = NULL;
        char year[16], previous[16], filename[32];
        struct buf csv = {};
        size_t count = 0;
        int k, y = year_asked(wr);

        if (!rows || !web_result_ok(rows)) {
                web_fail_page(wr, rows, for_coordinators_and_auditors());
                return;
        }
        lines = report_lines(rows, &count);
        (void) snprintf(year, sizeof year, "%d", y);
        (void) snprintf(previous, sizeof previous, "%d", y - 1);
        /* As bokvarctl report --csv names the figures, with the page's
         * words beside them; the values as the database writes them. */
        k = lines ? csv_row(&csv, (const char *const[]){ _("figure"), _("label"), year, previous }, 4, 0) : -ENOMEM;
        for (size_t i = 0; k >= 0 && i < count; i++) {
                char name[256], label[256];

                k = csv_row(&csv,
                            (const char *const[]){ report_line_name(&lines[i], name, sizeof name),
                                                   report_line_label(&lines[i], label, sizeof label),
                                                   report_value_raw(&lines[i], lines[i].value),
                                                   report_value_raw(&lines[i], lines[i].previous) },
                            4, 1UL << 0 | 1UL << 1);
        }
        if (k < 0) {
                buf_free(&csv);
                web_fail(wr, NULL);
                return;
        }
        (void) snprintf(filename, sizeof filename, "bokvar-report-%d.csv", y);
        web_download(wr, "text/csv; charset=utf-8", filename, &csv);
}

void report_csv(struct web_request *wr) {
        report_submit(wr, on_csv);
}
