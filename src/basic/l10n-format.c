/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How Swedish, Norwegian bokmål and English write dates and numbers: the
 * Swedish and Norwegian language councils' recommendations (day before
 * month, month in lower case, a space between thousands, a decimal comma,
 * "kl. 14.05"; Norwegian puts a full stop after the day), and British
 * English, which also puts the day first. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"

#define NBSP "\xc2\xa0"

struct convention {
        const char *lang, *name;
        const char *group;          /* between thousands */
        char decimal;
        const char *day_suffix;     /* after the day of the month */
        const char *at;             /* between a date and its time */
        char clock;                 /* between hours and minutes */
        const char *percent, *currency;   /* after a share, an amount */
        const char *months[12], *short_months[12];
};

static const struct convention conventions[] = {
        {
                .lang = "en", .name = "English",
                .group = ",", .decimal = '.', .day_suffix = "", .at = ", ", .clock = ':',
                .percent = "%", .currency = NBSP "kr",
                .months = { "January", "February", "March", "April", "May", "June", "July", "August",
                            "September", "October", "November", "December" },
                .short_months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                  "Dec" },
        },
        {
                .lang = "nb", .name = "Norsk bokmål",
                .group = NBSP, .decimal = ',', .day_suffix = ".", .at = " kl. ", .clock = '.',
                .percent = NBSP "%", .currency = NBSP "kr",
                .months = { "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september",
                            "oktober", "november", "desember" },
                .short_months = { "jan", "feb", "mar", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov",
                                  "des" },
        },
        {
                .lang = "sv", .name = "Svenska",
                .group = NBSP, .decimal = ',', .day_suffix = "", .at = " kl. ", .clock = '.',
                .percent = NBSP "%", .currency = NBSP "kr",
                .months = { "januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                            "september", "oktober", "november", "december" },
                .short_months = { "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov",
                                  "dec" },
        },
};

static const struct convention *convention_of(const char *lang) {
        for (size_t i = 0; lang && i < ELEMENTSOF(conventions); i++)
                if (streq(conventions[i].lang, lang))
                        return &conventions[i];
        return NULL;
}

/* The language in use; English for one not written here. */
static const struct convention *current(void) {
        const struct convention *cv = convention_of(catalog_lang(l10n_current()));

        return cv ? cv : &conventions[0];
}

const char *l10n_language_name(const char *lang) {
        const struct convention *cv = convention_of(lang);

        return cv ? cv->name : NULL;
}

const char *l10n_month(unsigned month, bool abbreviated) {
        if (month < 1 || month > 12)
                return NULL;
        return abbreviated ? current()->short_months[month - 1] : current()->months[month - 1];
}

static bool digits(const char *s, size_t n) {
        return strspn(s, "0123456789") >= n;
}

/* YYYY-MM-DD at the start of s. */
static int parse_date(const char *s, unsigned *ret_y, unsigned *ret_m, unsigned *ret_d) {
        unsigned y, m, d;

        if (!s || strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
            !digits(s + 8, 2))
                return -EINVAL;
        y = (unsigned) atoi(s);
        m = (unsigned) atoi(s + 5);
        d = (unsigned) atoi(s + 8);
        if (m < 1 || m > 12 || d < 1 || d > 31)
                return -EINVAL;
        *ret_y = y;
        *ret_m = m;
        *ret_d = d;
        return 0;
}

bool l10n_iso_date(const char *s) {
        static const unsigned days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        unsigned y, m, d;

        if (!s || strlen(s) != 10 || parse_date(s, &y, &m, &d) < 0 || y == 0 || d > days[m - 1])
                return false;
        return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

static int write_date(const struct convention *cv, const char *iso, char *out, size_t size) {
        unsigned y, m, d;
        int n;

        if (parse_date(iso, &y, &m, &d) < 0)
                return -EINVAL;
        n = snprintf(out, size, "%u%s %s %u", d, cv->day_suffix, cv->months[m - 1], y);
        return n < 0 || (size_t) n >= size ? -EINVAL : 0;
}

int l10n_date(const char *iso, char out[static L10N_TEXT_MAX]) {
        return write_date(current(), iso, out, L10N_TEXT_MAX);
}

int l10n_timestamp(const char *iso, char out[static L10N_TEXT_MAX]) {
        const struct convention *cv = current();
        size_t len;
        int n;

        if (!iso || strlen(iso) < 16 || (iso[10] != ' ' && iso[10] != 'T') || !digits(iso + 11, 2) ||
            iso[13] != ':' || !digits(iso + 14, 2) || atoi(iso + 11) > 23 || atoi(iso + 14) > 59)
                return -EINVAL;
        if (write_date(cv, iso, out, L10N_TEXT_MAX) < 0)
                return -EINVAL;
        len = strlen(out);
        n = snprintf(out + len, L10N_TEXT_MAX - len, "%s%.2s%c%.2s", cv->at, iso + 11, cv->clock, iso + 14);
        return n < 0 || (size_t) n >= L10N_TEXT_MAX - len ? -EINVAL : 0;
}

/* What a number's fraction keeps of its zeros. */
enum zeros {
        ZEROS_KEEP,        /* 45,0 % */
        ZEROS_DROP,        /* 4,5 and 4 */
        ZEROS_DROP_ALL,    /* 12 345,50 kr, but 12 345 kr */
};

/* -?digits[.digits], rounded to decimals places, written with the
 * convention's separators and suffix. */
static int write_number(const struct convention *cv, const char *s, unsigned decimals, enum zeros zeros,
                        const char *suffix, char *out) {
        char d[72];
        size_t int_len, frac_len = 0, n = 0, o = 0, frac_at, frac_end;
        const char *frac = NULL;
        bool negative, zero = true;

        if (!s || decimals > 6)
                return -EINVAL;
        negative = s[0] == '-';
        s += negative;
        int_len = strspn(s, "0123456789");
        if (int_len == 0 || int_len > 30)
                return -EINVAL;
        if (s[int_len] == '.') {
                frac = s + int_len + 1;
                frac_len = strspn(frac, "0123456789");
                if (frac_len == 0 || frac[frac_len] != 0)
                        return -EINVAL;
        } else if (s[int_len] != 0)
                return -EINVAL;

        /* A leading place for a carry, the whole digits, the kept decimals. */
        d[n++] = '0';
        memcpy(d + n, s, int_len);
        n += int_len;
        for (unsigned i = 0; i < decimals; i++)
                d[n++] = i < frac_len ? frac[i] : '0';
        if (frac_len > decimals && frac[decimals] >= '5')
                for (size_t i = n; i-- > 0;) {
                        if (d[i] != '9') {
                                d[i]++;
                                break;
                        }
                        d[i] = '0';
                }
        frac_at = n - decimals;
        frac_end = n;
        if (zeros == ZEROS_DROP)
                while (frac_end > frac_at && d[frac_end - 1] == '0')
                        frac_end--;
        else if (zeros == ZEROS_DROP_ALL && strspn(d + frac_at, "0") >= decimals)
                frac_end = frac_at;
        /* The whole part without its leading zeros, one kept. */
        size_t start = 0;

        while (start + 1 < frac_at && d[start] == '0')
                start++;
        for (size_t i = start; i < frac_end; i++)
                zero = zero && d[i] == '0';

#define PUT(str)                                                  \
        do {                                                      \
                size_t _l = strlen(str);                          \
                if (o + _l >= L10N_TEXT_MAX)                      \
                        return -EINVAL;                           \
                memcpy(out + o, (str), _l);                       \
                o += _l;                                          \
        } while (0)

        if (negative && !zero)
                PUT("-");
        for (size_t i = start; i < frac_at; i++) {
                char c[2] = { d[i], 0 };

                if (i > start && (frac_at - i) % 3 == 0)
                        PUT(cv->group);
                PUT(c);
        }
        if (frac_end > frac_at) {
                char sep[2] = { cv->decimal, 0 };

                PUT(sep);
                for (size_t i = frac_at; i < frac_end; i++) {
                        char c[2] = { d[i], 0 };

                        PUT(c);
                }
        }
        PUT(suffix);
#undef PUT
        out[o] = 0;
        return 0;
}

int l10n_int(long long v, char out[static L10N_TEXT_MAX]) {
        char s[24];

        (void) snprintf(s, sizeof s, "%lld", v);
        return write_number(current(), s, 0, ZEROS_DROP, "", out);
}

int l10n_number(const char *numeric, unsigned decimals, char out[static L10N_TEXT_MAX]) {
        return write_number(current(), numeric, decimals, ZEROS_DROP, "", out);
}

int l10n_amount(const char *numeric, char out[static L10N_TEXT_MAX]) {
        const struct convention *cv = current();

        return write_number(cv, numeric, 2, ZEROS_DROP_ALL, cv->currency, out);
}

int l10n_share(const char *fraction, char out[static L10N_TEXT_MAX]) {
        const struct convention *cv = current();
        char percent[64], *end;
        double v;

        /* The database writes shares as numerics with three decimals: a
         * double holds them exactly enough. */
        if (!fraction || !*fraction || strspn(fraction, "-0123456789.") != strlen(fraction))
                return -EINVAL;
        v = strtod(fraction, &end);
        if (*end || !isfinite(v) || fabs(v) > 1e9)
                return -EINVAL;
        (void) snprintf(percent, sizeof percent, "%.4f", v * 100);
        return write_number(cv, percent, 1, ZEROS_KEEP, cv->percent, out);
}
