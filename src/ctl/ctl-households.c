/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl households and household: the homes signals were matched to, in
 * priority order, and one of them with its score explained. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
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
                "fired. No identity numbers.\n";
        static const struct option options[] = {
                { "top", required_argument, NULL, 't' },
                { "class", required_argument, NULL, 'c' },
                {}
        };
        struct households_args a = { .top = "100000" };
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
        return ctl_print_query(ctl,
                           "SELECT p.priority, p.household_id AS id, p.class, p.score, p.children, "
                           "p.next_deadline, "
                           "(SELECT string_agg(e->>'rule', ', ') FROM jsonb_array_elements(p.explanation) e) AS rules, "
                           "h.postal_code, h.city "
                           "FROM bokvar.household_priority p JOIN bokvar.household h ON h.id = p.household_id "
                           "WHERE $1::text IS NULL OR p.class = $1::bokvar.risk_class "
                           "ORDER BY p.priority LIMIT $2::integer",
                           2, params);
}

static int household_option(int c, const char *arg, void *userdata) {
        if (c != 'a')
                return EXIT_USAGE;
        *(const char **) userdata = arg;
        return -1;
}

/* The score's explanation in words, one line per rule that fired. */
static void print_explanation(const PGresult *why) {
        for (int i = 0; i < PQntuples(why); i++) {
                _cleanup_free_ char *rule = output_escape(PQgetvalue(why, i, 1), true),
                                    *text = output_escape(PQgetvalue(why, i, 2), true);

                printf("  %6s  %s: %s%s%s\n", PQgetvalue(why, i, 0), rule ? rule : "?", text ? text : "?",
                       PQgetisnull(why, i, 3) ? "" : "\n         because of ", PQgetvalue(why, i, 3));
        }
}

int ctl_household_print(struct ctl *ctl, const char *id, const char *at, const char *verb) {
        _cleanup_pgresult_ PGresult *home = NULL, *signals = NULL, *score = NULL, *why = NULL;
        const char *params[2] = { id, at };
        int r;

        r = ctl_query(ctl, &home,
                      "SELECT h.id, h.children, h.postal_code, h.city, h.landlord, h.first_signal_at, h.last_signal_at, "
                      "(SELECT count(*) FROM bokvar.household_person p WHERE p.household_id = h.id) AS persons "
                      "FROM bokvar.household h WHERE h.id = $1::bigint",
                      1, params);
        if (r != EXIT_OK)
                return r;
        if (PQntuples(home) == 0) {
                fprintf(stderr, "bokvarctl %s: no household %s\n", verb, id);
                return EXIT_NOT_FOUND;
        }
        /* The score now, or as it was at --at. */
        r = ctl_query(ctl, &score,
                      at ? "SELECT score, class, ruleset_version, scored_at, explanation "
                           "FROM bokvar.score_at($1::bigint, $2::timestamptz)"
                         : "SELECT score, class, ruleset_version, scored_at, explanation, next_deadline, as_of "
                           "FROM bokvar.score WHERE household_id = $1::bigint AND $2::text IS NULL",
                      2, params);
        if (r != EXIT_OK)
                return r;
        r = ctl_query(ctl, &why,
                      "SELECT CASE WHEN (e->>'points')::integer > 0 THEN '+' ELSE '' END || (e->>'points'), "
                      "e->>'rule', coalesce(e->>'description', ''), "
                      "(SELECT string_agg(format('%s %s (%s)', s.kind, s.occurred_at, s.feed), '; ' ORDER BY s.occurred_at) "
                      " FROM bokvar.signal s WHERE s.id IN (SELECT jsonb_array_elements_text(e->'signals')::bigint)) "
                      "FROM jsonb_array_elements($1::jsonb) e",
                      1, (const char *[]){ PQntuples(score) > 0 ? PQgetvalue(score, 0, 4) : "[]" });
        if (r != EXIT_OK)
                return r;
        r = ctl_query(ctl, &signals,
                      "SELECT s.id, s.feed, s.external_id, s.source, s.kind, s.occurred_at, s.deadline, "
                      "bokvar.mask_identity(s.person_id) AS person, s.name, s.address, s.postal_code, s.apartment, "
                      "s.children, s.amount, s.months_in_arrears, s.landlord, s.version "
                      "FROM bokvar.signal s WHERE s.household_id = $1::bigint "
                      "ORDER BY s.occurred_at DESC, s.id DESC",
                      1, params);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("\"household\": ");
                output_record(stdout, home, 0, true);
                printf(", \"score\": ");
                if (PQntuples(score) > 0)
                        output_record(stdout, score, 0, true);
                else
                        printf("null");
                printf(", \"signals\": ");
                output_result(stdout, signals, true);
                return EXIT_OK;
        }
        output_record(stdout, home, 0, false);
        if (PQntuples(score) == 0)
                printf("\nNo score%s.\n", at ? " at that time" : " yet");
        else {
                printf("\nScore %s, class %s (ruleset version %s, scored %s)%s\n", PQgetvalue(score, 0, 0),
                       PQgetvalue(score, 0, 1), PQgetvalue(score, 0, 2), PQgetvalue(score, 0, 3),
                       PQntuples(why) > 0 ? ", because:" : ": no rule fired.");
                print_explanation(why);
        }
        printf("\nSignals:\n");
        output_result(stdout, signals, false);
        return EXIT_OK;
}

int verb_household(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl household show ID [--at TIME] [--json]\n"
                "\n"
                "One household: what is known of the home, its score and class with the\n"
                "rules that gave them and the signals that made each rule fire, and every\n"
                "signal about it, with names and addresses as the feeds gave them. Identity\n"
                "numbers are shown masked (date of birth only). With --at, the score the\n"
                "household had then (e.g. --at 2026-03-03), from the score history.\n";
        static const struct option options[] = {
                { "at", required_argument, NULL, 'a' },
                {}
        };
        const char *at = NULL;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, household_option, &at);
        if (r >= 0)
                return r;
        if (optind + 2 != argc || !streq(argv[optind], "show")) {
                fprintf(stderr, "Usage: bokvarctl household show ID [--at TIME]\n");
                return EXIT_USAGE;
        }
        if (!ctl_valid_id(argv[optind + 1])) {
                fprintf(stderr, "bokvarctl household show: '%s' is not a household id\n", argv[optind + 1]);
                return EXIT_USAGE;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                printf("{");
        r = ctl_household_print(ctl, argv[optind + 1], at, "household show");
        if (ctl->json && r == EXIT_OK)
                printf("}\n");
        return r;
}
