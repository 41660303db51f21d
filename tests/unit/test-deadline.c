/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The windows by jurisdiction on known dates, and the deadline a whole
 * row gets through signal_validate(): the feed's own first, else the
 * law's, from the later of served and notified for a Swedish termination. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/ingest/deadline.h"
#include "bokvar/ingest/signal-row.h"

static day_t day(int y, int m, int d) {
        day_t r;

        assert_int_equal(day_from_ymd(y, m, d, &r), 0);
        return r;
}

static void assert_day(day_t got, const char *want) {
        char text[11];

        if (!want) {
                assert_int_equal(got, DAY_NONE);
                return;
        }
        assert_int_not_equal(got, DAY_NONE);
        assert_string_equal(day_format(got, text), want);
}

static void test_sweden(void **state) {
        const day_t served = day(2026, 2, 20);

        (void) state;
        /* 12 kap. 44 § jordabalken: three weeks, across the end of February. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_TERMINATION_NOTICE, served, DAY_NONE), "2026-03-13");
        /* ... from the day social services were notified, when that is later ... */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_TERMINATION_NOTICE, served, day(2026, 3, 2)),
                   "2026-03-23");
        /* ... and from the served day when the notice reached them first. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_TERMINATION_NOTICE, served, day(2026, 2, 18)),
                   "2026-03-13");
        /* Ellagen: three weeks before a disconnection; a leap year's February. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_UTILITY_DISCONNECTION, day(2028, 2, 15), DAY_NONE),
                   "2028-03-07");
        /* A payment order: the enforcement agency's usual ten days. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_PAYMENT_ORDER, day(2026, 12, 28), DAY_NONE),
                   "2027-01-07");
        /* A scheduled eviction's deadline is its day. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_EVICTION_SCHEDULED, day(2026, 4, 1), DAY_NONE),
                   "2026-04-01");
        /* No window: arrears, an application, a Norwegian request's kind in Sweden. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_ARREARS, served, DAY_NONE), NULL);
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_EVICTION_APPLICATION, served, DAY_NONE), NULL);
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_WELFARE_WARNING, served, DAY_NONE), NULL);
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_TERMINATION_NOTICE, DAY_NONE, DAY_NONE), NULL);
}

static void test_norway(void **state) {
        (void) state;
        /* Tvangsfullbyrdelsesloven § 4-18: fourteen days after the warning. */
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_EVICTION_WARNING, day(2026, 12, 20), DAY_NONE),
                   "2027-01-03");
        /* § 13-6: the tenant's two weeks to respond to the request. */
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_EVICTION_APPLICATION, day(2026, 3, 5), DAY_NONE),
                   "2026-03-19");
        /* Tvangsfravikelse: the day itself. */
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_EVICTION_SCHEDULED, day(2026, 3, 5), DAY_NONE),
                   "2026-03-05");
        /* Swedish windows are not Norway's: none after a termination, a
         * disconnection or a payment order; none for NAV's warning. */
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_TERMINATION_NOTICE, day(2026, 3, 5), day(2026, 3, 9)),
                   NULL);
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_UTILITY_DISCONNECTION, day(2026, 3, 5), DAY_NONE),
                   NULL);
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_PAYMENT_ORDER, day(2026, 3, 5), DAY_NONE), NULL);
        assert_day(deadline_derive(JURISDICTION_NO, SIGNAL_KIND_WELFARE_WARNING, day(2026, 3, 5), DAY_NONE), NULL);
        /* A § 4-18 warning is Norway's whatever the feed says. */
        assert_day(deadline_derive(JURISDICTION_SE, SIGNAL_KIND_EVICTION_WARNING, day(2026, 3, 5), DAY_NONE),
                   "2026-03-19");
}

static void set(struct signal_row *row, enum canonical_field f, const char *v) {
        assert_int_equal(signal_row_set(row, f, v, strlen(v)), 0);
}

/* A row's deadline: the feed's own, else the law's by the feed's
 * jurisdiction; notified_at is read in the feed's date format. */
static void test_row(void **state) {
        struct signal_rules se = { .date_format = DATE_DD_DOT_MM_YYYY, .today = day(2026, 3, 10) };
        struct signal_rules no = se;
        struct signal_row row = {};

        (void) state;
        no.jurisdiction = JURISDICTION_NO;
        signal_row_clear(&row);
        set(&row, FIELD_EXTERNAL_ID, "1");
        set(&row, FIELD_KIND, "termination_notice");
        set(&row, FIELD_OCCURRED_AT, "20.02.2026");
        set(&row, FIELD_NOTIFIED_AT, "02.03.2026");
        set(&row, FIELD_ADDRESS, "Storgatan 1");
        set(&row, FIELD_POSTAL_CODE, "75320");
        assert_int_equal(signal_validate(&se, NULL, false, &row), 0);
        assert_day(row.deadline, "2026-03-23");
        assert_int_equal(signal_validate(&no, NULL, false, &row), 0);
        assert_day(row.deadline, NULL);

        set(&row, FIELD_DEADLINE, "01.04.2026");
        assert_int_equal(signal_validate(&se, NULL, false, &row), 0);
        assert_day(row.deadline, "2026-04-01");

        set(&row, FIELD_KIND, "eviction_warning");
        assert_int_equal(signal_row_set(&row, FIELD_DEADLINE, NULL, 0), 0);
        assert_int_equal(signal_validate(&no, NULL, false, &row), 0);
        assert_day(row.deadline, "2026-03-06");

        /* A notified_at that is no date is a reason like any other. */
        set(&row, FIELD_NOTIFIED_AT, "2026-03-02");
        assert_int_equal(signal_validate(&se, NULL, false, &row), 1);
        assert_string_equal(row.reason.data, "notified_at '2026-03-02' is not a date of the form DD.MM.YYYY");
        signal_row_done(&row);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sweden),
                cmocka_unit_test(test_norway),
                cmocka_unit_test(test_row),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
