/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading a feed's values: dates, counts, amounts, kinds, normalised words
 * and address keys, and the quoting of reasons. Each rule is written as
 * the regular expression it replaces would read the text, position by
 * position, so that a value is accepted exactly when it always was. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/word.h"
#include "bokvar/ingest/canonical.h"

/* ---- days ---- */

static bool is_leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m) {
        static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

        return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
        int64_t era, yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

#define EPOCH_2000 10957   /* days_from_civil(2000, 1, 1) */

int day_from_ymd(int y, int m, int d, day_t *ret) {
        if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
                return -EINVAL;
        *ret = (day_t) (days_from_civil(y, m, d) - EPOCH_2000);
        return 0;
}

void day_to_ymd(day_t day, int *ret_y, int *ret_m, int *ret_d) {
        int64_t z = (int64_t) day + EPOCH_2000 + 719468, era, doe, yoe, doy, mp, y;
        int m, d;

        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = z - era * 146097;
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = (int) (doy - (153 * mp + 2) / 5 + 1);
        m = (int) (mp < 10 ? mp + 3 : mp - 9);
        *ret_y = (int) (y + (m <= 2));
        *ret_m = m;
        *ret_d = d;
}

const char *day_format(day_t day, char buf[static 11]) {
        int y, m, d;

        /* Days come from day_from_ymd(): years 1800 to 2200. */
        day_to_ymd(day, &y, &m, &d);
        y = y < 0 ? 0 : y % 10000;
        buf[0] = (char) ('0' + y / 1000);
        buf[1] = (char) ('0' + y / 100 % 10);
        buf[2] = (char) ('0' + y / 10 % 10);
        buf[3] = (char) ('0' + y % 10);
        buf[4] = '-';
        buf[5] = (char) ('0' + m / 10);
        buf[6] = (char) ('0' + m % 10);
        buf[7] = '-';
        buf[8] = (char) ('0' + d / 10);
        buf[9] = (char) ('0' + d % 10);
        buf[10] = 0;
        return buf;
}

const char *const date_format_names[_DATE_FORMAT_MAX + 1] = {
        [DATE_YYYY_MM_DD] = "YYYY-MM-DD",
        [DATE_YYYYMMDD] = "YYYYMMDD",
        [DATE_YYYY_SLASH_MM_DD] = "YYYY/MM/DD",
        [DATE_DD_DOT_MM_YYYY] = "DD.MM.YYYY",
        [DATE_DD_MM_YYYY] = "DD-MM-YYYY",
        [DATE_DD_SLASH_MM_YYYY] = "DD/MM/YYYY",
        [DATE_MM_SLASH_DD_YYYY] = "MM/DD/YYYY",
        [_DATE_FORMAT_MAX] = NULL,
};

int date_format_from_string(const char *s, enum date_format *ret) {
        for (int i = 0; i < _DATE_FORMAT_MAX; i++)
                if (streq(s, date_format_names[i])) {
                        *ret = (enum date_format) i;
                        return 0;
                }
        return -EINVAL;
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Reads between min and max digits at *p as \d{min,max} followed by
 * something that is not a digit does: as many as there are, and no more
 * than max of them. */
static bool read_digits(const char **p, int min, int max, int *ret) {
        const char *s = *p;
        int n = 0, v = 0;

        while (n < max && is_digit(s[n])) {
                v = v * 10 + (s[n] - '0');
                n++;
        }
        if (n < min || is_digit(s[n]))
                return false;
        *p = s + n;
        *ret = v;
        return true;
}

static bool read_char(const char **p, char c) {
        if (**p != c)
                return false;
        (*p)++;
        return true;
}

int canonical_date(const char *t, enum date_format fmt, day_t *ret) {
        const char *p;
        size_t n;
        char text[64];
        int a = 0, b = 0, c = 0, y, m, d;
        bool ok;

        if (!t)
                return -EINVAL;
        /* Spaces around it do not count (and only spaces, as btrim()). */
        while (*t == ' ')
                t++;
        n = strlen(t);
        while (n > 0 && t[n - 1] == ' ')
                n--;
        if (n == 0)
                return -EINVAL;
        /* The formats with a time after the date keep what follows; the
         * rest must end with the date, so a copy of the trimmed text is
         * enough (a longer text is no date but in the first format). */
        if (fmt == DATE_YYYY_MM_DD) {
                p = t;
                ok = read_digits(&p, 4, 4, &a) && read_char(&p, '-') && read_digits(&p, 1, 2, &b) &&
                     read_char(&p, '-') && read_digits(&p, 1, 2, &c) &&
                     ((size_t) (p - t) == n || *p == 'T' || *p == ' ');
                return ok && day_from_ymd(a, b, c, ret) == 0 ? 0 : -EINVAL;
        }
        if (n >= sizeof text)
                return -EINVAL;
        memcpy(text, t, n);
        text[n] = 0;
        p = text;
        switch (fmt) {
        case DATE_YYYYMMDD:
                ok = read_digits(&p, 8, 8, &a);
                y = a / 10000, m = a / 100 % 100, d = a % 100;
                break;
        case DATE_YYYY_SLASH_MM_DD:
                ok = read_digits(&p, 4, 4, &y) && read_char(&p, '/') && read_digits(&p, 1, 2, &m) &&
                     read_char(&p, '/') && read_digits(&p, 1, 2, &d);
                break;
        case DATE_DD_DOT_MM_YYYY:
        case DATE_DD_MM_YYYY:
        case DATE_DD_SLASH_MM_YYYY:
        case DATE_MM_SLASH_DD_YYYY: {
                char sep = fmt == DATE_DD_DOT_MM_YYYY ? '.' : fmt == DATE_DD_MM_YYYY ? '-' : '/';

                ok = read_digits(&p, 1, 2, &a) && read_char(&p, sep) && read_digits(&p, 1, 2, &b) &&
                     read_char(&p, sep) && read_digits(&p, 4, 4, &y);
                d = fmt == DATE_MM_SLASH_DD_YYYY ? b : a;
                m = fmt == DATE_MM_SLASH_DD_YYYY ? a : b;
                break;
        }
        default:
                return -EINVAL;
        }
        if (!ok || *p)
                return -EINVAL;
        return day_from_ymd(y, m, d, ret);
}

/* ---- numbers ---- */

static bool is_ascii_space(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
}

int canonical_count(const char *t, int32_t *ret) {
        const char *p = t;
        int v = 0;

        if (!p)
                return -EINVAL;
        while (is_ascii_space(*p))
                p++;
        if (!read_digits(&p, 1, 6, &v))
                return -EINVAL;
        /* "3.0": a spreadsheet's whole number. */
        if (*p == '.')
                for (p++; *p == '0'; p++)
                        ;
        while (is_ascii_space(*p))
                p++;
        if (*p)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* \s of PostgreSQL's regular expressions in a UTF-8 database: the white
 * space of glibc's C.UTF-8 (not the no-break spaces, which group digits). */
static bool is_regex_space(uint32_t c) {
        return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x1680 || (c >= 0x2000 && c <= 0x2006) ||
               (c >= 0x2008 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x205f || c == 0x3000;
}

static size_t skip_regex_space(const char *s, size_t n, size_t i) {
        while (i < n) {
                size_t k = i;

                if (!is_regex_space(utf8_next(s, n, &k)))
                        break;
                i = k;
        }
        return i;
}

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

/* w at s[i], ASCII letters in any case (as strncasecmp() compares them;
 * other bytes as they are). */
static bool word_at(const char *s, size_t n, size_t i, const char *w) {
        size_t l = strlen(w);

        if (n - i < l)
                return false;
        for (size_t k = 0; k < l; k++)
                if (ascii_lower(s[i + k]) != ascii_lower(w[k]))
                        return false;
        return true;
}

/* Whether an amount's tail (spaces, a currency) can begin with c: a
 * space (as the regex's \s), or the first byte of kr, sek, nok, eur,
 * :-, € or a Unicode space (U+1680 and U+2000 on, U+3000). */
static bool may_begin_tail(char c) {
        switch (c) {
        case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
        case 'k': case 'K': case 's': case 'S': case 'n': case 'N': case 'e': case 'E': case ':':
        case '\xe1': case '\xe2': case '\xe3':
                return true;
        default:
                return false;
        }
}

/* The longest currency at s[i]: kr, kr., sek, nok, eur, € (in any case),
 * and, after the amount only, ":-". The end of it, or i. */
static size_t currency_at(const char *s, size_t n, size_t i, bool after) {
        if (word_at(s, n, i, "kr"))
                return i + 2 + (i + 2 < n && s[i + 2] == '.');
        if (word_at(s, n, i, "sek") || word_at(s, n, i, "nok") || word_at(s, n, i, "eur"))
                return i + 3;
        if (word_at(s, n, i, "\xe2\x82\xac"))
                return i + 3;
        if (after && word_at(s, n, i, ":-"))
                return i + 2;
        return i;
}

/* Whether s[p, n) is what may follow an amount: spaces, a currency,
 * spaces, and nothing else. */
static bool is_tail(const char *s, size_t n, size_t p) {
        size_t i = skip_regex_space(s, n, p), j;

        if (i == n)
                return true;
        j = currency_at(s, n, i, true);
        return j > i && skip_regex_space(s, n, j) == n;
}

/* A thousands separator at s[i] in the given mode: its length, or 0. */
static size_t group_separator(const char *s, size_t n, size_t i, bool decimal_comma) {
        if (i >= n)
                return 0;
        if (s[i] == ' ' || s[i] == '\'' || s[i] == (decimal_comma ? '.' : ','))
                return 1;
        if (word_at(s, n, i, "\xc2\xa0"))           /* no-break space */
                return 2;
        if (word_at(s, n, i, "\xe2\x80\xaf"))       /* narrow no-break space */
                return 3;
        return 0;
}

int canonical_amount(const char *t, bool decimal_comma, int64_t *ret_hundredths) {
        size_t n = t ? strlen(t) : 0, start, end, i, run, sep;
        int64_t whole = 0, cents = 0;
        char decimal = decimal_comma ? ',' : '.';
        int groups = 0;

        if (n == 0 || is_tail(t, n, 0))
                return -EINVAL;
        /* A currency and spaces before the amount, and after it: what is
         * left between is the amount. */
        start = skip_regex_space(t, n, 0);
        i = currency_at(t, n, start, false);
        if (i > start)
                start = skip_regex_space(t, n, i);
        /* The leftmost place where only spaces and a currency follow: only
         * a space or a currency's first byte can begin that. */
        for (end = start > 0 ? start : 1; end < n; end++)
                if (may_begin_tail(t[end]) && is_tail(t, n, end))
                        break;
        if (end < start)
                return -EINVAL;

        /* \d{1,12}, or \d{1,3} and one to three groups of three. */
        i = start;
        for (run = 0; i + run < end && is_digit(t[i + run]); run++)
                ;
        if (run == 0)
                return -EINVAL;
        sep = group_separator(t, end, i + run, decimal_comma);
        if (sep == 0) {
                if (run > 12)
                        return -EINVAL;
                for (size_t k = 0; k < run; k++)
                        whole = whole * 10 + (t[i + k] - '0');
                i += run;
        } else {
                if (run > 3)
                        return -EINVAL;
                for (size_t k = 0; k < run; k++)
                        whole = whole * 10 + (t[i + k] - '0');
                i += run;
                while ((sep = group_separator(t, end, i, decimal_comma)) > 0) {
                        if (++groups > 3 || i + sep + 3 > end)
                                return -EINVAL;
                        i += sep;
                        for (int k = 0; k < 3; k++) {
                                if (!is_digit(t[i + k]))
                                        return -EINVAL;
                                whole = whole * 10 + (t[i + k] - '0');
                        }
                        i += 3;
                        if (i < end && is_digit(t[i]))
                                return -EINVAL;
                }
        }
        /* (,\d{1,2})? to the end. */
        if (i < end) {
                size_t k;

                if (t[i] != decimal)
                        return -EINVAL;
                for (k = i + 1; k < end && is_digit(t[k]); k++)
                        ;
                if (k != end || k - i - 1 < 1 || k - i - 1 > 2)
                        return -EINVAL;
                cents = (t[i + 1] - '0') * 10 + (k - i - 1 == 2 ? t[i + 2] - '0' : 0);
        }
        *ret_hundredths = whole * 100 + cents;
        return 0;
}

const char *canonical_amount_format(int64_t hundredths, char buf[static 24]) {
        char d[20];
        size_t n = 0, k = 0;
        uint64_t whole = (uint64_t) (hundredths < 0 ? 0 : hundredths) / 100;
        unsigned cents = (unsigned) ((hundredths < 0 ? 0 : hundredths) % 100);

        /* Without printf: every amount of a million rows comes through here. */
        do
                d[n++] = (char) ('0' + whole % 10);
        while ((whole /= 10) > 0);
        while (n > 0)
                buf[k++] = d[--n];
        buf[k++] = '.';
        buf[k++] = (char) ('0' + cents / 10);
        buf[k++] = (char) ('0' + cents % 10);
        buf[k] = 0;
        return buf;
}

/* ---- words ---- */

int canonical_address_key(const char *address, const char *postal_code, const char *apartment, struct buf *out) {
        size_t before = out->len;
        int k = 0;

        if (!address || !postal_code)
                return 0;
        k = word_normalize(address, out);
        if (k > 0 && buf_putc(out, '|') < 0)
                return -ENOMEM;
        if (k > 0)
                k = word_normalize(postal_code, out);
        if (k > 0 && buf_putc(out, '|') < 0)
                return -ENOMEM;
        if (k > 0 && apartment && word_digits(apartment, out) < 0)
                return -ENOMEM;
        if (k <= 0) {
                /* Nothing of a key without street or postal code. */
                out->len = before;
                if (out->data)
                        out->data[before] = 0;
                return k;
        }
        return 1;
}

int canonical_kind(const char *t, char *const *values, enum signal_kind *ret) {
        _cleanup_(buf_free) struct buf lower = {};
        size_t n = strlen(t), i = 0;

        for (size_t k = 0; values && values[k] && values[k + 1]; k += 2)
                if (streq(values[k], t)) {
                        t = values[k + 1];
                        goto look_up;
                }
        while (i < n)
                if (utf8_put(&lower, letter_lower(utf8_next(t, n, &i))) < 0)
                        return -ENOMEM;
        t = lower.data ? lower.data : "";
look_up:
        for (int k = 0; k < _SIGNAL_KIND_MAX; k++)
                if (streq(t, signal_kind_names[k])) {
                        *ret = (enum signal_kind) k;
                        return 0;
                }
        return -EINVAL;
}

/* ---- reasons and raw rows ---- */

int canonical_quote(struct buf *out, const char *s) {
        if (strchr(s, '\\') && buf_putc(out, 'E') < 0)
                return -ENOMEM;
        if (buf_putc(out, '\'') < 0)
                return -ENOMEM;
        for (; *s; s++) {
                if ((*s == '\'' || *s == '\\') && buf_putc(out, *s) < 0)
                        return -ENOMEM;
                if (buf_putc(out, *s) < 0)
                        return -ENOMEM;
        }
        return buf_putc(out, '\'');
}

int canonical_csv_line(char *const *fields, size_t n, char delimiter, struct buf *out) {
        for (size_t i = 0; i < n; i++) {
                const char *v = fields[i];

                if (i > 0 && buf_putc(out, delimiter) < 0)
                        return -ENOMEM;
                if (!v)
                        continue;
                if (!strchr(v, delimiter) && !strpbrk(v, "\"\n\r")) {
                        if (buf_puts(out, v) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (buf_putc(out, '"') < 0)
                        return -ENOMEM;
                for (const char *p = v; *p; p++)
                        if ((*p == '"' && buf_putc(out, '"') < 0) || buf_putc(out, *p) < 0)
                                return -ENOMEM;
                if (buf_putc(out, '"') < 0)
                        return -ENOMEM;
        }
        return 0;
}
