/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The rules loader: what a good file becomes, and every kind of mistake
 * with its exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/util.h"
#include "bokvar/config/rules.h"

static char *fixture(const char *name) {
        char *p = NULL;

        assert_true(asprintf(&p, "%s/rules/%s", getenv("FIXTURES"), name) > 0);
        return p;
}

static void test_shipped_rules(void **state) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(rules_freep) struct ruleset *rs = NULL;
        struct buf json = {};
        struct diag d = {};

        (void) state;
        assert_true(asprintf(&path, "%s/config/rules.yaml", getenv("SOURCE_ROOT")) > 0);
        if (rules_load(path, &rs, &d) < 0)
                diag_print(&d, stderr);
        assert_int_equal(d.n, 0);
        assert_int_equal(rs->window_days, 365);
        assert_int_equal(rs->watch, 20);
        assert_int_equal(rs->outreach, 50);
        assert_int_equal(rs->urgent, 90);
        assert_int_equal(rs->n_rules, 12);
        assert_string_equal(rs->rules[6].name, "large-debt");
        assert_int_equal(rs->rules[6].amount_at_least, 2000000);   /* hundredths */
        assert_string_equal(rs->rules[6].per_unit, "amount");
        assert_int_equal(rs->rules[6].per_step, 1000000);
        assert_int_equal(rs->rules[11].points, -40);
        /* Disturbance and sanitary notices count; children by presence, not number. */
        assert_string_equal(rs->rules[8].kinds[0], "disturbance");
        assert_string_equal(rs->rules[9].kinds[0], "sanitary");
        assert_true(rs->rules[8].points > 0 && rs->rules[9].points > 0);
        assert_string_equal(rs->rules[10].name, "children");
        assert_int_equal(rs->rules[10].children_at_least, 1);
        assert_null(rs->rules[10].per_unit);
        assert_int_equal(rs->rules[1].deadline_within_days, 14);
        assert_int_equal(rs->rules[1].within_days, RULES_UNSET);
        assert_int_equal(rules_to_json(rs, &json), 0);
        assert_non_null(strstr(json.data, "{\"name\":\"large-debt\",\"description\":\"A debt of 20 000 or more; more "
                                          "the larger it is\",\"points\":10,\"when\":{\"_\":0,\"kind\":"
                                          "[\"arrears\",\"termination_notice\"],\"amount_at_least\":\"20000.00\"},"
                                          "\"per\":{\"unit\":\"amount\",\"step\":\"10000.00\",\"points\":5,"
                                          "\"max\":25}}"));
        buf_free(&json);
}

static void test_every_mistake(void **state) {
        static const char *const want[] = {
                ":1:9: '36h' is not a whole number of days (rules count in days: 14d, 60d, 365d)",
                ":2:13: thresholds must rise: watch <= outreach <= urgent",
                ":4:11: rule name 'Termination' must be 1 to 64 of a-z, 0-9, '_' and '-'",
                ":5:19: 'termination' is not a signal kind (arrears, termination_notice, disturbance, sanitary, "
                "payment_order, eviction_application, eviction_scheduled, eviction_executed, eviction_cancelled, "
                "utility_disconnection, resolved, eviction_warning, welfare_warning)",
                ":5:45: unknown key 'nationality' in when (known keys: kind, source, within, deadline_within, "
                "deadline_passed, count_at_least, amount_at_least, months_at_least, children_at_least)",
                ":6:13: '5000' is out of range (-1000 to 1000)",
                ":8:11: when needs at least one condition",
                ":10:5: rule name 'arrears' is used twice (first at line 7)",
                ":11:65: expected true or false, got 'maybe'",
                ":13:10: per needs max (the most the increments may add)",
                ":13:27: per counts one thing: 'amount' and 'child' both given",
                ":16:13: unknown key 'age_at_least' in when (known keys: kind, source, within, deadline_within, "
                "deadline_passed, count_at_least, amount_at_least, months_at_least, children_at_least)",
                ":18:5: a rule is missing the required key 'name'",
                ":18:32: '99' is out of range (0 to 30)",
                ":19:13: expected a whole number, got 'ten'",
        };
        _cleanup_free_ char *path = fixture("errors.yaml");
        struct ruleset *rs = NULL;
        struct diag d = {};

        (void) state;
        assert_true(rules_load(path, &rs, &d) < 0);
        assert_null(rs);
        if (d.n != ELEMENTSOF(want))
                diag_print(&d, stderr);
        assert_int_equal(d.n, ELEMENTSOF(want));
        for (size_t i = 0; i < d.n; i++) {
                assert_non_null(startswith(d.messages[i], path));
                assert_string_equal(d.messages[i] + strlen(path), want[i]);
        }
        diag_free(&d);
}

static void expect_one(const char *yaml, const char *want) {
        struct ruleset *rs = NULL;
        struct diag d = {};

        assert_true(rules_parse("r.yaml", yaml, strlen(yaml), &rs, &d) < 0);
        if (d.n != 1)
                diag_print(&d, stderr);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.messages[0], want);
        diag_free(&d);
}

/* after_deadline: points instead, unless kinds, into the JSON the SQL
 * reads; and what is wrong with one. */
static void test_after_deadline(void **state) {
        static const char yaml[] = "thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n"
                                   "  - name: a\n    when: {kind: termination_notice}\n    points: 50\n"
                                   "    after_deadline: {points: 15}\n"
                                   "  - name: b\n    when: {kind: eviction_warning}\n    points: 40\n"
                                   "    after_deadline: {points: 10, unless: [eviction_application, eviction_scheduled]}\n";
        _cleanup_(rules_freep) struct ruleset *rs = NULL;
        struct buf json = {};
        struct diag d = {};

        (void) state;
        assert_int_equal(rules_parse("r.yaml", yaml, strlen(yaml), &rs, &d), 0);
        assert_int_equal(rs->rules[0].after_points, 15);
        assert_null(rs->rules[0].after_unless);
        assert_string_equal(rs->rules[1].after_unless[1], "eviction_scheduled");
        assert_int_equal(rules_to_json(rs, &json), 0);
        assert_non_null(strstr(json.data, "\"points\":50,\"when\":{\"_\":0,\"kind\":[\"termination_notice\"]},"
                                          "\"after_deadline\":{\"points\":15}}"));
        assert_non_null(strstr(json.data, "\"after_deadline\":{\"points\":10,\"unless\":[\"eviction_application\","
                                          "\"eviction_scheduled\"]}}"));
        buf_free(&json);
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: {kind: arrears}\n"
                   "    points: 1\n    after_deadline: {unless: arrears}\n",
                   "r.yaml:6:21: after_deadline is missing the required key 'points'");
}

static void test_small_mistakes(void **state) {
        (void) state;
        expect_one("", "r.yaml: the rules file is empty");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\n",
                   "r.yaml:1:1: the rules file is missing the required key 'rules'");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules: []\nwindow: 0d\n",
                   "r.yaml:1:1: window must be at least 1d");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nwindow: 9999d\nrules: []\n",
                   "r.yaml:2:9: '9999d' is longer than 3650d");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: {kind: arrears}\n"
                   "    points: 1\n    per: {signal: 0, points: 1, max: 2}\n",
                   "r.yaml:6:19: '0' is out of range (1 to 1000)");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: {amount_at_least: "
                   "12.345}\n    points: 1\n",
                   "r.yaml:4:29: expected a number with at most two decimals, got '12.345'");
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: {source: bank}\n"
                   "    points: 1\n",
                   "r.yaml:4:20: 'bank' is not a source (landlord, enforcement, utility, manual, welfare)");
        /* Anchors would let one rule borrow another's conditions unseen. */
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: &w {kind: arrears}\n"
                   "    points: 1\n",
                   "r.yaml:4:11: anchors (&w) are not supported; write the value out");
        /* Reported once, as the file is read; the first list stands and
         * the second is not read into it (which lost the first's memory). */
        expect_one("thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: a\n    when: {kind: arrears}\n"
                   "    points: 1\nrules:\n  - name: b\n    when: {kind: arrears}\n    points: 2\n",
                   "r.yaml:6:1: duplicate key 'rules' (first given at line 2)");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_rules),
                cmocka_unit_test(test_every_mistake),
                cmocka_unit_test(test_small_mistakes),
                cmocka_unit_test(test_after_deadline),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
