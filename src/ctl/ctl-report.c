/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl report: the yearly figures a social services committee publishes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/db/report.h"

static int report_option(int c, const char *arg, void *userdata) {
        const char **a = userdata;

        if (c == 'y')
                a[0] = arg;
        else if (c == 'C')
                a[1] = "csv";
        else
                return EXIT_USAGE;
        return -1;
}

/* A figure's label and value, the values in a column: padded by what
 * the label shows (letters such as å take two bytes and one column). */
static void print_figure(bool indented, const char *label, const char *value) {
        _cleanup_free_ char *shown = output_escape(label, true);
        size_t w = (indented ? 2 : 0) + output_text_width(shown ? shown : "?"), v = output_text_width(value);

        printf("%s%s%*s %*s%s\n", indented ? "  " : "", shown ? shown : "?", (int) (w < 50 ? 50 - w : 0), "",
               (int) (v < 12 ? 12 - v : 0), "", value);
}

int verb_report(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl report [--year YYYY] [--json|--csv]\n"
                "\n"
                "The year's figures for the social services committee (default: this year):\n"
                "signals by source and kind; outreach tasks opened and closed; outcomes;\n"
                "households that kept their home (outcome kept_home or payment_plan), the\n"
                "families with children among them and their children; families with\n"
                "children reached out to; eviction applications and executed evictions from\n"
                "the enforcement agency's feeds; the median days from a task's first signal\n"
                "to the first contact; the share of tasks with contact before the legal\n"
                "deadline (or, without one, the due date). --csv: figure,value lines.\n";
        static const struct option options[] = {
                { "year", required_argument, NULL, 'y' },
                { "csv", no_argument, NULL, 'C' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_free_ struct report_line *lines = NULL;
        unsigned section = 0;
        size_t n = 0;
        const char *a[2] = {};
        char year[16];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, report_option, a);
        if (r >= 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "bokvarctl report: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (a[0]) {
                if (strlen(a[0]) != 4 || strspn(a[0], "0123456789") != 4) {
                        fprintf(stderr, "bokvarctl report: --year takes a year such as 2026\n");
                        return EXIT_USAGE;
                }
                (void) snprintf(year, sizeof year, "%s", a[0]);
        } else {
                time_t now = time(NULL);
                struct tm tm;

                (void) localtime_r(&now, &tm);
                (void) snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
        }
        if (a[1] && ctl->json) {
                fprintf(stderr, "bokvarctl report: --json or --csv, not both\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                r = ctl_query(ctl, &res, "SELECT jsonb_pretty(bokvar.report($1::integer))", 1,
                              (const char *[]){ year });
                if (r == EXIT_OK)
                        printf("%s\n", PQgetvalue(res, 0, 0));
                return r;
        }
        /* The figures as rows, in the order and words bokvar-web's report
         * page shows them (db/report.c): one list for both. */
        r = ctl_query(ctl, &res, report_rows_sql, 2, (const char *[]){ year, "false" });
        if (r != EXIT_OK)
                return r;
        lines = report_lines(res, &n);
        if (!lines)
                return log_oom();
        if (a[1]) {
                /* For a spreadsheet: the figures' names and the values as
                 * the database writes them, whatever the language. */
                printf("figure,value\n");
                for (size_t i = 0; i < n; i++) {
                        char name[256];

                        printf("%s,%s\n", report_line_name(&lines[i], name, sizeof name),
                               lines[i].value ? lines[i].value : "");
                }
                return EXIT_OK;
        }
        ctl_sentence(stdout, _("bokvar: the year %s"), year);
        for (size_t i = 0; i < n; i++) {
                const struct report_line *l = &lines[i];
                char label[256], value[L10N_TEXT_MAX];
                const char *heading = report_section_heading(l->section);

                if (i == 0 || l->section != section) {
                        if (heading)
                                printf("\n%s\n", heading);
                        else if (i == 0 || report_section_heading(section))
                                printf("\n");
                        section = l->section;
                }
                print_figure(l->indented && heading, report_line_label(l, label, sizeof label),
                             report_value_text(l, l->value, value));
        }
        return EXIT_OK;
}
