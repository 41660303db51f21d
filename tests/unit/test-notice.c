/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A notice registered by hand, read by the manual feed's rules: every
 * wrong field at once and each in the ingest's own words, what no field
 * explains said of the whole, and the typed row bokvar.signal_register()
 * gets (the cases bokvar.signal_register's pgTAP tests had while the rules
 * were SQL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/ingest/notice.h"

static day_t day(int y, int m, int d) {
        day_t r;

        assert_int_equal(day_from_ymd(y, m, d, &r), 0);
        return r;
}

static void set(struct signal_row *row, enum canonical_field f, const char *v) {
        assert_int_equal(signal_row_set(row, f, v, strlen(v)), 0);
}

/* The problems as "field: problem" lines, "(whole)" for the notice's. */
static char *check(struct signal_row *row, int want) {
        struct notice_problem *p;
        struct buf out = {};
        size_t n;

        assert_int_equal(notice_check(row, day(2026, 3, 10), &p, &n), want);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(buf_printf(&out, "%s: %s\n", p[i].field >= 0 ? canonical_field_names[p[i].field]
                                                                               : "(whole)",
                                            p[i].problem),
                                 0);
        notice_problems_free(p, n);
        return out.data ? out.data : strdup("");
}

static void every_wrong_field_at_once(void **state) {
        struct signal_row row = {};
        char *got;

        (void) state;
        set(&row, FIELD_KIND, "eviction");
        set(&row, FIELD_OCCURRED_AT, "2026-02-30");
        set(&row, FIELD_PERSON_ID, "19600207-1015");
        set(&row, FIELD_CHILDREN, "two");
        set(&row, FIELD_AMOUNT, "12.345.50");
        set(&row, FIELD_NAME, "x");
        got = check(&row, 1);
        assert_string_equal(got,
                            "kind: kind 'eviction' is not a signal kind and not listed under map.kind.values\n"
                            "occurred_at: occurred_at '2026-02-30' is not a date of the form YYYY-MM-DD\n"
                            "person_id: the check digit of the Swedish personnummer is wrong\n"
                            "children: children 'two' is not a whole number of 0 or more\n"
                            "amount: amount '12.345.50' is not an amount of 0 or more with at most two decimals "
                            "(decimal comma)\n");
        free(got);
        signal_row_done(&row);
}

static void nothing_to_match_a_home_by(void **state) {
        struct signal_row row = {};
        char *got;

        (void) state;
        set(&row, FIELD_KIND, "arrears");
        set(&row, FIELD_OCCURRED_AT, "2026-01-05");
        set(&row, FIELD_ADDRESS, "Storgatan 1");
        got = check(&row, 1);
        assert_string_equal(got, "(whole): neither person_id nor an address with postal_code is given, so the signal "
                                 "cannot be matched to a home\n");
        free(got);
        signal_row_done(&row);
}

static void required_fields_left_out(void **state) {
        struct signal_row row = {};
        char *got;

        (void) state;
        set(&row, FIELD_KIND, "   ");
        set(&row, FIELD_PERSON_ID, "19600207-1014");
        got = check(&row, 1);
        assert_string_equal(got, "kind: kind is empty\noccurred_at: occurred_at is empty\n");
        free(got);
        signal_row_done(&row);
}

static void too_long(void **state) {
        struct signal_row row = {};
        char name[202];
        char *got;

        (void) state;
        memset(name, 'a', 201);
        name[201] = 0;
        set(&row, FIELD_KIND, "arrears");
        set(&row, FIELD_OCCURRED_AT, "2026-01-05");
        set(&row, FIELD_NAME, name);
        set(&row, FIELD_POSTAL_CODE, "601 11 601 11 601 11 601");
        set(&row, FIELD_PERSON_ID, "19600207-1014");
        got = check(&row, 1);
        assert_string_equal(got, "name: name has 201 characters, more than the 200 allowed\n"
                                 "postal_code: postal_code has 24 characters, more than the 20 allowed\n");
        free(got);
        signal_row_done(&row);
}

static void the_typed_row(void **state) {
        struct signal_row row = {};
        struct notice_problem *p;
        struct buf json = {};
        struct json_writer w;
        size_t n;

        (void) state;
        set(&row, FIELD_KIND, "termination_notice");
        set(&row, FIELD_OCCURRED_AT, "2026-03-08");
        set(&row, FIELD_PERSON_ID, "19600207-1014");
        set(&row, FIELD_NAME, "Anna Alfa");
        set(&row, FIELD_ADDRESS, " Alfagatan 1 ");
        set(&row, FIELD_POSTAL_CODE, "601 11");
        set(&row, FIELD_CITY, "Norrköping");
        set(&row, FIELD_APARTMENT, "lgh 1102");
        set(&row, FIELD_CHILDREN, "2");
        set(&row, FIELD_AMOUNT, "12 345,50");
        set(&row, FIELD_LANDLORD, "Hyresvärd AB");
        assert_int_equal(notice_check(&row, day(2026, 3, 10), &p, &n), 0);
        assert_null(p);
        assert_int_equal(n, 0);
        json_writer_init(&w, &json);
        notice_write_json(&row, &w);
        assert_int_equal(json_writer_finish(&w), 0);
        assert_string_equal(json.data,
                            "{\"kind\":\"termination_notice\",\"occurred_at\":\"2026-03-08\",\"deadline\":\"2026-03-29\","
                            "\"person_id\":\"196002071014\",\"name\":\"Anna Alfa\",\"address\":\"Alfagatan 1\","
                            "\"postal_code\":\"601 11\",\"city\":\"Norrköping\",\"apartment\":\"lgh 1102\","
                            "\"landlord\":\"Hyresvärd AB\",\"children\":2,\"amount\":\"12345.50\","
                            "\"address_key\":\"ALFAGATAN1|60111|1102\",\"postal_key\":\"60111\","
                            "\"city_key\":\"NORRKÖPING\",\"landlord_key\":\"HYRESVÄRDAB\"}");
        buf_free(&json);
        signal_row_done(&row);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(every_wrong_field_at_once),
                cmocka_unit_test(nothing_to_match_a_home_by),
                cmocka_unit_test(required_fields_left_out),
                cmocka_unit_test(too_long),
                cmocka_unit_test(the_typed_row),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
