/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl feeds, quarantine, households, household: what the feeds
 * brought in, what they could not, and the homes it concerns. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/ctl/ctl.h"
#include "bokvar/db/db.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/mapping.h"
#include "bokvar/ctl/output.h"
#include "bokvar/basic/util.h"

static int no_arguments(int argc, char *argv[]) {
        if (optind < argc) {
                fprintf(stderr, "bokvarctl %s: unexpected argument '%s'\n", argv[0], argv[optind]);
                return EXIT_USAGE;
        }
        return -1;
}

/* Prints a query's rows as a table or JSON; returns an exit status. */
static int print_query(struct ctl *ctl, const char *sql, int n, const char *const *params) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_query(ctl, &res, sql, n, params);
        if (r != EXIT_OK)
                return r;
        output_result(stdout, res, ctl->json);
        return EXIT_OK;
}

int verb_feeds(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl feeds [--json]\n"
                "\n"
                "Each feed's last attempt and last success, HTTP status, the rows of its last\n"
                "fetch (read, accepted, updated, duplicate, quarantined), totals, and its last\n"
                "error. Times are the database server's.\n";
        int r;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0 || (r = no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                return print_query(ctl,
                                   "SELECT name, source, last_attempt_at, last_success_at, last_status, last_duration_ms, "
                                   "failures, next_due_at, last_rows_read, last_accepted, last_updated, last_duplicate, "
                                   "last_quarantined, total_fetches, total_failures, total_rows_read, total_accepted, "
                                   "total_updated, total_duplicate, total_quarantined, last_error "
                                   "FROM bokvar.feed ORDER BY name",
                                   0, NULL);
        return print_query(ctl,
                           "SELECT name AS feed, source, to_char(last_attempt_at, 'YYYY-MM-DD HH24:MI') AS last_attempt, "
                           "to_char(last_success_at, 'YYYY-MM-DD HH24:MI') AS last_success, "
                           "nullif(last_status, 0) AS http, last_rows_read AS rows, last_accepted AS accepted, "
                           "last_updated AS updated, last_duplicate AS duplicate, last_quarantined AS quarantined, "
                           "total_rows_read AS total_rows, total_quarantined AS total_quar, "
                           "coalesce(last_error, '') AS last_error "
                           "FROM bokvar.feed ORDER BY name",
                           0, NULL);
}

struct quarantine_args {
        const char *feed;
        const char *limit;
};

static int quarantine_option(int c, const char *arg, void *userdata) {
        struct quarantine_args *a = userdata;

        if (c == 'f')
                a->feed = arg;
        else if (c == 'n')
                a->limit = arg;
        else
                return EXIT_USAGE;
        return -1;
}

/* Re-runs quarantined rows through the mappings of the current configuration. */
static int quarantine_retry(struct ctl *ctl, const char *feed) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct buf mappings = {};
        const char *params[3];
        bool found = !feed;
        int r;

        r = ctl_config(ctl);
        if (r != EXIT_OK)
                return r;
        (void) buf_putc(&mappings, '{');
        for (size_t i = 0; i < ctl->config->n_feeds; i++) {
                const struct feed_config *f = &ctl->config->feeds[i];

                if (feed && !streq(feed, f->name))
                        continue;
                found = true;
                if (mappings.len > 1)
                        (void) buf_puts(&mappings, ", ");
                (void) buf_put_json_string(&mappings, f->name, strlen(f->name));
                (void) buf_puts(&mappings, ": ");
                if (mapping_to_json(f, &mappings) < 0) {
                        buf_free(&mappings);
                        return EXIT_FAIL;
                }
        }
        (void) buf_putc(&mappings, '}');
        if (!found) {
                fprintf(stderr, "bokvarctl quarantine retry: no feed '%s' in %s\n", feed, ctl->config_path);
                buf_free(&mappings);
                return EXIT_NOT_FOUND;
        }
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK) {
                buf_free(&mappings);
                return r;
        }
        params[0] = feed;
        params[1] = mappings.data;
        params[2] = ctl_actor(NULL);
        r = ctl_query(ctl, NULL, "BEGIN", 0, NULL);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &res,
                              "SELECT key AS feed, (value->>'retried')::integer AS retried, "
                              "(value->>'accepted')::integer AS accepted, (value->>'updated')::integer AS updated, "
                              "(value->>'duplicate')::integer AS duplicate, "
                              "(value->>'still_quarantined')::integer AS still_quarantined "
                              "FROM jsonb_each(bokvar.quarantine_retry($1, $2::jsonb, $3)) ORDER BY key",
                              3, params);
        if (r == EXIT_OK)
                r = ctl_query(ctl, NULL, "COMMIT", 0, NULL);
        buf_free(&mappings);
        if (r != EXIT_OK)
                return r;
        if (!ctl->json && PQntuples(res) == 0) {
                printf("Nothing to retry: no quarantined row%s could be read.\n", feed ? " of that feed" : "");
                return EXIT_OK;
        }
        output_result(stdout, res, ctl->json);
        return EXIT_OK;
}

int verb_quarantine(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl quarantine [--feed NAME] [--limit N] [--json]\n"
                "       bokvarctl quarantine retry [--feed NAME] [--json]\n"
                "\n"
                "Lists the rows feeds delivered that could not be ingested, with the line\n"
                "they came on and the reason. `retry` runs them through the mapping of the\n"
                "current configuration again, after an operator fixed it: rows that now pass\n"
                "are ingested and leave the quarantine. Rows that could not be read at all\n"
                "(broken encoding, CSV or JSON) stay: only a corrected delivery mends them.\n";
        static const struct option options[] = {
                { "feed", required_argument, NULL, 'f' },
                { "limit", required_argument, NULL, 'n' },
                {}
        };
        struct quarantine_args a = { .limit = "1000" };
        const char *params[2];
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, quarantine_option, &a);
        if (r >= 0)
                return r;
        if (optind < argc && streq(argv[optind], "retry")) {
                if (optind + 1 < argc) {
                        fprintf(stderr, "bokvarctl quarantine retry: unexpected argument '%s'\n", argv[optind + 1]);
                        return EXIT_USAGE;
                }
                return quarantine_retry(ctl, a.feed);
        }
        if ((r = no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        params[0] = a.feed;
        params[1] = a.limit;
        if (ctl->json)
                return print_query(ctl,
                                   "SELECT id, feed, fetch_id, line, reason, raw, created_at FROM bokvar.quarantine "
                                   "WHERE $1::text IS NULL OR feed = $1 ORDER BY feed, id LIMIT $2::integer",
                                   2, params);
        return print_query(ctl,
                           "SELECT id, feed, fetch_id AS fetch, line, reason, "
                           "CASE WHEN length(raw) > 60 THEN left(raw, 59) || '…' ELSE raw END AS raw "
                           "FROM bokvar.quarantine WHERE $1::text IS NULL OR feed = $1 "
                           "ORDER BY feed, id LIMIT $2::integer",
                           2, params);
}

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
        if (r >= 0 || (r = no_arguments(argc, argv)) >= 0)
                return r;
        if (a.class && !streq(a.class, "none") && !streq(a.class, "watch") && !streq(a.class, "outreach") &&
            !streq(a.class, "urgent")) {
                fprintf(stderr, "bokvarctl households: unknown class '%s' (none, watch, outreach, urgent)\n", a.class);
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
        return print_query(ctl,
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
        for (int i = 0; i < PQntuples(why); i++)
                printf("  %6s  %s: %s%s%s\n", PQgetvalue(why, i, 0), PQgetvalue(why, i, 1), PQgetvalue(why, i, 2),
                       PQgetisnull(why, i, 3) ? "" : "\n         because of ", PQgetvalue(why, i, 3));
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
