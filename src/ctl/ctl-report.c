/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl report: the yearly figures a social services committee publishes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"

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
        /* The figures as rows: a figure's name (for --csv), its label, its value. */
        r = ctl_query(ctl, &res,
                      "WITH r AS (SELECT bokvar.report($1::integer) AS j) "
                      "SELECT f, l, v FROM ("
                      " SELECT 1 AS o, 0::bigint AS n, 'signals.' || (e->>'source') || '.' || (e->>'kind') AS f, "
                      "        format('  %-12s %s', e->>'source', e->>'kind') AS l, e->>'count' AS v "
                      " FROM r, jsonb_array_elements(j->'signals') WITH ORDINALITY x(e, n) "
                      " UNION ALL SELECT 2, 0, 'tasks_opened', '  opened', j->>'tasks_opened' FROM r "
                      " UNION ALL SELECT 2, 1, 'tasks_closed', '  closed', j->>'tasks_closed' FROM r "
                      " UNION ALL SELECT 3, n, 'outcomes.' || key, '  ' || key, value "
                      " FROM r, jsonb_each_text(j->'outcomes') WITH ORDINALITY x(key, value, n) "
                      " UNION ALL SELECT 4, 0, 'households_kept_home', 'Households that kept their home', "
                      "        j->>'households_kept_home' FROM r "
                      " UNION ALL SELECT 4, 1, 'families_with_children_kept_home', '  families with children', "
                      "        j->>'families_with_children_kept_home' FROM r "
                      " UNION ALL SELECT 4, 2, 'children_kept_home', '  children in them', j->>'children_kept_home' FROM r "
                      " UNION ALL SELECT 4, 3, 'families_with_children_reached_out_to', "
                      "        'Families with children reached out to', j->>'families_with_children_reached_out_to' FROM r "
                      " UNION ALL SELECT 4, 4, 'children_in_them', '  children in them', j->>'children_in_them' FROM r "
                      " UNION ALL SELECT 5, 0, 'eviction_applications', '  eviction applications', "
                      "        j->>'eviction_applications' FROM r "
                      " UNION ALL SELECT 5, 1, 'evictions_executed', '  evictions executed', j->>'evictions_executed' FROM r "
                      " UNION ALL SELECT 6, 0, 'median_days_signal_to_contact', "
                      "        'Median days from first signal to first contact', "
                      "        coalesce(j->>'median_days_signal_to_contact', '') FROM r "
                      " UNION ALL SELECT 6, 1, 'contact_before_deadline_share', "
                      "        'Tasks with contact before their deadline', "
                      "        coalesce(j->>'contact_before_deadline_share', '') FROM r "
                      ") x ORDER BY o, n",
                      1, (const char *[]){ year });
        if (r != EXIT_OK)
                return r;
        if (a[1]) {
                printf("figure,value\n");
                for (int i = 0; i < PQntuples(res); i++)
                        printf("%s,%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 2));
                return EXIT_OK;
        }
        printf("bokvar: the year %s\n", year);
        for (int i = 0, section = 0; i < PQntuples(res); i++) {
                const char *f = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 2);
                int s = startswith(f, "signals.")    ? 1
                        : startswith(f, "tasks_")    ? 2
                        : startswith(f, "outcomes.") ? 3
                        : startswith(f, "evictions") || startswith(f, "eviction_") ? 5
                        : 4;

                if (s != section) {
                        static const char *const heads[] = { NULL, "Signals, by source and kind", "Outreach tasks",
                                                             "Outcomes of the tasks closed", NULL,
                                                             "From the enforcement agency" };

                        if (heads[s])
                                printf("\n%s\n", heads[s]);
                        else if (section != 4)
                                printf("\n");
                        section = s;
                }
                if (streq(f, "contact_before_deadline_share") && *v)
                        printf("%-50s %8.1f %%\n", PQgetvalue(res, i, 1), strtod(v, NULL) * 100);
                else
                        printf("%-50s %8s\n", PQgetvalue(res, i, 1), *v ? v : "-");
        }
        return EXIT_OK;
}
