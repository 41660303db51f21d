/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The readers of feed values: dates in the declared format, amounts with a
 * decimal comma or point, counts, normalised words and address keys, and
 * the CSV line written back for a quarantined row. Each gives a value or
 * none, never an error, whatever the feed sends. Every case of the SQL
 * readers' tests these replace (tests/sql/readers.sql until migration 006),
 * with the same inputs and, as the SQL gave them, the same results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/word.h"
#include "bokvar/ingest/canonical.h"

/* ---- dates ---- */

static const struct { const char *text, *format, *expected, *what; } dates[] = {
        { "2026-03-05", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD" },
        { "2026-03-05", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD is the default format" },
        { "2026-03-05T10:00:00Z", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD with a time after T" },
        { "2026-03-05T23:30:00+01:00", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD with a time and offset: the date as written counts" },
        { "2026-03-05 10:00", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD with a time after a space" },
        { "2026-3-5", "YYYY-MM-DD", "2026-03-05", "YYYY-MM-DD with one-digit month and day" },
        { "  2026-03-05  ", "YYYY-MM-DD", "2026-03-05", "surrounding spaces are ignored" },
        { "2026-03-05x", "YYYY-MM-DD", NULL, "YYYY-MM-DD followed by garbage is not a date" },
        { "20260305", "YYYYMMDD", "2026-03-05", "YYYYMMDD" },
        { "2026035", "YYYYMMDD", NULL, "YYYYMMDD with seven digits" },
        { "2026/03/05", "YYYY/MM/DD", "2026-03-05", "YYYY/MM/DD" },
        { "05.03.2026", "DD.MM.YYYY", "2026-03-05", "DD.MM.YYYY" },
        { "5.3.2026", "DD.MM.YYYY", "2026-03-05", "DD.MM.YYYY with one-digit day and month" },
        { "05-03-2026", "DD-MM-YYYY", "2026-03-05", "DD-MM-YYYY" },
        { "05/03/2026", "DD/MM/YYYY", "2026-03-05", "DD/MM/YYYY" },
        { "03/05/2026", "MM/DD/YYYY", "2026-03-05", "MM/DD/YYYY" },
        { "13/05/2026", "MM/DD/YYYY", NULL, "MM/DD/YYYY with month 13" },
        { "13/05/2026", "DD/MM/YYYY", "2026-05-13", "the same text as DD/MM/YYYY" },
        { "2026-03-05", "DD.MM.YYYY", NULL, "a date in another format than the declared one" },
        { "05.03.2026", "YYYY-MM-DD", NULL, "... and the other way round" },
        { "29.02.2024", "DD.MM.YYYY", "2024-02-29", "29 February 2024 exists" },
        { "29.02.2026", "DD.MM.YYYY", NULL, "29 February 2026 does not" },
        { "29.02.1900", "DD.MM.YYYY", NULL, "29 February 1900 does not (divisible by 100)" },
        { "29.02.2000", "DD.MM.YYYY", "2000-02-29", "29 February 2000 does (divisible by 400)" },
        { "20240229", "YYYYMMDD", "2024-02-29", "20240229" },
        { "20230229", "YYYYMMDD", NULL, "20230229" },
        { "31.04.2026", "DD.MM.YYYY", NULL, "31 April" },
        { "32.01.2026", "DD.MM.YYYY", NULL, "day 32" },
        { "00.01.2026", "DD.MM.YYYY", NULL, "day 0" },
        { "2026-13-01", "YYYY-MM-DD", NULL, "month 13" },
        { "2026-00-01", "YYYY-MM-DD", NULL, "month 0" },
        { "99999999", "YYYYMMDD", NULL, "99999999" },
        { "01.01.1799", "DD.MM.YYYY", NULL, "a year before 1800" },
        { "2026-03-05", "YYYY.MM.DD", NULL, "an unknown format gives NULL" },
        { "2026-03-05", NULL, NULL, "no format gives NULL" },
        { NULL, "YYYY-MM-DD", NULL, "NULL gives NULL" },
        { "", "YYYY-MM-DD", NULL, "the empty string gives NULL" },
        { "5 mars 2026", "DD.MM.YYYY", NULL, "words give NULL" },
        { "٢٠٢٦-٠٣-٠٥", "YYYY-MM-DD", NULL, "digits of another script give NULL, not a cast error" },
};

static void test_dates(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
                enum date_format f;
                char got[11] = "";
                day_t d;
                bool ok = dates[i].format && date_format_from_string(dates[i].format, &f) == 0 &&
                          canonical_date(dates[i].text, f, &d) == 0;

                if (ok)
                        day_format(d, got);
                if (ok != (dates[i].expected != NULL) || (ok && strcmp(got, dates[i].expected) != 0))
                        fail_msg("%s: \"%s\" as %s gave %s, expected %s", dates[i].what,
                                 dates[i].text ? dates[i].text : "NULL", dates[i].format ? dates[i].format : "NULL",
                                 ok ? got : "none", dates[i].expected ? dates[i].expected : "none");
        }
}

/* No text in any format is anything but a date or none (under the
 * sanitizers, nothing reads out of bounds either). */
static void test_dates_never_fail(void **state) {
        static const char *const texts[] = {
                "2026-99-99", "9999-12-31", "0000-01-01", "2026-1-", "-1-1-2026", "1.1.1", "//", "2026-03-05T",
                "29.02.-2024", "05.03.2026\n", "1e3", "２０２６-０３-０５",
        };
        unsigned dates_found = 0;

        (void) state;
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
                for (int f = 0; f < _DATE_FORMAT_MAX; f++) {
                        day_t d;

                        if (canonical_date(texts[i], (enum date_format) f, &d) == 0)
                                dates_found++;
                }
        /* 2026-03-05T: a date with a (missing) time after it. */
        assert_int_equal(dates_found, 1);
}

/* Every day from 1800 to 2200 comes back as itself. */
static void test_days_round_trip(void **state) {
        day_t first, last;

        (void) state;
        assert_int_equal(day_from_ymd(1800, 1, 1, &first), 0);
        assert_int_equal(day_from_ymd(2200, 12, 31, &last), 0);
        assert_int_equal(day_from_ymd(2000, 1, 1, &(day_t){ 0 }), 0);
        for (day_t d = first; d <= last; d++) {
                int y, m, dd;
                day_t back;

                day_to_ymd(d, &y, &m, &dd);
                assert_int_equal(day_from_ymd(y, m, dd, &back), 0);
                assert_int_equal(back, d);
        }
        assert_int_equal(day_from_ymd(1799, 12, 31, &first), -EINVAL);
        assert_int_equal(day_from_ymd(2201, 1, 1, &first), -EINVAL);
}

/* ---- amounts ---- */

static const struct { const char *text; bool comma; const char *expected, *what; } amounts[] = {
        { "12 345,50", true, "12345.50", "comma: \"12 345,50\"" },
        { "12 345,50 kr", true, "12345.50", "comma: \"12 345,50 kr\"" },
        { "12.345,50", true, "12345.50", "comma: \"12.345,50\"" },
        { "1 234", true, "1234.00", "comma: \"1 234\"" },
        { "0,5", true, "0.50", "comma: \"0,5\"" },
        { "SEK 100", true, "100.00", "comma: \"SEK 100\"" },
        { "100:-", true, "100.00", "comma: \"100:-\"" },
        { "1 234 567,89 SEK", true, "1234567.89", "comma: \"1 234 567,89 SEK\"" },
        { "12 345,50", true, "12345.50", "comma: a no-break space groups thousands" },
        { "12 345,50", true, "12345.50", "comma: a narrow no-break space groups thousands" },
        { "12'345,50", true, "12345.50", "comma: an apostrophe groups thousands" },
        { "€ 5,25", true, "5.25", "comma: \"€ 5,25\"" },
        { "0", true, "0.00", "comma: zero" },
        { "1,234.50", false, "1234.50", "point: \"1,234.50\"" },
        { "1234.5", false, "1234.50", "point: \"1234.5\"" },
        { "12345", false, "12345.00", "point: \"12345\"" },
        { "SEK 1,234.50", false, "1234.50", "point: \"SEK 1,234.50\"" },
        { "1234.50 NOK", false, "1234.50", "point: \"1234.50 NOK\"" },
        { "EUR 99.99", false, "99.99", "point: \"EUR 99.99\"" },
        { "-100", true, NULL, "negative (comma)" },
        { "-100", false, NULL, "negative (point)" },
        { "-1 234,50 kr", true, NULL, "negative with a currency" },
        { "12,345", true, NULL, "three decimals (comma)" },
        { "1.005", false, NULL, "three decimals (point)" },
        { "999 999 999 999,99", true, "999999999999.99", "just below 10^12" },
        { "1 000 000 000 000", true, NULL, "10^12 (comma)" },
        { "1000000000000", false, NULL, "10^12 (point)" },
        { "99999999999999999999", false, NULL, "twenty digits" },
        { "abc", true, NULL, "letters" },
        { "", true, NULL, "empty" },
        { "kr", true, NULL, "only a currency" },
        { ",", true, NULL, "only a comma" },
        { ".", false, NULL, "only a point" },
        { "1e5", false, NULL, "scientific notation" },
        { "12,3,4", true, NULL, "two decimal commas" },
        { "12.345,50", false, NULL, "a decimal-comma amount read with decimal point" },
        { NULL, true, NULL, "NULL" },
        { "1.50", true, NULL, "comma: \"1.50\" is not 150 (a point before two digits groups no thousands)" },
        { "12,5", false, NULL, "point: \"12,5\" is not 125 (a comma before one digit groups no thousands)" },
        { "12 345,50", false, NULL, "point: \"12 345,50\" is not 1234550" },
        { "12345", false, "12345.00", "amount_of: plain integer (point)" },
        { "1234.5", false, "1234.50", "amount_of: plain decimal (point)" },
        { "12 345,50", true, "12345.50", "amount_of: \"12 345,50\" (comma)" },
        { "12345,50", true, "12345.50", "amount_of: \"12345,50\" (comma)" },
        { "12 345,50 kr", true, "12345.50", "amount_of: \"12 345,50 kr\" falls through to the full reader" },
        { "999999999999", true, "999999999999.00", "amount_of: twelve digits" },
        { "1000000000000", true, NULL, "amount_of: thirteen digits" },
        { NULL, true, NULL, "amount_of: NULL" },
};

/* The list the SQL's fast reader was checked against its full one with:
 * the one reader gives what they both gave. */
static const struct { const char *text; bool comma; const char *expected; } amount_list[] = {
        { "0", true, "0.00" },
        { "0", false, "0.00" },
        { "7", true, "7.00" },
        { "7", false, "7.00" },
        { "12345", true, "12345.00" },
        { "12345", false, "12345.00" },
        { "1234.5", true, NULL },
        { "1234.5", false, "1234.50" },
        { "1234.56", true, NULL },
        { "1234.56", false, "1234.56" },
        { "1234.567", true, NULL },
        { "1234.567", false, NULL },
        { "12 345,50", true, "12345.50" },
        { "12 345,50", false, NULL },
        { "12345,50", true, "12345.50" },
        { "12345,50", false, NULL },
        { "12 345", true, "12345.00" },
        { "12 345", false, "12345.00" },
        { "1 2345", true, NULL },
        { "1 2345", false, NULL },
        { "123 456 789 012", true, "123456789012.00" },
        { "123 456 789 012", false, "123456789012.00" },
        { "123 456 789 012,99", true, "123456789012.99" },
        { "123 456 789 012,99", false, NULL },
        { "1 234 567 890 123", true, NULL },
        { "1 234 567 890 123", false, NULL },
        { "999999999999", true, "999999999999.00" },
        { "999999999999", false, "999999999999.00" },
        { "1000000000000", true, NULL },
        { "1000000000000", false, NULL },
        { "0,5", true, "0.50" },
        { "0,5", false, NULL },
        { "0.5", true, NULL },
        { "0.5", false, "0.50" },
        { ",5", true, NULL },
        { ",5", false, NULL },
        { "5,", true, NULL },
        { "5,", false, NULL },
        { "5.", true, NULL },
        { "5.", false, NULL },
        { "-1", true, NULL },
        { "-1", false, NULL },
        { "1,234.50", true, NULL },
        { "1,234.50", false, "1234.50" },
        { "1.234,50", true, "1234.50" },
        { "1.234,50", false, NULL },
        { "SEK 12", true, "12.00" },
        { "SEK 12", false, "12.00" },
        { "12 kr", true, "12.00" },
        { "12 kr", false, "12.00" },
        { " 12 ", true, "12.00" },
        { " 12 ", false, "12.00" },
        { "12345678901,5", true, "12345678901.50" },
        { "12345678901,5", false, NULL },
        { "", true, NULL },
        { "", false, NULL },
        { "x", true, NULL },
        { "x", false, NULL },
};

static void check_amount(const char *text, bool comma, const char *expected, const char *what) {
        int64_t v;
        char got[24] = "";
        bool ok = canonical_amount(text, comma, &v) == 0;

        if (ok)
                canonical_amount_format(v, got);
        if (ok != (expected != NULL) || (ok && strcmp(got, expected) != 0))
                fail_msg("%s: \"%s\" (%s) gave %s, expected %s", what, text ? text : "NULL",
                         comma ? "decimal comma" : "decimal point", ok ? got : "none", expected ? expected : "none");
}

static void test_amounts(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++)
                check_amount(amounts[i].text, amounts[i].comma, amounts[i].expected, amounts[i].what);
        for (size_t i = 0; i < sizeof amount_list / sizeof amount_list[0]; i++)
                check_amount(amount_list[i].text, amount_list[i].comma, amount_list[i].expected, "the list");
}

/* ---- counts ---- */

static const struct { const char *text, *expected, *what; } counts[] = {
        { "0", "0", "count: 0" },
        { "3", "3", "count: 3" },
        { " 3 ", "3", "count: with spaces" },
        { "03", "3", "count: a leading zero" },
        { "3.0", "3", "count: 3.0 (a spreadsheet's whole number)" },
        { "999999", "999999", "count: six digits" },
        { "1000000", NULL, "count: seven digits" },
        { "3.5", NULL, "count: a fraction" },
        { "-1", NULL, "count: negative" },
        { "+2", NULL, "count: a sign" },
        { "två", NULL, "count: a word" },
        { "1 000", NULL, "count: grouped digits" },
        { "", NULL, "count: empty" },
        { NULL, NULL, "count: NULL" },
};

static void test_counts(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
                int32_t v;
                char got[16] = "";
                bool ok = canonical_count(counts[i].text, &v) == 0;

                if (ok)
                        snprintf(got, sizeof got, "%d", v);
                if (ok != (counts[i].expected != NULL) || (ok && strcmp(got, counts[i].expected) != 0))
                        fail_msg("%s: \"%s\" gave %s", counts[i].what, counts[i].text ? counts[i].text : "NULL",
                                 ok ? got : "none");
        }
}

/* ---- words and address keys ---- */

static const struct { const char *text, *expected, *what; } words[] = {
        { "Storgatan 12 B", "STORGATAN12B", "norm_word: upper case without spaces" },
        { "STORGATAN 12B", "STORGATAN12B", "norm_word: \"STORGATAN 12B\" = \"Storgatan 12 B\"" },
        { "östra ågatan 5", "ÖSTRAÅGATAN5", "norm_word: å, ä, ö are upper-cased" },
        { "Östra Ågatan 5", "ÖSTRAÅGATAN5", "norm_word: Å and Ö in any case are one" },
        { "Smörgåsvägen", "SMÖRGÅSVÄGEN", "norm_word: ä inside a word" },
        { "Søndre gate 3, leil. 2", "SØNDREGATE3LEIL2", "norm_word: ø, and punctuation dropped" },
        { "Väg-gatan 3/4 \"A\"", "VÄGGATAN34A", "norm_word: hyphen, slash and quotes dropped" },
        { "östra ågatan 5, ærø", "ÖSTRAÅGATAN5ÆRØ", "norm_word: åäö and æø upper-cased in the C locale too" },
        { "Café Söder", "CAFÉSÖDER", "norm_word: é in the C locale too" },
        { "Jozef Israëlskade 12", "JOZEFISRAËLSKADE12", "norm_word: ë in the C locale too (a Dutch street name in two cases is one address)" },
        { " .,- ", NULL, "norm_word: nothing left is NULL" },
        { NULL, NULL, "norm_word: NULL" },
};

static const struct { const char *address, *postal_code, *apartment, *expected, *what; } keys[] = {
        { "Storgatan 12 B", "753 20", "lgh 1102", "STORGATAN12B|75320|1102", "address_key: street, postal code and apartment number" },
        { "STORGATAN 12B", "75320", "1102", "STORGATAN12B|75320|1102", "address_key: the same home written differently is one key" },
        { "Östra Ågatan 5", "753 20", "Lgh. 1102", "ÖSTRAÅGATAN5|75320|1102", "address_key: åäö in either case" },
        { "Storgatan 12 B", "75320", NULL, "STORGATAN12B|75320|", "address_key: no apartment" },
        { "Storgatan 12 B", "75320", "lgh 1102", "STORGATAN12B|75320|1102", "address_key: \"lgh 1102\" -> 1102" },
        { "Storgatan 12 B", NULL, "1102", NULL, "address_key: NULL without postal code" },
        { NULL, "75320", "1102", NULL, "address_key: NULL without street" },
        { "  ", "75320", NULL, NULL, "address_key: NULL when the street is blank" },
        { "Storgatan 12 B", " - ", NULL, NULL, "address_key: NULL when the postal code is punctuation" },
};

static const struct { const char *text, *expected, *what; } digits[] = {
        { "lgh 1102", "1102", "digits: \"lgh 1102\" -> 1102" },
        { "lgh", NULL, "digits: none is NULL" },
};

/* 1 with the result in out, 0 for none. */
static int key(const char *a, const char *p, const char *apt, struct buf *out) {
        buf_clear(out);
        return canonical_address_key(a, p, apt, out);
}

static void test_words(void **state) {
        struct buf b = {}, c = {};

        (void) state;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
                int k;

                buf_clear(&b);
                k = word_normalize(words[i].text, &b);
                if ((k == 1) != (words[i].expected != NULL) || (k == 1 && strcmp(b.data, words[i].expected) != 0))
                        fail_msg("%s: \"%s\" gave %s", words[i].what, words[i].text ? words[i].text : "NULL",
                                 k == 1 ? b.data : "none");
        }
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                int k = key(keys[i].address, keys[i].postal_code, keys[i].apartment, &b);

                if ((k == 1) != (keys[i].expected != NULL) || (k == 1 && strcmp(b.data, keys[i].expected) != 0))
                        fail_msg("%s: gave %s", keys[i].what, k == 1 ? b.data : "none");
                /* Nothing is left behind for a key that is none. */
                assert_true(k == 1 || b.len == 0);
        }
        /* Another apartment, another postal code: another home. */
        assert_int_equal(key("Storgatan 12 B", "75320", "1102", &b), 1);
        assert_int_equal(key("Storgatan 12 B", "75320", "1103", &c), 1);
        assert_string_not_equal(b.data, c.data);
        assert_int_equal(key("Storgatan 12 B", "75320", NULL, &b), 1);
        assert_int_equal(key("Storgatan 12 B", "75321", NULL, &c), 1);
        assert_string_not_equal(b.data, c.data);
        for (size_t i = 0; i < sizeof digits / sizeof digits[0]; i++) {
                int k;

                buf_clear(&b);
                k = word_digits(digits[i].text, &b);
                if ((k == 1) != (digits[i].expected != NULL) || (k == 1 && strcmp(b.data, digits[i].expected) != 0))
                        fail_msg("%s: gave %s", digits[i].what, k == 1 ? b.data : "none");
        }
        buf_free(&b);
        buf_free(&c);
}

/* Letters beyond Latin-1 are upper-cased as a UTF-8 database's upper()
 * does, the rule every stored address key was made by there: ł is Ł, ǆ
 * is Ǆ, ß stays ß. */
static void test_words_beyond_latin1(void **state) {
        struct buf b = {};

        (void) state;
        assert_int_equal(word_normalize("ulica Łódzka 5, łódź", &b), 1);
        assert_string_equal(b.data, "ULICAŁÓDZKA5ŁÓDŹ");
        buf_clear(&b);
        assert_int_equal(word_normalize("ǆungla Straße", &b), 1);
        assert_string_equal(b.data, "ǄUNGLASTRAßE");
        buf_free(&b);
}

/* ---- kinds ---- */

static void test_kinds(void **state) {
        static char *const values[] = { (char *) "Uppsägning", (char *) "termination_notice", (char *) "Betald",
                                        (char *) "resolved", NULL };
        enum signal_kind k;

        (void) state;
        assert_int_equal(canonical_kind("Uppsägning", values, &k), 0);
        assert_int_equal(k, SIGNAL_KIND_TERMINATION_NOTICE);
        /* The feed's words as written, not in another case. */
        assert_int_equal(canonical_kind("uppsägning", values, &k), -EINVAL);
        /* A kind's own name in any case. */
        assert_int_equal(canonical_kind("Eviction_Cancelled", values, &k), 0);
        assert_int_equal(k, SIGNAL_KIND_EVICTION_CANCELLED);
        assert_int_equal(canonical_kind("ARREARS", NULL, &k), 0);
        assert_int_equal(k, SIGNAL_KIND_ARREARS);
        assert_int_equal(canonical_kind("Vräkning", values, &k), -EINVAL);
        assert_int_equal(canonical_kind("arrears ", NULL, &k), -EINVAL);
}

/* ---- reasons and raw rows ---- */

static void test_quote(void **state) {
        struct buf b = {};

        (void) state;
        assert_int_equal(canonical_quote(&b, "Vräkning"), 0);
        assert_string_equal(b.data, "'Vräkning'");
        buf_clear(&b);
        assert_int_equal(canonical_quote(&b, "it's"), 0);
        assert_string_equal(b.data, "'it''s'");
        buf_clear(&b);
        assert_int_equal(canonical_quote(&b, "a\\b'c"), 0);
        assert_string_equal(b.data, "E'a\\\\b''c'");
        buf_free(&b);
}

static void test_csv_line(void **state) {
        static const struct {
                const char *fields[4];
                size_t n;
                char delimiter;
                const char *expected, *what;
        } lines[] = {
                { { "A1", "Uppsägning", "05.03.2026" }, 3, ';', "A1;Uppsägning;05.03.2026", "plain fields" },
                { { "a", "b;c", "d" }, 3, ';', "a;\"b;c\";d", "a field with the delimiter is quoted" },
                { { "a", "say \"hi\"" }, 2, ';', "a;\"say \"\"hi\"\"\"", "quotes are doubled inside quotes" },
                { { "a", "two\nlines", "cr\rhere" }, 3, ';', "a;\"two\nlines\";\"cr\rhere\"", "line breaks are quoted" },
                { { "a", NULL, "", "b" }, 4, ';', "a;;;b", "NULL and empty fields are empty" },
                { { "a", "b,c", "b;c" }, 3, ',', "a,\"b,c\",b;c", "comma is the default delimiter" },
                { { "a", "b,c", "b;c" }, 3, '\t', "a\tb,c\tb;c", "tab delimiter quotes neither , nor ;" },
                { { "12 345,50" }, 1, ';', "12 345,50", "a decimal comma is not quoted with ;" },
        };

        (void) state;
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
                struct buf b = {};

                assert_int_equal(canonical_csv_line((char *const *) lines[i].fields, lines[i].n, lines[i].delimiter,
                                                    &b),
                                 0);
                if (strcmp(b.data ? b.data : "", lines[i].expected) != 0)
                        fail_msg("csv_line: %s: gave \"%s\"", lines[i].what, b.data ? b.data : "");
                buf_free(&b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_dates),
                cmocka_unit_test(test_dates_never_fail),
                cmocka_unit_test(test_days_round_trip),
                cmocka_unit_test(test_amounts),
                cmocka_unit_test(test_counts),
                cmocka_unit_test(test_words),
                cmocka_unit_test(test_words_beyond_latin1),
                cmocka_unit_test(test_kinds),
                cmocka_unit_test(test_quote),
                cmocka_unit_test(test_csv_line),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
