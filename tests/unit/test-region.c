/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A regional feed's area: in by postal code (normalised, prefixes) or by
 * municipality code, outside when a code is given and listed nowhere,
 * unknown when none is given; and a drop folder's sftp listing lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/ingest/dropdir.h"
#include "bokvar/ingest/region.h"

static enum region where(const struct feed_config *f, const char *postal, const char *municipality) {
        struct signal_row row = {};
        enum region r;

        signal_row_clear(&row);
        if (postal)
                assert_int_equal(signal_row_set(&row, FIELD_POSTAL_CODE, postal, strlen(postal)), 0);
        if (municipality)
                assert_int_equal(signal_row_set(&row, FIELD_MUNICIPALITY_CODE, municipality, strlen(municipality)), 0);
        assert_int_equal(region_check(f, &row, &r), 0);
        signal_row_done(&row);
        return r;
}

static void test_region(void **state) {
        char *postal[] = { (char *) "602 23", (char *) "603*", NULL };
        char *municipality[] = { (char *) "0581", NULL };
        struct feed_config f = {};

        (void) state;
        assert_int_equal(where(&f, "11122", NULL), REGION_INSIDE);   /* no only: */
        f.only.postal_codes = postal;
        f.only.municipality_codes = municipality;
        assert_int_equal(where(&f, "60223", NULL), REGION_INSIDE);
        assert_int_equal(where(&f, " 602-23 ", NULL), REGION_INSIDE);
        assert_int_equal(where(&f, "603 50", NULL), REGION_INSIDE);
        assert_int_equal(where(&f, "60224", NULL), REGION_OUTSIDE);
        assert_int_equal(where(&f, "6022", NULL), REGION_OUTSIDE);
        assert_int_equal(where(&f, "99999", "0581"), REGION_INSIDE);
        assert_int_equal(where(&f, NULL, "0580"), REGION_OUTSIDE);
        assert_int_equal(where(&f, NULL, NULL), REGION_UNKNOWN);
        assert_int_equal(where(&f, " ", NULL), REGION_UNKNOWN);
        f.only.postal_codes = NULL;
        /* Only municipalities listed: a postal code alone cannot place it. */
        assert_int_equal(where(&f, "60223", NULL), REGION_UNKNOWN);
}

static void test_listing(void **state) {
        char name[64];
        uint64_t size;
        int64_t t1, t2, t3;

        (void) state;
        assert_int_equal(drop_parse_listing_line("-rw-r--r--    1 bokvar   bokvar       1234 Dec  2 08:00 a b.csv",
                                                 name, sizeof name, &size, &t1), 1);
        assert_string_equal(name, "a b.csv");
        assert_int_equal(size, 1234);
        assert_int_equal(drop_parse_listing_line("-rw-r--r--    1 1000     1000           12 Dec  2 08:01 b.csv\r",
                                                 name, sizeof name, &size, &t2), 1);
        assert_string_equal(name, "b.csv");
        assert_int_equal(drop_parse_listing_line("-rw-r--r--    1 1000     1000           12 Mar  9  2025 old.csv",
                                                 name, sizeof name, &size, &t3), 1);
        assert_true(t3 < t1 && t1 < t2);
        assert_int_equal(drop_parse_listing_line("drwxr-xr-x    2 1000     1000         4096 Dec  2 08:00 done",
                                                 name, sizeof name, &size, &t1), 0);
        assert_int_equal(drop_parse_listing_line("lrwxrwxrwx    1 1000     1000            9 Dec  2 08:00 l -> /etc",
                                                 name, sizeof name, &size, &t1), 0);
        assert_int_equal(drop_parse_listing_line("garbage", name, sizeof name, &size, &t1), 0);
        assert_int_equal(drop_parse_listing_line("-rw-r--r--    1 1000     1000           12 Foo  2 08:00 x",
                                                 name, sizeof name, &size, &t1), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_region),
                cmocka_unit_test(test_listing),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
