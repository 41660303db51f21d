/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl rules check|diff: a rules file before it is loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/rules.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"

static const char usage[] =
        "Usage: bokvarctl rules check FILE [--json]\n"
        "       bokvarctl rules diff FILE [--top N] [--json]\n"
        "\n"
        "check: validates a rules file; every mistake as file:line:column. Exit 0 or 1.\n"
        "diff: what loading FILE would do to the live data, without writing anything:\n"
        "how many households would change class (from -> to), and the households whose\n"
        "class would change most, with the rules that make the difference.\n";

static int load(const char *path, struct ruleset **ret, bool json) {
        struct diag d = {};
        int r = rules_load(path, ret, &d);

        if (r < 0) {
                if (json) {
                        printf("{\"file\": ");
                        output_json_string(stdout, path);
                        printf(", \"valid\": false, \"errors\": [");
                        for (size_t i = 0; i < d.n; i++) {
                                fputs(i ? ", " : "", stdout);
                                output_json_string(stdout, d.messages[i]);
                        }
                        printf("]}\n");
                } else
                        diag_print(&d, stdout);
        }
        diag_free(&d);
        return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int rules_option(int c, const char *arg, void *userdata) {
        if (c != 't')
                return EXIT_USAGE;
        *(const char **) userdata = arg;
        return -1;
}

static int diff(struct ctl *ctl, const struct ruleset *rs, const char *top) {
        _cleanup_pgresult_ PGresult *loaded = NULL, *matrix = NULL, *worst = NULL, *total = NULL;
        struct buf json = {};
        const char *p[3];
        int r;

        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        if (rules_to_json(rs, &json) < 0) {
                buf_free(&json);
                return log_oom(), EXIT_FAIL;
        }
        p[0] = json.data;
        p[1] = rs->text;
        p[2] = rs->path;
        /* Everything happens in a transaction that is rolled back: the
         * preview loads the rules as a version that is never made active. */
        r = ctl_query(ctl, NULL, "BEGIN", 0, NULL);
        if (r == EXIT_OK)
                r = ctl_call(ctl, NULL, "rules diff",
                             "CREATE TEMP TABLE diff AS SELECT * FROM bokvar.rules_preview($1::jsonb, $2, $3)", 3, p);
        buf_free(&json);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &loaded, "SELECT new FROM diff WHERE household_id IS NULL", 0, NULL);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &total,
                              "SELECT (SELECT households FROM diff WHERE household_id IS NULL) AS households, "
                              "(SELECT count(*) FROM diff WHERE class_change <> 0) AS class_changes, "
                              "(SELECT count(*) FROM diff WHERE class_change = 0) AS score_changes_only",
                              0, NULL);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &matrix,
                              "SELECT from_class AS \"from\", to_class AS \"to\", count(*) AS households FROM diff "
                              "WHERE class_change <> 0 GROUP BY 1, 2 ORDER BY 1 DESC, 2 DESC",
                              0, NULL);
        if (r == EXIT_OK)
                r = ctl_query(ctl, &worst,
                              "SELECT household_id AS household, from_class AS \"from\", to_class AS \"to\", "
                              "from_score AS score_now, to_score AS score_new, "
                              "array_to_string(rules_added, ', ') AS rules_added, "
                              "array_to_string(rules_removed, ', ') AS rules_removed "
                              "FROM diff WHERE class_change <> 0 "
                              "ORDER BY abs(class_change) DESC, abs(to_score - from_score) DESC, household_id "
                              "LIMIT $1::integer",
                              1, (const char *[]){ top });
        (void) ctl_query(ctl, NULL, "ROLLBACK", 0, NULL);
        if (r != EXIT_OK)
                return r;
        if (ctl->json) {
                printf("{\"file\": ");
                output_json_string(stdout, rs->path);
                printf(", \"same_as_active\": %s, \"totals\": ",
                       streq(PQgetvalue(loaded, 0, 0), "t") ? "false" : "true");
                output_record(stdout, total, 0, true);
                printf(", \"class_changes\": ");
                output_result(stdout, matrix, true);
                printf(", \"households\": ");
                output_result(stdout, worst, true);
                printf("}\n");
                return EXIT_OK;
        }
        if (streq(PQgetvalue(loaded, 0, 0), "f"))
                printf("%s holds the rules in force now.\n", rs->path);
        printf("%s of %s households would change class; %s more would only change score.\n",
               PQgetvalue(total, 0, 1), PQgetvalue(total, 0, 0), PQgetvalue(total, 0, 2));
        if (PQntuples(matrix) > 0) {
                printf("\n");
                output_result(stdout, matrix, false);
                printf("\nThe largest changes:\n");
                output_result(stdout, worst, false);
        }
        return EXIT_OK;
}

int verb_rules(struct ctl *ctl, int argc, char *argv[]) {
        static const struct option options[] = {
                { "top", required_argument, NULL, 't' },
                {}
        };
        _cleanup_(rules_freep) struct ruleset *rs = NULL;
        const char *top = "10", *what, *file;
        int r;

        r = ctl_parse_options(ctl, argc, argv, options, usage, rules_option, &top);
        if (r >= 0)
                return r;
        if (optind + 2 != argc) {
                fputs(usage, stderr);
                return EXIT_USAGE;
        }
        what = argv[optind];
        file = argv[optind + 1];
        if (!streq(what, "check") && !streq(what, "diff")) {
                fprintf(stderr, "bokvarctl rules: unknown command '%s' (check, diff)\n", what);
                return EXIT_USAGE;
        }
        r = load(file, &rs, ctl->json);
        if (r != EXIT_OK)
                return r;
        if (streq(what, "check")) {
                if (ctl->json)
                        printf("{\"file\": \"%s\", \"valid\": true, \"rules\": %zu, \"errors\": []}\n", file,
                               rs->n_rules);
                else
                        printf("%s: valid (%zu rules)\n", file, rs->n_rules);
                return EXIT_OK;
        }
        return diff(ctl, rs, top);
}
