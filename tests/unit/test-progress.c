/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The progress notices of a long rescore: which are read, when a line is
 * due, and the time left at the pace so far. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bokvar/db/progress.h"

#define S USEC_PER_SEC

static void test_not_progress(void **state) {
        struct progress p = {};

        (void) state;
        assert_int_equal(progress_note(&p, "relation \"x\" does not exist, skipping", 1 * S), 0);
        assert_int_equal(progress_note(&p, "bokvar progress: 5 of 4 households", 1 * S), 0);
        assert_int_equal(progress_note(&p, "bokvar progress: 1 of 4 households and more", 1 * S), 0);
        assert_int_equal(progress_note(&p, "bokvar progress: x of 4 households", 1 * S), 0);
        assert_int_equal(p.started, 0);
}

static void test_paced(void **state) {
        struct progress p = {};
        char line[128];

        (void) state;
        /* The start is always a line, without an estimate. */
        assert_int_equal(progress_note(&p, "bokvar progress: 0 of 1000000 households", 10 * S), 1);
        assert_string_equal(progress_format(&p, 10 * S, line, sizeof line), "0 of 1000000 households");
        /* A chunk a second: a line every PROGRESS_EVERY, not each chunk. */
        assert_int_equal(progress_note(&p, "bokvar progress: 50000 of 1000000 households", 11 * S), 0);
        assert_int_equal(progress_note(&p, "bokvar progress: 100000 of 1000000 households", 12 * S), 0);
        assert_int_equal(progress_note(&p, "bokvar progress: 150000 of 1000000 households\n", 13 * S), 1);
        assert_string_equal(progress_format(&p, 13 * S, line, sizeof line),
                            "150000 of 1000000 households, about 17 s left");
        assert_int_equal(progress_note(&p, "bokvar progress: 200000 of 1000000 households", 14 * S), 0);
        /* The end is always a line, and has nothing left. */
        assert_int_equal(progress_note(&p, "bokvar progress: 1000000 of 1000000 households", 15 * S), 1);
        assert_string_equal(progress_format(&p, 15 * S, line, sizeof line), "1000000 of 1000000 households");
}

static void test_minutes_and_restart(void **state) {
        struct progress p = {};
        char line[128];

        (void) state;
        assert_int_equal(progress_note(&p, "bokvar progress: 0 of 1000 households", 0 * S + 1), 1);
        assert_int_equal(progress_note(&p, "bokvar progress: 10 of 1000 households", 10 * S + 1), 1);
        assert_string_equal(progress_format(&p, 10 * S + 1, line, sizeof line),
                            "10 of 1000 households, about 16 min left");
        /* Another rescore (another total) starts the pace again. */
        assert_int_equal(progress_note(&p, "bokvar progress: 500 of 2000 households", 11 * S), 1);
        assert_int_equal(p.started, 11 * S);
        assert_string_equal(progress_format(&p, 11 * S, line, sizeof line), "500 of 2000 households");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_not_progress),
                cmocka_unit_test(test_paced),
                cmocka_unit_test(test_minutes_and_restart),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
