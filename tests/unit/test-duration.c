/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Durations as operators write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bokvar/basic/duration.h"
#include "bokvar/basic/util.h"

static void test_units(void **state) {
        usec_t d;

        (void) state;
        assert_int_equal(duration_parse("30s", &d, NULL), 0);
        assert_int_equal(d, 30 * USEC_PER_SEC);
        assert_int_equal(duration_parse("15m", &d, NULL), 0);
        assert_int_equal(d, 15 * USEC_PER_MINUTE);
        assert_int_equal(duration_parse("1h", &d, NULL), 0);
        assert_int_equal(d, USEC_PER_HOUR);
        assert_int_equal(duration_parse("1d", &d, NULL), 0);
        assert_int_equal(d, USEC_PER_DAY);
        assert_int_equal(duration_parse("2w", &d, NULL), 0);
        assert_int_equal(d, 14 * USEC_PER_DAY);
        assert_int_equal(duration_parse("0s", &d, NULL), 0);
        assert_int_equal(d, 0);
        assert_int_equal(duration_parse("365d", &d, NULL), 0);
        assert_int_equal(d, 365 * USEC_PER_DAY);
}

static void test_sums(void **state) {
        usec_t d;

        (void) state;
        assert_int_equal(duration_parse("1h30m", &d, NULL), 0);
        assert_int_equal(d, 90 * USEC_PER_MINUTE);
        assert_int_equal(duration_parse("1d12h", &d, NULL), 0);
        assert_int_equal(d, 36 * USEC_PER_HOUR);
}

static void test_rejected(void **state) {
        const char *reason = NULL;
        usec_t d = 42;

        (void) state;
        assert_int_equal(duration_parse("30", &d, &reason), -EINVAL);
        assert_string_equal(reason, "number without a unit; add s, m, h, d or w (e.g. 30s)");
        assert_int_equal(duration_parse("15 m", &d, &reason), -EINVAL);
        assert_string_equal(reason, "unknown unit; use s, m, h, d or w");
        assert_int_equal(duration_parse("5y", &d, &reason), -EINVAL);
        assert_string_equal(reason, "unknown unit; use s, m, h, d or w");
        assert_int_equal(duration_parse("", &d, &reason), -EINVAL);
        assert_string_equal(reason, "empty duration; write e.g. 30s, 15m, 1h or 1d");
        assert_int_equal(duration_parse("-1d", &d, &reason), -EINVAL);
        assert_int_equal(duration_parse("m", &d, &reason), -EINVAL);
        assert_int_equal(duration_parse("1.5h", &d, &reason), -EINVAL);
        assert_int_equal(duration_parse("99999999999999999999d", &d, &reason), -EINVAL);
        assert_string_equal(reason, "duration too long");
        assert_int_equal(duration_parse("36526d", &d, &reason), -EINVAL);
        assert_string_equal(reason, "duration too long (at most 36525d)");
        /* Failures leave the output alone. */
        assert_int_equal(d, 42);
}

static void test_format(void **state) {
        char buf[32];

        (void) state;
        assert_string_equal(duration_format(buf, 0), "0s");
        assert_string_equal(duration_format(buf, 15 * USEC_PER_MINUTE), "15m");
        assert_string_equal(duration_format(buf, 36 * USEC_PER_HOUR), "1d12h");
        assert_string_equal(duration_format(buf, 21 * USEC_PER_DAY), "3w");
        assert_string_equal(duration_format(buf, 1500 * USEC_PER_MSEC), "1s");
        assert_string_equal(duration_format(buf, 250 * USEC_PER_MSEC), "250ms");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_units),
                cmocka_unit_test(test_sums),
                cmocka_unit_test(test_rejected),
                cmocka_unit_test(test_format),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
