/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Identity numbers: Swedish, Norwegian, Dutch. */
#include <stdio.h>
#include <string.h>

#include "bokvar/ingest/identity.h"

#define TEXT_MAX 64   /* longer than any number in any form */

static bool is_one_of(char c, const char *set) {
        for (; *set; set++)
                if (*set == c)
                        return true;
        return false;
}

/* t without the characters of drop, into out: false when it does not fit
 * (then it is no number of any form). */
static bool strip(const char *t, const char *drop, char out[static TEXT_MAX]) {
        size_t n = 0;

        for (; *t; t++) {
                if (is_one_of(*t, drop))
                        continue;
                if (n + 1 >= TEXT_MAX)
                        return false;
                out[n++] = *t;
        }
        out[n] = 0;
        return true;
}

static bool all_digits(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return false;
        return true;
}

static int num(const char *s, size_t n) {
        int v = 0;

        for (size_t i = 0; i < n; i++)
                v = v * 10 + (s[i] - '0');
        return v;
}

bool identity_luhn10_ok(uint64_t n) {
        unsigned sum = 0;

        for (int i = 0; i < 10; i++, n /= 10) {
                unsigned d = (unsigned) (n % 10);

                if (i % 2 == 1)
                        d = 2 * d - 9 * (d / 5);
                sum += d;
        }
        return sum % 10 == 0;
}

/* \d{lead}[-+]?\d{4}: the digits alone into d, or false. */
static bool se_form(const char *s, size_t lead, char d[static TEXT_MAX]) {
        size_t n = strlen(s);

        if (n == lead + 4 && all_digits(s, n)) {
                memcpy(d, s, n + 1);
                return true;
        }
        if (n == lead + 5 && all_digits(s, lead) && (s[lead] == '-' || s[lead] == '+') && all_digits(s + lead + 1, 4)) {
                memcpy(d, s, lead);
                memcpy(d + lead, s + lead + 1, 5);
                return true;
        }
        return false;
}

const char *identity_se(const char *t, day_t ref, char id[static IDENTITY_MAX]) {
        char s[TEXT_MAX], d[TEXT_MAX];
        int ref_y, ref_m, ref_d, y, m, dd;
        size_t n;
        day_t born;
        bool plus;

        if (!strip(t, " \t", s))
                return "is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)";
        plus = strchr(s, '+') != NULL;
        day_to_ymd(ref, &ref_y, &ref_m, &ref_d);
        if (se_form(s, 8, d))
                y = num(d, 4);
        else if (se_form(s, 6, d))
                y = ref_y / 100 * 100 + num(d, 2);
        else
                return "is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)";
        n = strlen(d);
        m = num(d + n - 8, 2);
        dd = num(d + n - 6, 2);
        if (dd > 60)
                dd -= 60;       /* samordningsnummer */
        if (n == 10) {
                if (day_from_ymd(y, m, dd, &born) == 0 && born > ref)
                        y -= 100;
                if (plus)
                        y -= 100;
                /* The century in front: four digits, as lpad(y, 4, '0'). */
                memmove(d + 4, d + 2, 9);
                y = y < 0 ? 0 : y % 10000;
                d[0] = (char) ('0' + y / 1000);
                d[1] = (char) ('0' + y / 100 % 10);
                d[2] = (char) ('0' + y / 10 % 10);
                d[3] = (char) ('0' + y % 10);
        }
        if (day_from_ymd(y, m, dd, &born) < 0)
                return "the date part of the Swedish personnummer is not a valid date";
        if (born > ref)
                return "the Swedish personnummer has a date of birth in the future";
        if (!identity_luhn10_ok((uint64_t) num(d + 2, 5) * 100000 + (uint64_t) num(d + 7, 5)))
                return "the check digit of the Swedish personnummer is wrong";
        memcpy(id, d, 13);
        return NULL;
}

static int mod11_check(const char *d, const int *w, size_t n) {
        int s = 0, k;

        for (size_t i = 0; i < n; i++)
                s += w[i] * (d[i] - '0');
        k = 11 - s % 11;
        return k == 11 ? 0 : k;
}

const char *identity_no(const char *t, char id[static IDENTITY_MAX]) {
        static const int w1[] = { 3, 7, 6, 1, 8, 9, 4, 5, 2 }, w2[] = { 5, 4, 3, 2, 7, 6, 5, 4, 3, 2 };
        char d[TEXT_MAX];
        int k, dd, yy, ind, y;
        day_t day;

        if (!strip(t, " \t-", d) || strlen(d) != 11 || !all_digits(d, 11))
                return "is not a Norwegian fødselsnummer (11 digits)";
        k = mod11_check(d, w1, 9);
        if (k == 10 || k != d[9] - '0')
                return "the first check digit of the Norwegian fødselsnummer is wrong";
        k = mod11_check(d, w2, 10);
        if (k == 10 || k != d[10] - '0')
                return "the second check digit of the Norwegian fødselsnummer is wrong";
        dd = num(d, 2);
        if (dd > 40)
                dd -= 40;       /* D-number */
        yy = num(d + 4, 2);
        ind = num(d + 6, 3);
        /* The century, from the individual number. */
        if (ind < 500)
                y = 1900 + yy;
        else if (ind < 750 && yy >= 54)
                y = 1800 + yy;
        else if (yy < 40)
                y = 2000 + yy;
        else if (ind >= 900)
                y = 1900 + yy;
        else
                y = -1;
        if (y < 0 || day_from_ymd(y, num(d + 2, 2), dd, &day) < 0)
                return "the date part of the Norwegian fødselsnummer is not a valid date";
        memcpy(id, d, 12);
        return NULL;
}

const char *identity_nl(const char *t, char id[static IDENTITY_MAX]) {
        char d[TEXT_MAX + 1];
        int s = 0;

        if (!strip(t, " \t.-", d + 1))
                return "is not a Dutch BSN (9 digits)";
        if (strlen(d + 1) == 8 && all_digits(d + 1, 8))
                d[0] = '0';
        else
                memmove(d, d + 1, strlen(d + 1) + 1);
        if (strlen(d) != 9 || !all_digits(d, 9) || streq(d, "000000000"))
                return "is not a Dutch BSN (9 digits)";
        for (int i = 0; i < 8; i++)
                s += (9 - i) * (d[i] - '0');
        s -= d[8] - '0';
        if (s % 11 != 0)
                return "the Dutch BSN fails the 11-proef";
        memcpy(id, d, 10);
        return NULL;
}

int identity_number(const char *t, day_t ref, char *const *allowed, char id[static IDENTITY_MAX], char *problem,
                    size_t size) {
        static char *const all[] = { (char *) "se", (char *) "no", (char *) "nl", NULL };
        const char *country = NULL, *p;
        char d[TEXT_MAX];
        bool ok = false;
        size_t n;

        if (!t)
                t = "";
        if (!allowed)
                allowed = all;
        if (strip(t, " \t-+.", d) && (n = strlen(d)) > 0 && all_digits(d, n))
                country = n == 10 || n == 12 ? "se" : n == 11 ? "no" : n == 8 || n == 9 ? "nl" : NULL;
        if (!country) {
                (void) snprintf(problem, size, "is not an identity number (a Swedish personnummer, Norwegian "
                                               "fødselsnummer or Dutch BSN)");
                return 1;
        }
        for (size_t i = 0; allowed[i]; i++)
                ok = ok || streq(allowed[i], country);
        if (!ok) {
                size_t l = (size_t) snprintf(problem, size, "looks like a %s identity number, which this feed does "
                                                            "not accept (identity: ",
                                             streq(country, "se") ? "Swedish" : streq(country, "no") ? "Norwegian"
                                                                                                      : "Dutch");
                for (size_t i = 0; allowed[i] && l < size; i++)
                        l += (size_t) snprintf(problem + l, size - l, "%s%s", i ? ", " : "", allowed[i]);
                if (l < size)
                        (void) snprintf(problem + l, size - l, ")");
                return 1;
        }
        p = streq(country, "se") ? identity_se(t, ref, id) : streq(country, "no") ? identity_no(t, id)
                                                                                 : identity_nl(t, id);
        if (p) {
                (void) snprintf(problem, size, "%s", p);
                return 1;
        }
        return 0;
}
