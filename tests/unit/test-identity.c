/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Identity numbers: Swedish personnummer and samordningsnummer, Norwegian
 * fødselsnummer and D-number, Dutch BSN, the dispatch by length with the
 * feed's allowed countries. Every case of the SQL readers' tests these
 * replace (tests/sql/identity.sql until migration 006), with the same
 * inputs and the same words. Every number below was computed for this
 * file: the valid ones pass their check digits, the invalid ones fail
 * exactly the check the test names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/ingest/identity.h"

struct id_case {
        const char *reader;     /* se, no, nl, or idn: identity_number() */
        const char *text;
        const char *allowed;    /* idn: the countries, comma-separated; NULL: se, no, nl */
        const char *ref;        /* YYYY-MM-DD */
        const char *expected;   /* the id, or "! " and the problem */
        const char *what;
};

static const struct id_case cases[] = {
        { "se", "811228-9874", NULL, "2026-03-01", "198112289874", "SE: YYMMDD-NNNC normalises to twelve digits" },
        { "se", "8112289874", NULL, "2026-03-01", "198112289874", "SE: YYMMDDNNNC normalises to twelve digits" },
        { "se", "198112289874", NULL, "2026-03-01", "198112289874", "SE: YYYYMMDDNNNC is kept" },
        { "se", "19811228-9874", NULL, "2026-03-01", "198112289874", "SE: YYYYMMDD-NNNC normalises to twelve digits" },
        { "se", " 811228 - 9874 ", NULL, "2026-03-01", "198112289874", "SE: spaces around the parts are ignored" },
        { "se", "19850312-1231", NULL, "2026-03-01", "198503121231", "SE: another valid number" },
        { "se", "20000229-1110", NULL, "2026-03-01", "200002291110", "SE: 29 February of 2000 (a leap year: divisible by 400)" },
        { "se", "000229-1110", NULL, "2026-03-01", "200002291110", "SE: 29 February of 2000 in the ten-digit form" },
        { "se", "19840229-1234", NULL, "2026-03-01", "198402291234", "SE: 29 February of 1984" },
        { "se", "121212-2343", NULL, "2026-03-01", "201212122343", "SE: YYMMDD-NNNC of a child is read in this century" },
        { "se", "121212+2343", NULL, "2026-03-01", "191212122343", "SE: YYMMDD+NNNC is a hundred years earlier than YYMMDD-NNNC" },
        { "se", "811228+9874", NULL, "2026-03-01", "188112289874", "SE: YYMMDD+NNNC of a date last century goes back one more" },
        { "se", "000229+1110", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: 000229+ is 29 February 1900, which did not exist" },
        { "se", "260315-3459", NULL, "2026-03-01", "192603153459", "SE: a ten-digit number whose date lies after ref is read in the previous century" },
        { "se", "260315-3459", NULL, "2026-03-14", "192603153459", "SE: ... still on the day before" },
        { "se", "260315-3459", NULL, "2026-03-15", "202603153459", "SE: born on ref itself is this century" },
        { "se", "260315+3459", NULL, "2026-03-01", "182603153459", "SE: ... and its + form a hundred years before that" },
        { "se", "260315-3459", NULL, "1990-06-01", "192603153459", "SE: ref in another century moves the reading" },
        { "se", "900363-2776", NULL, "2026-03-01", "199003632776", "SE: samordningsnummer (day + 60) is valid" },
        { "se", "199003632776", NULL, "2026-03-01", "199003632776", "SE: twelve-digit samordningsnummer is valid" },
        { "se", "19840289-1231", NULL, "2026-03-01", "198402891231", "SE: samordningsnummer on 29 February of a leap year" },
        { "se", "198501921111", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: samordningsnummer day 92 (32 January) is not a date" },
        { "se", "198501601234", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: day 60 is neither a day nor a samordningsnummer" },
        { "se", "811228-9875", NULL, "2026-03-01", "! the check digit of the Swedish personnummer is wrong", "SE: wrong check digit" },
        { "se", "198112289870", NULL, "2026-03-01", "! the check digit of the Swedish personnummer is wrong", "SE: wrong check digit, twelve digits" },
        { "se", "19850230-1115", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: 30 February 1985 (check digit right) is not a date" },
        { "se", "851301-1117", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: month 13" },
        { "se", "850100-1112", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: day 00" },
        { "se", "19850431-1112", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: 31 April" },
        { "se", "19000229-1110", NULL, "2026-03-01", "! the date part of the Swedish personnummer is not a valid date", "SE: 29 February 1900 (not a leap year)" },
        { "se", "203012311118", NULL, "2026-03-01", "! the Swedish personnummer has a date of birth in the future", "SE: date of birth after ref" },
        { "se", "20260302-1235", NULL, "2026-03-01", "! the Swedish personnummer has a date of birth in the future", "SE: born the day after ref" },
        { "se", "20260301-1236", NULL, "2026-03-01", "202603011236", "SE: born on ref is valid" },
        { "se", "8112289874x", NULL, "2026-03-01", "! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)", "SE: trailing letter" },
        { "se", "81122-89874", NULL, "2026-03-01", "! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)", "SE: hyphen in the wrong place" },
        { "se", "1981122898740", NULL, "2026-03-01", "! is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)", "SE: thirteen digits" },
        { "no", "15078549995", NULL, "2026-03-01", "15078549995", "NO: valid fødselsnummer (15.07.1985)" },
        { "no", "150785 49995", NULL, "2026-03-01", "15078549995", "NO: a space between date and individual number is ignored" },
        { "no", "31129949980", NULL, "2026-03-01", "31129949980", "NO: valid, 31.12.1999" },
        { "no", "01010550129", NULL, "2026-03-01", "01010550129", "NO: valid, individual number 501 with year 05 is 2005" },
        { "no", "01014095094", NULL, "2026-03-01", "01014095094", "NO: valid, individual number 950 with year 40 is 1940" },
        { "no", "41019012393", NULL, "2026-03-01", "41019012393", "NO: D-number (first digit + 4) is valid" },
        { "no", "55078549989", NULL, "2026-03-01", "55078549989", "NO: D-number of 15.07.1985 is valid" },
        { "no", "15078549985", NULL, "2026-03-01", "! the first check digit of the Norwegian fødselsnummer is wrong", "NO: first check digit wrong" },
        { "no", "15078549990", NULL, "2026-03-01", "! the second check digit of the Norwegian fødselsnummer is wrong", "NO: second check digit wrong" },
        { "no", "15078510400", NULL, "2026-03-01", "! the first check digit of the Norwegian fødselsnummer is wrong", "NO: nine digits whose first check digit would be 10 never make a valid number" },
        { "no", "31029012302", NULL, "2026-03-01", "! the date part of the Norwegian fødselsnummer is not a valid date", "NO: 31 February" },
        { "no", "01139012328", NULL, "2026-03-01", "! the date part of the Norwegian fødselsnummer is not a valid date", "NO: month 13" },
        { "no", "32019012351", NULL, "2026-03-01", "! the date part of the Norwegian fødselsnummer is not a valid date", "NO: day 32" },
        { "no", "01019080095", NULL, "2026-03-01", "! the date part of the Norwegian fødselsnummer is not a valid date", "NO: individual number 800 with year 90 belongs to no century" },
        { "no", "1507854999", NULL, "2026-03-01", "! is not a Norwegian fødselsnummer (11 digits)", "NO: ten digits" },
        { "no", "abc", NULL, "2026-03-01", "! is not a Norwegian fødselsnummer (11 digits)", "NO: letters" },
        { "nl", "123456782", NULL, "2026-03-01", "123456782", "NL: valid nine-digit BSN" },
        { "nl", "111222333", NULL, "2026-03-01", "111222333", "NL: another valid BSN" },
        { "nl", "12345672", NULL, "2026-03-01", "012345672", "NL: eight digits get a leading zero" },
        { "nl", "1112.22.333", NULL, "2026-03-01", "111222333", "NL: dots between groups are ignored" },
        { "nl", "123456789", NULL, "2026-03-01", "! the Dutch BSN fails the 11-proef", "NL: failing the 11-proef" },
        { "nl", "12345678", NULL, "2026-03-01", "! the Dutch BSN fails the 11-proef", "NL: eight digits failing the 11-proef" },
        { "nl", "000000000", NULL, "2026-03-01", "! is not a Dutch BSN (9 digits)", "NL: all zeros is not a BSN" },
        { "nl", "00000000", NULL, "2026-03-01", "! is not a Dutch BSN (9 digits)", "NL: eight zeros is not a BSN either" },
        { "nl", "1234567", NULL, "2026-03-01", "! is not a Dutch BSN (9 digits)", "NL: seven digits" },
        { "idn", "811228-9874", NULL, "2026-03-01", "198112289874", "dispatch: ten digits are Swedish" },
        { "idn", "121212+2343", NULL, "2026-03-01", "191212122343", "dispatch: the + form reaches the Swedish reader intact" },
        { "idn", "19811228-9874", NULL, "2026-03-01", "198112289874", "dispatch: twelve digits are Swedish" },
        { "idn", "260315-3459", "se", "2026-03-15", "202603153459", "dispatch: ref reaches the Swedish reader" },
        { "idn", "15078549995", NULL, "2026-03-01", "15078549995", "dispatch: eleven digits are Norwegian" },
        { "idn", "123456782", NULL, "2026-03-01", "123456782", "dispatch: nine digits are Dutch" },
        { "idn", "12345672", NULL, "2026-03-01", "012345672", "dispatch: eight digits are Dutch" },
        { "idn", "811228-9875", NULL, "2026-03-01", "! the check digit of the Swedish personnummer is wrong", "dispatch: the Swedish reader's problem is passed on" },
        { "idn", "15078549990", NULL, "2026-03-01", "! the second check digit of the Norwegian fødselsnummer is wrong", "dispatch: the Norwegian reader's problem is passed on" },
        { "idn", "123456789", NULL, "2026-03-01", "! the Dutch BSN fails the 11-proef", "dispatch: the Dutch reader's problem is passed on" },
        { "idn", "15078549995", "se", "2026-03-01", "! looks like a Norwegian identity number, which this feed does not accept (identity: se)", "allowed: a valid Norwegian number in a Swedish-only feed is refused" },
        { "idn", "811228-9874", "no,nl", "2026-03-01", "! looks like a Swedish identity number, which this feed does not accept (identity: no, nl)", "allowed: a valid Swedish number in a feed without se is refused" },
        { "idn", "123456782", "se,no", "2026-03-01", "! looks like a Dutch identity number, which this feed does not accept (identity: se, no)", "allowed: a valid Dutch number in a feed without nl is refused" },
        { "idn", "15078549995", "se,no", "2026-03-01", "15078549995", "allowed: a listed country passes" },
        { "idn", "abc", NULL, "2026-03-01", "! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)", "garbage: letters" },
        { "idn", "", NULL, "2026-03-01", "! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)", "garbage: empty" },
        { "idn", "1234567", NULL, "2026-03-01", "! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)", "garbage: seven digits" },
        { "idn", "12345678901234", NULL, "2026-03-01", "! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)", "garbage: fourteen digits" },
        { "idn", NULL, NULL, "2026-03-01", "! is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)", "garbage: NULL gives a problem, not an error" },
};

static day_t day(const char *ymd) {
        int y, m, d;
        day_t r = 0;

        assert_int_equal(sscanf(ymd, "%d-%d-%d", &y, &m, &d), 3);
        assert_int_equal(day_from_ymd(y, m, d, &r), 0);
        return r;
}

/* One result as one text: the normalised number, or "! " and the problem. */
static void shown(const struct id_case *c, char *out, size_t size) {
        char id[IDENTITY_MAX] = "", problem[256] = "", list[32] = "";
        char *allowed[4] = {};
        const char *p = NULL;
        size_t n = 0;

        if (c->allowed) {
                snprintf(list, sizeof list, "%s", c->allowed);
                for (char *s = strtok(list, ","); s && n < 3; s = strtok(NULL, ","))
                        allowed[n++] = s;
        }
        if (strcmp(c->reader, "se") == 0)
                p = identity_se(c->text, day(c->ref), id);
        else if (strcmp(c->reader, "no") == 0)
                p = identity_no(c->text, id);
        else if (strcmp(c->reader, "nl") == 0)
                p = identity_nl(c->text, id);
        else if (identity_number(c->text, day(c->ref), c->allowed ? allowed : NULL, id, problem, sizeof problem) != 0)
                p = problem;
        if (p)
                snprintf(out, size, "! %s", p);
        else
                snprintf(out, size, "%s", id);
}

static void test_cases(void **state) {
        (void) state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char got[300];

                shown(&cases[i], got, sizeof got);
                if (strcmp(got, cases[i].expected) != 0)
                        fail_msg("%s: %s(%s) gave \"%s\", expected \"%s\"", cases[i].what, cases[i].reader,
                                 cases[i].text ? cases[i].text : "NULL", got, cases[i].expected);
        }
}

/* No problem repeats the number it is about, nor any run of four digits:
 * every invalid input above, through every reader. */
static void test_problems_never_show_the_number(void **state) {
        static const struct { const char *t, *allowed; } bad[] = {
                { "811228-9875", NULL }, { "198112289870", NULL }, { "19850230-1115", NULL }, { "851301-1117", NULL },
                { "850100-1112", NULL }, { "203012311118", NULL }, { "000229+1110", NULL }, { "198501921111", NULL },
                { "8112289874x", NULL }, { "15078549985", NULL }, { "15078549990", NULL }, { "31029012302", NULL },
                { "01019080095", NULL }, { "123456789", NULL }, { "000000000", NULL }, { "1234567", NULL },
                { "15078549995", "se" }, { "811228-9874", "no" }, { "123456782", "se" },
        };
        day_t ref = day("2026-03-01");
        unsigned problems = 0;

        (void) state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char id[IDENTITY_MAX], problem[256], digits[64] = "";
                char *allowed[2] = { (char *) bad[i].allowed, NULL };
                const char *each[3];
                size_t n = 0;

                for (const char *p = bad[i].t; *p; p++)
                        if (*p >= '0' && *p <= '9')
                                digits[n++] = *p;
                assert_int_equal(identity_number(bad[i].t, ref, bad[i].allowed ? allowed : NULL, id, problem,
                                                 sizeof problem),
                                 1);
                assert_null(strchr(problem, '\n'));
                assert_true(problem[0] >= 'a' && problem[0] <= 'z');
                problems++;
                each[0] = identity_se(bad[i].t, ref, id);
                each[1] = identity_no(bad[i].t, id);
                each[2] = identity_nl(bad[i].t, id);
                for (size_t k = 0; k < 4; k++) {
                        const char *p = k == 3 ? problem : each[k];
                        unsigned run = 0;

                        if (!p)
                                continue;
                        assert_null(strstr(p, bad[i].t));
                        assert_null(strstr(p, digits));
                        for (; *p; p++) {
                                run = *p >= '0' && *p <= '9' ? run + 1 : 0;
                                assert_true(run < 4);
                        }
                }
        }
        assert_int_equal(problems, 19);
}

/* Luhn over ten digits. */
static bool luhn_textbook(uint64_t n) {
        char d[11];
        unsigned sum = 0;

        snprintf(d, sizeof d, "%010llu", (unsigned long long) n);
        for (int i = 0; i < 10; i++) {
                unsigned x = (unsigned) (d[i] - '0');

                sum += i % 2 == 0 ? (2 * x) / 10 + (2 * x) % 10 : x;
        }
        return sum % 10 == 0;
}

static void test_luhn(void **state) {
        unsigned passing = 0;

        (void) state;
        assert_true(identity_luhn10_ok(8112289874ULL));    /* 811228987 with check digit 4 */
        assert_false(identity_luhn10_ok(8112289875ULL));   /* the wrong check digit fails */
        for (unsigned c = 0; c < 10; c++)
                if (identity_luhn10_ok(8112289870ULL + c)) {
                        assert_int_equal(c, 4);             /* exactly one check digit of ten passes */
                        passing++;
                }
        assert_int_equal(passing, 1);
        assert_true(identity_luhn10_ok(0));                /* 0000000000: the sum is 0 */
        assert_true(identity_luhn10_ok(26));               /* leading zeros count as digits */
        /* Against the textbook definition, digit by digit, over a spread of numbers. */
        for (uint64_t g = 1; g <= 20000; g++) {
                uint64_t n = (g * 7919 + g * g * 104729) % 10000000000ULL;

                assert_int_equal(identity_luhn10_ok(n), luhn_textbook(n));
        }
}

/* Twelve-digit numbers, valid or not as listed. */
static void test_twelve_digits(void **state) {
        static const struct { const char *n; bool valid; } twelve[] = {
                { "198112289874", true }, { "198503121231", true }, { "197001012348", true }, { "199208174566", true },
                { "199003632776", true },   /* samordningsnummer */
                { "198402891231", true },   /* samordningsnummer on 29 February 1984 */
                { "198501611233", true },   /* samordningsnummer day 61 = 1 January */
                { "200002291110", true },   /* 29 February 2000 */
                { "198402291234", true },   /* 29 February 1984 */
                { "202603011236", true },   /* born on ref */
                { "185001011237", true },
                { "191212122343", true },
                { "198112289875", false },  /* check digit */
                { "198112289870", false },
                { "198502301115", false },  /* 30 February */
                { "190002291110", false },  /* 29 February 1900 */
                { "198513011117", false },  /* month 13 */
                { "198500011112", false },  /* month 00 (check digit right) */
                { "198501001112", false },  /* day 00 */
                { "198504311112", false },  /* 31 April */
                { "198501321114", false },  /* day 32 */
                { "198501601234", false },  /* day 60 */
                { "198501921111", false },  /* samordningsnummer day 32 */
                { "202603021235", false },  /* born the day after ref */
                { "203012311118", false },  /* future */
        };
        day_t ref = day("2026-03-01");

        (void) state;
        for (size_t i = 0; i < sizeof twelve / sizeof twelve[0]; i++) {
                char id[IDENTITY_MAX];
                const char *p = identity_se(twelve[i].n, ref, id);

                if ((p == NULL) != twelve[i].valid)
                        fail_msg("%s should be %s: %s", twelve[i].n, twelve[i].valid ? "valid" : "invalid",
                                 p ? p : "valid");
                if (!p)
                        assert_string_equal(id, twelve[i].n);
        }
}

/* A twelve-digit number is valid exactly when its date (day + 60 for a
 * samordningsnummer) exists between 1800 and 2200, lies on or before ref,
 * and the Luhn digit over its last ten digits is right: a grid of years
 * 1850-2030, months 0-13, days 0-93, against two days of reference. */
static void test_twelve_digit_grid(void **state) {
        const char *refs[] = { "2024-02-29", "2026-03-01" };

        (void) state;
        for (size_t r = 0; r < 2; r++)
                for (int y = 1850; y <= 2030; y += 3)
                        for (int m = 0; m <= 13; m++)
                                for (int d = 0; d <= 93; d++)
                                        for (int s = 0; s <= 9; s += 3) {
                                                char text[16], id[IDENTITY_MAX];
                                                uint64_t n = (uint64_t) y * 100000000 + (uint64_t) m * 1000000 +
                                                             (uint64_t) d * 10000 + 1110 + (uint64_t) s;
                                                day_t born, ref = day(refs[r]);
                                                bool valid = day_from_ymd(y, m, d > 60 ? d - 60 : d, &born) == 0 &&
                                                             born <= ref && identity_luhn10_ok(n % 10000000000ULL);

                                                snprintf(text, sizeof text, "%llu", (unsigned long long) n);
                                                assert_int_equal(identity_se(text, ref, id) == NULL, valid);
                                        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cases),
                cmocka_unit_test(test_problems_never_show_the_number),
                cmocka_unit_test(test_luhn),
                cmocka_unit_test(test_twelve_digits),
                cmocka_unit_test(test_twelve_digit_grid),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
