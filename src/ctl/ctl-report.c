/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl report: the yearly figures a social services committee
 * publishes, and the year before beside them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/csv.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/db/report.h"

struct report_args {
        const char *year;
        bool csv, compare;
};

static int report_option(int c, const char *arg, void *userdata) {
        struct report_args *a = userdata;

        if (c == 'y')
                a->year = arg;
        else if (c == 'C')
                a->csv = true;
        else if (c == 'p')
                a->compare = true;
        else
                return EXIT_USAGE;
        return -1;
}

/* A label, then the values in columns: padded by what the label shows
 * (letters such as å take two bytes and one column). */
static void print_label(bool indented, const char *label) {
        _cleanup_free_ char *shown = output_escape(label, true);
        size_t w = (indented ? 2 : 0) + output_text_width(shown ? shown : "?");

        printf("%s%s%*s", indented ? "  " : "", shown ? shown : "?", (int) (w < 56 ? 56 - w : 0), "");
}

static void print_value(const char *value) {
        size_t v = output_text_width(value);

        printf(" %*s%s", (int) (v < 9 ? 9 - v : 0), "", value);
}

/* For a spreadsheet: the figures' names and the values as the database
 * writes them, whatever the language (report_value_raw, as bokvar-web's
 * CSV has them); a name quoted where it holds a comma (a landlord's). */
static int print_csv(const struct report_line *lines, size_t n, bool compare) {
        struct buf csv = {};
        int k;

        k = csv_value(&csv, "figure", true);
        if (k >= 0)
                k = csv_value(&csv, "value", false);
        if (k >= 0 && compare)
                k = csv_value(&csv, "previous", false);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                char name[256];

                if (buf_putc(&csv, '\n') < 0)
                        k = -ENOMEM;
                if (k >= 0)
                        k = csv_text(&csv, report_line_name(&lines[i], name, sizeof name), true);
                if (k >= 0)
                        k = csv_value(&csv, report_value_raw(&lines[i], lines[i].value), false);
                if (k >= 0 && compare)
                        k = csv_value(&csv, report_value_raw(&lines[i], lines[i].previous), false);
        }
        if (k < 0 || buf_putc(&csv, '\n') < 0) {
                buf_free(&csv);
                return log_oom();
        }
        fputs(csv.data, stdout);
        buf_free(&csv);
        return EXIT_OK;
}

static void print_text(const struct report_line *lines, size_t n, const char *year, const char *previous) {
        unsigned section = 0;

        /* The year; with the year before, the two as the columns' heads. */
        if (!previous)
                ctl_sentence(stdout, _("bokvar: the year %s"), year);
        else {
                print_label(false, _("bokvar: the year"));
                print_value(year);
                print_value(previous);
                printf("\n");
        }
        for (size_t i = 0; i < n; i++) {
                const struct report_line *l = &lines[i];
                char buf[256], value[L10N_TEXT_MAX];
                const char *heading = report_section_heading(l->section);
                const char *label = report_line_label(l, buf, sizeof buf);
                bool indented = l->indented && heading;

                if (i == 0 || l->section != section) {
                        if (heading)
                                printf("\n%s\n", heading);
                        else if (i == 0 || report_section_heading(section))
                                printf("\n");
                        section = l->section;
                }
                /* Household ids beside the year before's: a line of their own
                 * for each year under their label, as lists do not keep to a
                 * column. */
                if (previous && l->kind == REPORT_HOUSEHOLDS) {
                        _cleanup_free_ char *shown = output_escape(label, true);

                        printf("%s%s\n", indented ? "  " : "", shown ? shown : "?");
                        printf("    %s: %s\n", year, report_value_text(l, l->value, value));
                        printf("    %s: %s\n", previous, report_value_text(l, l->previous, value));
                        continue;
                }
                print_label(indented, label);
                print_value(report_value_text(l, l->value, value));
                if (previous)
                        print_value(report_value_text(l, l->previous, value));
                printf("\n");
        }
}

int verb_report(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl report [--year YYYY] [--compare] [--json|--csv]\n"
                "\n"
                "The year's figures for the social services committee (default: this year),\n"
                "in the words and order of bokvar-web's report page:\n"
                "signals by source and kind; outreach tasks opened and closed, those a contact\n"
                "reached the household of, and the contact rate; outcomes, and outcomes by\n"
                "cause (the kind of the first signal of each task's story), by landlord and by\n"
                "team; households that kept their home (outcome kept_home or payment_plan), the\n"
                "families with children among them and their children; families with children\n"
                "a contact reached, and their children; eviction applications and executed\n"
                "evictions from the enforcement agency's feeds, the evictions of families with\n"
                "children and their children; where children count, how many households'\n"
                "children are unknown; the missed cases: households evicted that had no task\n"
                "in the year before, or one but no contact that reached them by its deadline\n"
                "(their ids); the median days from a task's first signal to the first contact;\n"
                "the share of tasks with contact before the legal deadline (or, without one,\n"
                "the due date).\n"
                "--compare: the year before beside each figure. --csv: figure,value lines\n"
                "(figure,value,previous with --compare). --json: one object, with the year\n"
                "before's under \"previous\" with --compare. For coordinators and auditors.\n";
        static const struct option options[] = {
                { "year", required_argument, NULL, 'y' },
                { "csv", no_argument, NULL, 'C' },
                { "compare", no_argument, NULL, 'p' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_free_ struct report_line *lines = NULL;
        struct report_args a = {};
        char year[16], previous[16];
        size_t n = 0;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, report_option, &a);
        if (r >= 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "bokvarctl report: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (a.year) {
                if (strlen(a.year) != 4 || strspn(a.year, "0123456789") != 4 || a.year[0] == '0') {
                        fprintf(stderr, "bokvarctl report: --year takes a year such as 2026\n");
                        return EXIT_USAGE;
                }
                (void) snprintf(year, sizeof year, "%s", a.year);
        } else {
                time_t now = time(NULL);
                struct tm tm;

                (void) localtime_r(&now, &tm);
                (void) snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
        }
        (void) snprintf(previous, sizeof previous, "%d", atoi(year) - 1);
        if (a.csv && ctl->json) {
                fprintf(stderr, "bokvarctl report: --json or --csv, not both\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                r = ctl_query(ctl, &res,
                              "SELECT jsonb_pretty(bokvar.report($1::integer) || CASE WHEN $2::boolean "
                              "THEN jsonb_build_object('previous', bokvar.report($1::integer - 1)) ELSE '{}' END)",
                              2, (const char *[]){ year, a.compare ? "t" : "f" });
                if (r == EXIT_OK)
                        printf("%s\n", PQgetvalue(res, 0, 0));
                return r;
        }
        /* The figures as rows, in the order and words bokvar-web's report
         * page shows them (db/report.c): one list for both. */
        r = ctl_query(ctl, &res, report_rows_sql, 2, (const char *[]){ year, a.compare ? "true" : "false" });
        if (r != EXIT_OK)
                return r;
        lines = report_lines(res, &n);
        if (!lines)
                return log_oom();
        if (a.csv)
                return print_csv(lines, n, a.compare);
        print_text(lines, n, year, a.compare ? previous : NULL);
        return EXIT_OK;
}
