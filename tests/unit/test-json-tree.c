/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A JSON record held whole: the value at a path, and its text as jsonb's
 * ->> gives it (the texts below are what PostgreSQL 15 prints). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/json-tree.h"

/* The text at path (keys separated by '.'; "" for the whole), or "NULL". */
static char *text_at(const char *json, const char *path) {
        struct json_tree t = {};
        struct buf out = {};
        char *keys[8] = {}, copy[128];
        size_t n = 0;
        const struct json_node *node;
        int k;

        assert_int_equal(json_tree_parse(&t, json, strlen(json)), 0);
        snprintf(copy, sizeof copy, "%s", path);
        for (char *s = copy, *e; *path && n < 7; s = e + 1) {
                e = strchr(s, '.');
                keys[n++] = s;
                if (!e)
                        break;
                *e = 0;
        }
        node = json_tree_get(&t, keys);
        k = node ? json_tree_text(&t, node, &out) : 0;
        assert_true(k >= 0);
        if (k == 0)
                (void) buf_puts(&out, "NULL");
        else if (!out.data)
                (void) buf_puts(&out, "");
        json_tree_done(&t);
        return buf_steal(&out);
}

static void expect(const char *json, const char *path, const char *expected) {
        char *got = text_at(json, path);

        if (strcmp(got, expected) != 0)
                fail_msg("%s at '%s': got %s, expected %s", json, path, got, expected);
        free(got);
}

static void test_scalars(void **state) {
        (void) state;
        expect("{\"a\": \"x\\u00e5\\n\\\"\"}", "a", "xå\n\"");
        expect("{\"a\": \"\"}", "a", "");
        expect("{\"a\": null}", "a", "NULL");
        expect("{\"a\": true, \"b\": false}", "a", "true");
        expect("{\"a\": true, \"b\": false}", "b", "false");
        expect("{\"a\": 1}", "b", "NULL");
        expect("{\"a\": 1}", "a.b", "NULL");
        expect("{\"a\": \"😀\\ud83d\\ude00\"}", "a", "😀😀");
}

/* numeric_in()'s reading of a number, and numeric_out()'s writing. */
static void test_numbers(void **state) {
        static const char *const numbers[][2] = {
                { "0", "0" }, { "-0", "0" }, { "-0.0", "0.0" }, { "15000.5", "15000.5" }, { "1.50", "1.50" },
                { "1e3", "1000" }, { "1E+2", "100" }, { "1.5e1", "15" }, { "1.50e1", "15.0" }, { "1e-2", "0.01" },
                { "12.5e-1", "1.25" }, { "0.1e1", "1" }, { "-12", "-12" }, { "0.000", "0.000" }, { "5e0", "5" },
                { "123456789012345678901234567890", "123456789012345678901234567890" }, { "2.5E-3", "0.0025" },
                { "0e5", "0" }, { "-1.2e1", "-12" },
        };

        (void) state;
        for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
                char json[128];

                snprintf(json, sizeof json, "{\"n\": %s}", numbers[i][0]);
                expect(json, "n", numbers[i][1]);
        }
}

/* Objects print with their keys shorter first, then bytewise, the last of
 * duplicate keys kept; ", " and ": " between; strings escaped as jsonb. */
static void test_containers(void **state) {
        (void) state;
        expect("{\"a\": {\"bb\": 1, \"a\": [1, \"x\", null, {}], \"c\": {\"z\": []}}}", "a",
               "{\"a\": [1, \"x\", null, {}], \"c\": {\"z\": []}, \"bb\": 1}");
        expect("{\"a\": {\"k\": 1, \"k\": 2, \"j\": 0}}", "a", "{\"j\": 0, \"k\": 2}");
        expect("{\"a\": [\"tab\\there\", \"\\u0001\", \"/\"]}", "a", "[\"tab\\there\", \"\\u0001\", \"/\"]");
        expect("{\"a\":{\"b\":1.0e1}}", "", "{\"a\": {\"b\": 10}}");
        /* The last of duplicate keys, when looked up. */
        expect("{\"a\": 1, \"a\": 2}", "a", "2");
}

/* Arrays are indexed by keys that are whole numbers, from the end when
 * negative, as jsonb's #>> does. */
static void test_array_paths(void **state) {
        const char *doc = "{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}, {\"id\": \"c\"}]}";

        (void) state;
        expect(doc, "items.0.id", "a");
        expect(doc, "items.2.id", "c");
        expect(doc, "items.-1.id", "c");
        expect(doc, "items.-3.id", "a");
        expect(doc, "items.-4.id", "NULL");
        expect(doc, "items.3.id", "NULL");
        expect(doc, "items.x.id", "NULL");
        expect(doc, "items.+1.id", "b");
        expect(doc, "items. 1.id", "b");
        expect(doc, "items.1 .id", "NULL");
}

static void test_not_json(void **state) {
        static const char *const bad[] = { "", "{", "{\"a\": }", "[1,]", "{\"a\" 1}", "tru", "{} {}", "\"\\x\"",
                                           "\"\\ud800\"", "\"\\u0000\"" };
        struct json_tree t = {};

        (void) state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(json_tree_parse(&t, bad[i], strlen(bad[i])), -EBADMSG);
        json_tree_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scalars),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_containers),
                cmocka_unit_test(test_array_paths),
                cmocka_unit_test(test_not_json),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
