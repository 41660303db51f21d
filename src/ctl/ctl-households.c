/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl households and household: the homes signals were matched to, in
 * priority order, and one of them with its score explained. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"

struct households_args {
        const char *top;
        const char *class;
};

static int households_option(int c, const char *arg, void *userdata) {
        struct households_args *a = userdata;

        if (c == 't')
                a->top = arg;
        else if (c == 'c')
                a->class = arg;
        else
                return EXIT_USAGE;
        return -1;
}

int verb_households(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl households [--class none|watch|outreach|urgent] [--top N] [--json]\n"
                "\n"
                "The households (homes at risk) in priority order: class, then households with\n"
                "children, then the nearest deadline, then the score; with the rules that\n"
                "fired. No identity numbers, names or addresses. A caseworker sees the\n"
                "households with a task of their teams, a coordinator all of them.\n";
        static const struct option options[] = {
                { "top", required_argument, NULL, 't' },
                { "class", required_argument, NULL, 'c' },
                {}
        };
        struct households_args a = { .top = "100000" };
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[2];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, households_option, &a);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        if (a.class && !ctl_one_of(a.class, risk_class_names)) {
                fprintf(stderr, "bokvarctl households: unknown class '%s' (", a.class);
                ctl_print_choices(stderr, risk_class_names);
                fprintf(stderr, ")\n");
                return EXIT_USAGE;
        }
        if (strspn(a.top, "0123456789") != strlen(a.top) || !a.top[0] || strlen(a.top) > 9) {
                fprintf(stderr, "bokvarctl households: --top needs a number\n");
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        params[0] = a.class;
        params[1] = a.top;
        r = ctl_query(ctl, &res,
                      "SELECT priority, household_id AS id, class, score, children, next_deadline, rules, "
                      "postal_code, city FROM bokvar.household_list "
                      "WHERE $1::text IS NULL OR class = $1::bokvar.risk_class "
                      "ORDER BY priority LIMIT $2::integer",
                      2, params);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                output_result(stdout, res, true);
        else
                output_people_table(stdout, res);
        return EXIT_OK;
}

struct household_args {
        const char *at, *reason;
};

static int household_option(int c, const char *arg, void *userdata) {
        struct household_args *a = userdata;

        if (c == 'a')
                a->at = arg;
        else if (c == 'r')
                a->reason = arg;
        else
                return EXIT_USAGE;
        return -1;
}

/* The score's explanation in words, one line per rule that fired. */
static void print_explanation(const PGresult *why) {
        for (int i = 0; i < PQntuples(why); i++) {
                _cleanup_free_ char *rule = output_escape(PQgetvalue(why, i, 1), true),
                                    *text = output_escape(PQgetvalue(why, i, 2), true);

                printf("  %6s  %s: %s\n", PQgetvalue(why, i, 0), rule ? rule : "?", text ? text : "?");
                if (!PQgetisnull(why, i, 3)) {
                        printf("         ");
                        ctl_sentence(stdout, _("because of %s"), PQgetvalue(why, i, 3));
                }
        }
}

int ctl_household_print(struct ctl *ctl, const char *doc) {
        _cleanup_pgresult_ PGresult *home = NULL, *signals = NULL, *score = NULL, *why = NULL;
        const char *p[1] = { doc };
        int r;

        /* The document's parts as typed rows, for the tables. */
        r = ctl_query(ctl, &home,
                      "SELECT * FROM jsonb_to_record($1::jsonb -> 'household') AS x(id bigint, children integer, "
                      "postal_code text, city text, landlord text, first_signal_at date, last_signal_at date, "
                      "persons bigint)",
                      1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &score,
                              "SELECT score, class, ruleset_version, scored_at FROM jsonb_to_record($1::jsonb -> 'score') "
                              "AS x(score integer, class text, ruleset_version integer, scored_at timestamptz) "
                              "WHERE jsonb_typeof($1::jsonb -> 'score') = 'object'",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &why,
                              "SELECT points, rule, description, because FROM jsonb_to_recordset($1::jsonb -> 'why') "
                              "AS x(points text, rule text, description text, because text)",
                              1, p);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &signals,
                              "SELECT * FROM jsonb_to_recordset($1::jsonb -> 'signals') AS x(id bigint, feed text, "
                              "external_id text, source text, kind text, occurred_at date, deadline date, person text, "
                              "name text, address text, postal_code text, apartment text, children integer, "
                              "amount numeric, months_in_arrears integer, landlord text, version integer)",
                              1, p);
        if (r != EXIT_OK)
                return r;
        output_people_record(stdout, home, 0);
        if (PQntuples(score) == 0)
                printf("\n%s\n", _("No score."));
        else {
                char at[L10N_TEXT_MAX];
                const char *scored = l10n_timestamp(PQgetvalue(score, 0, 3), at) >= 0 ? at : PQgetvalue(score, 0, 3);

                printf("\n");
                ctl_sentence(stdout,
                             PQntuples(why) > 0 ? _("Score %1$s, class %2$s (ruleset version %3$s, scored %4$s), "
                                                    "because:")
                                                : _("Score %1$s, class %2$s (ruleset version %3$s, scored %4$s): no "
                                                    "rule fired."),
                             PQgetvalue(score, 0, 0), label_risk_class(PQgetvalue(score, 0, 1)),
                             PQgetvalue(score, 0, 2), scored);
                print_explanation(why);
        }
        printf("\n%s\n", _("Signals:"));
        output_people_table(stdout, signals);
        return EXIT_OK;
}

int verb_household(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl household show ID [--at TIME] [--reason TEXT] [--json]\n"
                "\n"
                "One household: what is known of the home, its score and class with the\n"
                "rules that gave them and the signals that made each rule fire, and every\n"
                "signal about it, with names and addresses as the feeds gave them. Identity\n"
                "numbers are shown masked (date of birth only). With --at, the score the\n"
                "household had then (e.g. --at 2026-03-03), from the score history.\n"
                "Caseworkers see the households with a task of their teams; coordinators all.\n"
                "Every look is written to the access log, with --reason if given (say why\n"
                "when the household has no task of yours).\n";
        static const struct option options[] = {
                { "at", required_argument, NULL, 'a' },
                { "reason", required_argument, NULL, 'r' },
                {}
        };
        _cleanup_pgresult_ PGresult *res = NULL;
        struct household_args a = {};
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, household_option, &a);
        if (r >= 0)
                return r;
        if (optind + 2 != argc || !streq(argv[optind], "show")) {
                fprintf(stderr, "Usage: bokvarctl household show ID [--at TIME] [--reason TEXT]\n");
                return EXIT_USAGE;
        }
        if (!ctl_valid_id(argv[optind + 1])) {
                fprintf(stderr, "bokvarctl household show: '%s' is not a household id\n", argv[optind + 1]);
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        r = ctl_call(ctl, &res, "household show", "SELECT bokvar.household_show($1::bigint, $2::timestamptz, $3)", 3,
                     (const char *[]){ argv[optind + 1], a.at, a.reason });
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("%s\n", PQgetvalue(res, 0, 0));
                return EXIT_OK;
        }
        return ctl_household_print(ctl, PQgetvalue(res, 0, 0));
}
