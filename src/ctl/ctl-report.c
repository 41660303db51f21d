/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl report: the yearly figures a social services committee
 * publishes, and the year before beside them. */
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

/* The report (and, with $2, the year before) as rows: a figure's name (for
 * --csv), its label, its value, the value the year before, and its section
 * (below). Lists of household ids are one value, the ids apart by spaces;
 * counts by key the year does not have are 0. */
static const char report_rows_sql[] =
        "WITH r(w, j) AS (SELECT 1, bokvar.report($1::integer) "
        "                 UNION ALL SELECT 2, bokvar.report($1::integer - 1) WHERE $2::boolean), "
        "fig(o, n, f, l) AS (VALUES "
        " (2, 0, 'tasks_opened', '  opened'), (2, 1, 'tasks_closed', '  closed'), "
        " (2, 2, 'tasks_reached', '  opened, and a contact reached the household'), "
        " (2, 3, 'contact_rate', '  contact rate: reached of opened'), "
        " (7, 0, 'households_kept_home', 'Households that kept their home'), "
        " (7, 1, 'families_with_children_kept_home', '  families with children'), "
        " (7, 2, 'children_kept_home', '  children in them'), "
        " (7, 3, 'kept_home_children_unknown', '  households whose children are unknown'), "
        " (7, 4, 'families_with_children_reached', 'Families with children a contact reached'), "
        " (7, 5, 'children_in_families_reached', '  children in them'), "
        " (7, 6, 'reached_children_unknown', '  households reached whose children are unknown'), "
        " (8, 0, 'eviction_applications', '  eviction applications'), "
        " (8, 1, 'evictions_executed', '  evictions executed'), "
        " (8, 2, 'evictions_executed_with_children', '  households evicted with children'), "
        " (8, 3, 'children_evicted', '  children in them'), "
        " (8, 4, 'evictions_executed_children_unknown', '  households evicted whose children are unknown'), "
        " (9, 0, 'missed_cases', '  households'), "
        " (9, 1, 'missed_no_task', '  no task in the year before the eviction'), "
        " (9, 2, 'missed_no_contact', '  a task, but no contact reached them by its deadline'), "
        " (10, 0, 'median_days_signal_to_contact', 'Median days from first signal to first contact'), "
        " (10, 1, 'contact_before_deadline_share', 'Tasks with contact before their deadline')), "
        "flat(w, o, n, f, l, v) AS ("
        " SELECT r.w, f.o, f.n, f.f, f.l, CASE WHEN jsonb_typeof(r.j -> f.f) = 'array' "
        "        THEN (SELECT string_agg(e, ' ') FROM jsonb_array_elements_text(r.j -> f.f) e) ELSE r.j ->> f.f END "
        " FROM r, fig f "
        " UNION ALL SELECT r.w, 1, x.n, 'signals.' || (e ->> 'source') || '.' || (e ->> 'kind'), "
        "        format('  %-12s %s', e ->> 'source', e ->> 'kind'), e ->> 'count' "
        " FROM r, jsonb_array_elements(r.j -> 'signals') WITH ORDINALITY x(e, n) "
        " UNION ALL SELECT r.w, 3, 0, 'outcomes.' || key, '  ' || key, value FROM r, jsonb_each_text(r.j -> 'outcomes') "
        " UNION ALL SELECT r.w, 3 + g.n, 0, g.k || '.' || a.key || '.' || b.key, format('  %s: %s', a.key, b.key), b.value "
        " FROM r, (VALUES (1, 'outcomes_by_cause'), (2, 'outcomes_by_landlord'), (3, 'outcomes_by_team')) g(n, k), "
        "      jsonb_each(r.j -> g.k) a, jsonb_each_text(a.value) b) "
        "SELECT f, l, coalesce(max(v) FILTER (WHERE w = 1), CASE WHEN o IN (1, 3, 4, 5, 6) THEN '0' END), "
        "       coalesce(max(v) FILTER (WHERE w = 2), CASE WHEN $2::boolean AND o IN (1, 3, 4, 5, 6) THEN '0' END), o "
        "FROM flat GROUP BY o, f, l ORDER BY o, min(n), f";

/* The sections of report_rows_sql's rows, by number: a heading, or a
 * blank line (NULL). */
static const char *const report_sections[] = {
        NULL,
        "Signals, by source and kind",
        "Outreach tasks",
        "Outcomes of the tasks closed",
        "Outcomes by cause (the kind of the first signal of each task's story)",
        "Outcomes by landlord",
        "Outcomes by team",
        NULL,
        "From the enforcement agency",
        "Missed cases: evictions executed without a task, or without a contact\n"
        "that reached the household by its deadline (household ids)",
        NULL,
};

/* A CSV field: control characters escaped, quoted when it holds a
 * separator or a quote. */
static void csv_field(const char *s) {
        _cleanup_free_ char *e = output_escape(s, true);
        const char *v = e ? e : "?";

        if (!strpbrk(v, ",\"")) {
                fputs(v, stdout);
                return;
        }
        putchar('"');
        for (; *v; v++) {
                if (*v == '"')
                        putchar('"');
                putchar(*v);
        }
        putchar('"');
}

/* One figure's value as the text report shows it: shares in per cent, "-"
 * for none. */
static void print_value(const char *figure, const char *v, bool null) {
        if (null || !*v)
                printf(" %9s", "-");
        else if (streq(figure, "contact_rate") || streq(figure, "contact_before_deadline_share"))
                printf(" %7.1f %%", strtod(v, NULL) * 100);
        else
                printf(" %9s", v);
}

static void report_print(const PGresult *res, const char *year, const char *previous) {
        printf("%-56s %9s", "bokvar: the year", year);
        if (previous)
                printf(" %9s", previous);
        printf("\n");
        for (int i = 0, section = 0; i < PQntuples(res); i++) {
                const char *f = PQgetvalue(res, i, 0);
                _cleanup_free_ char *label = output_escape(PQgetvalue(res, i, 1), true);
                int s = atoi(PQgetvalue(res, i, 4));

                if (s != section) {
                        if (s > 0 && s < (int) ELEMENTSOF(report_sections) && report_sections[s])
                                printf("\n%s\n", report_sections[s]);
                        else if (section != 7)
                                printf("\n");
                        section = s;
                }
                /* Household ids: a line of their own under their label. */
                if (startswith(f, "missed_no_")) {
                        printf("%s\n", label ? label : "?");
                        printf("    %s: %s\n", year, *PQgetvalue(res, i, 2) ? PQgetvalue(res, i, 2) : "none");
                        if (previous)
                                printf("    %s: %s\n", previous, *PQgetvalue(res, i, 3) ? PQgetvalue(res, i, 3) : "none");
                        continue;
                }
                printf("%s%*s", label ? label : "?", (int) (56 - MIN(output_width(label ? label : "?"), 56)), "");
                print_value(f, PQgetvalue(res, i, 2), PQgetisnull(res, i, 2));
                if (previous)
                        print_value(f, PQgetvalue(res, i, 3), PQgetisnull(res, i, 3));
                printf("\n");
        }
}

int verb_report(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl report [--year YYYY] [--compare] [--json|--csv]\n"
                "\n"
                "The year's figures for the social services committee (default: this year):\n"
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
        struct report_args a = {};
        char year[16], previous[16];
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
        r = ctl_query(ctl, &res, report_rows_sql, 2, (const char *[]){ year, a.compare ? "t" : "f" });
        if (r != EXIT_OK)
                return r;
        if (!a.csv) {
                report_print(res, year, a.compare ? previous : NULL);
                return EXIT_OK;
        }
        printf(a.compare ? "figure,value,previous\n" : "figure,value\n");
        for (int i = 0; i < PQntuples(res); i++) {
                csv_field(PQgetvalue(res, i, 0));
                putchar(',');
                csv_field(PQgetvalue(res, i, 2));
                if (a.compare) {
                        putchar(',');
                        csv_field(PQgetvalue(res, i, 3));
                }
                putchar('\n');
        }
        return EXIT_OK;
}
