/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gettext catalogues read without the C library: the built-in ones, and
 * malformed files, which are refused rather than read out of bounds; the
 * language a browser or a locale asks for; dates and numbers as each
 * language writes them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"

static void test_built_in(void **state) {
        const char *const *langs = l10n_languages();

        (void) state;
        /* po/LINGUAS, each catalogue whole (tests/po/check-po checks the texts). */
        assert_string_equal(langs[0], "en");
        assert_string_equal(langs[1], "nb");
        assert_string_equal(langs[2], "sv");
        assert_null(langs[3]);
        assert_string_equal(catalog_gettext(l10n_find("nb"), "Worklist"), "Arbeidsliste");
        assert_string_equal(catalog_gettext(l10n_find("en"), "Worklist"), "Worklist");
        assert_true(catalog_size(l10n_find("en")) == catalog_size(l10n_find("sv")));
        assert_true(catalog_size(l10n_find("nb")) == catalog_size(l10n_find("sv")));
        assert_ptr_equal(l10n_known("nb"), langs[1]);
        assert_null(l10n_known("de"));
        assert_null(l10n_known(NULL));
        l10n_done();
}

static void test_swedish_built_in(void **state) {
        const struct catalog *sv = l10n_find("sv");

        (void) state;
        assert_non_null(sv);
        assert_string_equal(catalog_lang(sv), "sv");
        assert_true(catalog_size(sv) > 10);
        assert_string_equal(catalog_gettext(sv, "Worklist"), "Arbetslista");
        /* Not in the catalogue: the English of the source. */
        assert_string_equal(catalog_gettext(sv, "No such text anywhere"), "No such text anywhere");
        assert_string_equal(catalog_gettext(NULL, "Worklist"), "Worklist");
        assert_null(l10n_find("xx"));

        l10n_use(sv);
        assert_string_equal(_("Worklist"), "Arbetslista");
        l10n_use(NULL);
        assert_string_equal(_("Worklist"), "Worklist");
        l10n_done();
}

/* A catalogue of one message, built here as msgfmt would write it. */
static size_t build_mo(unsigned char *buf, const char *orig, size_t olen, const char *trans, size_t tlen,
                       const char *plural_header) {
        uint32_t w[7] = { 0x950412de, 0, 2, 28, 44, 0, 60 };
        size_t hlen = strlen(plural_header);
        uint32_t table[8];
        size_t at = 60;

        memcpy(buf, w, sizeof w);
        /* originals: "" then orig; translations: header then trans */
        table[0] = 0;
        table[1] = (uint32_t) at;
        buf[at++] = 0;
        table[2] = (uint32_t) olen;
        table[3] = (uint32_t) at;
        memcpy(buf + at, orig, olen);
        at += olen;
        buf[at++] = 0;
        table[4] = (uint32_t) hlen;
        table[5] = (uint32_t) at;
        memcpy(buf + at, plural_header, hlen);
        at += hlen;
        buf[at++] = 0;
        table[6] = (uint32_t) tlen;
        table[7] = (uint32_t) at;
        memcpy(buf + at, trans, tlen);
        at += tlen;
        buf[at++] = 0;
        memcpy(buf + 28, table, 16);
        memcpy(buf + 44, table + 4, 16);
        return at;
}

static void test_plural(void **state) {
        unsigned char buf[512];
        struct catalog *c = NULL;
        size_t n = build_mo(buf, "one day\0%d days", 15, "en dag\0%d dagar", 15,
                            "Plural-Forms: nplurals=2; plural=(n != 1);\n");

        (void) state;
        assert_int_equal(catalog_parse("sv", buf, n, &c), 0);
        assert_string_equal(catalog_ngettext(c, "one day", "%d days", 1), "en dag");
        assert_string_equal(catalog_ngettext(c, "one day", "%d days", 2), "%d dagar");
        assert_string_equal(catalog_ngettext(c, "one day", "%d days", 0), "%d dagar");
        assert_string_equal(catalog_ngettext(c, "two", "twos", 2), "twos");
        catalog_free(c);
}

static void test_malformed(void **state) {
        unsigned char buf[512];
        struct catalog *c = NULL;
        size_t n;

        (void) state;
        assert_int_equal(catalog_parse("sv", "short", 5, &c), -EBADMSG);
        n = build_mo(buf, "a", 1, "b", 1, "Plural-Forms: nplurals=3; plural=(n%10==1 ? 0 : 1);\n");
        assert_int_equal(catalog_parse("pl", buf, n, &c), -EOPNOTSUPP);
        n = build_mo(buf, "a", 1, "b", 1, "");
        /* a string that runs past the end of the file */
        assert_int_equal(catalog_parse("sv", buf, n - 2, &c), -EBADMSG);
        /* a count that promises more strings than the file holds */
        buf[8] = 200;
        assert_int_equal(catalog_parse("sv", buf, n, &c), -EBADMSG);
        /* bad magic */
        n = build_mo(buf, "a", 1, "b", 1, "");
        buf[0] ^= 0xff;
        assert_int_equal(catalog_parse("sv", buf, n, &c), -EBADMSG);
}

static void test_format(void **state) {
        char *s = NULL;

        (void) state;
        assert_int_equal(l10n_format("Task %s is %s.", (const char *const[]){ "7", "open", NULL }, &s), 0);
        assert_string_equal(s, "Task 7 is open.");
        free(s);
        /* Another word order, as a translation may need. */
        assert_int_equal(l10n_format("%2$s: %1$s 100%%", (const char *const[]){ "a", "b", NULL }, &s), 0);
        assert_string_equal(s, "b: a 100%");
        free(s);
        assert_int_equal(l10n_format("", (const char *const[]){ NULL }, &s), 0);
        assert_string_equal(s, "");
        free(s);
        s = NULL;
        /* Anything but text, or an argument that is not there, is refused. */
        assert_int_equal(l10n_format("%d", (const char *const[]){ "1", NULL }, &s), -EINVAL);
        assert_int_equal(l10n_format("%s %s", (const char *const[]){ "1", NULL }, &s), -EINVAL);
        assert_int_equal(l10n_format("%3$s", (const char *const[]){ "1", "2", NULL }, &s), -EINVAL);
        assert_int_equal(l10n_format("50%", (const char *const[]){ NULL }, &s), -EINVAL);
        assert_null(s);
}

static void test_misses(void **state) {
        unsigned long before = l10n_misses();

        (void) state;
        /* English of the sources, with no catalogue in use: nothing missed. */
        l10n_use(NULL);
        (void) _("No such text anywhere");
        assert_int_equal(l10n_misses(), before);
        l10n_use(l10n_find("nb"));
        (void) _("Worklist");
        (void) l10n_ngettext("Worklist", "Worklists", 2);
        assert_int_equal(l10n_misses(), before);
        (void) _("No such text anywhere");
        (void) l10n_ngettext("No such day", "No such days", 2);
        assert_int_equal(l10n_misses(), before + 2);
        l10n_done();
}

static void test_negotiate(void **state) {
        (void) state;
        assert_string_equal(l10n_negotiate("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7"), "sv");
        assert_string_equal(l10n_negotiate("nb-NO,nb;q=0.9,no;q=0.8,nn;q=0.7,en-US;q=0.6,en;q=0.5"), "nb");
        /* Norwegian by its macrolanguage's code, or in nynorsk: bokmål. */
        assert_string_equal(l10n_negotiate("no"), "nb");
        assert_string_equal(l10n_negotiate("NN-no"), "nb");
        assert_string_equal(l10n_negotiate("en-GB"), "en");
        /* By weight, not by order; equal weights by order. */
        assert_string_equal(l10n_negotiate("en;q=0.5, sv;q=0.8"), "sv");
        assert_string_equal(l10n_negotiate("de, en ; q = 0.4 , nb;q=0.5"), "nb");
        assert_string_equal(l10n_negotiate("de,en;q=0.4,nb;q=0.4"), "en");
        assert_string_equal(l10n_negotiate("fi-FI, sv-FI;q=0.9"), "sv");
        assert_string_equal(l10n_negotiate("en;q=1.000"), "en");
        /* Refused ranges, unreadable weights, wildcards: nothing. */
        assert_null(l10n_negotiate("sv;q=0, en;q=0.000"));
        assert_null(l10n_negotiate("sv;q=2, en;q=0.5x, nb;q=1.1, no;q=0.1234"));
        assert_null(l10n_negotiate("*"));
        assert_null(l10n_negotiate("de-DE,fr"));
        assert_null(l10n_negotiate(""));
        assert_null(l10n_negotiate(NULL));
        assert_null(l10n_negotiate(",,;;q=1,svenska"));
        /* Only so many ranges are read. */
        assert_null(l10n_negotiate("de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,de,"
                                   "de,de,de,de,de,de,sv"));
}

static void test_locale(void **state) {
        (void) state;
        assert_string_equal(l10n_from_locale("sv_SE.UTF-8"), "sv");
        assert_string_equal(l10n_from_locale("nb_NO.utf8"), "nb");
        assert_string_equal(l10n_from_locale("no_NO"), "nb");
        assert_string_equal(l10n_from_locale("sv_FI@euro"), "sv");
        assert_string_equal(l10n_from_locale("en"), "en");
        assert_null(l10n_from_locale("C.UTF-8"));
        assert_null(l10n_from_locale("POSIX"));
        assert_null(l10n_from_locale("de_DE.UTF-8"));
        assert_null(l10n_from_locale(""));

        /* As the C library decides: the first of these set and not empty. */
        assert_int_equal(setenv("LANG", "sv_SE.UTF-8", 1), 0);
        assert_int_equal(setenv("LC_MESSAGES", "", 1), 0);
        assert_int_equal(unsetenv("LC_ALL"), 0);
        assert_string_equal(l10n_from_environment(), "sv");
        assert_int_equal(setenv("LC_MESSAGES", "nb_NO.UTF-8", 1), 0);
        assert_string_equal(l10n_from_environment(), "nb");
        assert_int_equal(setenv("LC_ALL", "C.UTF-8", 1), 0);
        assert_null(l10n_from_environment());
}

/* s formatted in lang, compared with want. */
#define assert_written(lang, call, want)                                      \
        do {                                                                  \
                char _out[L10N_TEXT_MAX];                                     \
                l10n_use(l10n_find(lang));                                    \
                assert_int_equal(call, 0);                                    \
                assert_string_equal(_out, want);                              \
        } while (0)

static void test_dates(void **state) {
        (void) state;
        assert_written("sv", l10n_date("2026-12-02", _out), "2 december 2026");
        assert_written("nb", l10n_date("2026-12-02", _out), "2. desember 2026");
        assert_written("en", l10n_date("2026-12-02", _out), "2 December 2026");
        assert_written("sv", l10n_date("2027-01-31 23:59:59.5+01", _out), "31 januari 2027");
        assert_written("nb", l10n_timestamp("2026-05-17 08:05:33.123456+02", _out), "17. mai 2026 kl. 08.05");
        assert_written("sv", l10n_timestamp("2026-06-06T14:30", _out), "6 juni 2026 kl. 14.30");
        assert_written("en", l10n_timestamp("2026-03-01 00:00:00+00", _out), "1 March 2026, 00:00");
        l10n_use(l10n_find("sv"));
        assert_string_equal(l10n_month(12, false), "december");
        assert_string_equal(l10n_month(5, true), "maj");
        assert_null(l10n_month(13, true));
        assert_null(l10n_month(0, false));
        l10n_use(NULL);
        assert_string_equal(l10n_month(5, true), "May");
        assert_string_equal(l10n_language_name("nb"), "Norsk bokmål");
        assert_string_equal(l10n_language_name("sv"), "Svenska");
        assert_null(l10n_language_name("de"));

        char out[L10N_TEXT_MAX];

        /* What is no date is refused, for the caller to show as it came. */
        assert_int_equal(l10n_date("2026-13-01", out), -EINVAL);
        assert_int_equal(l10n_date("2026-12-00", out), -EINVAL);
        assert_int_equal(l10n_date("26-12-02", out), -EINVAL);
        assert_int_equal(l10n_date("infinity", out), -EINVAL);
        assert_int_equal(l10n_date(NULL, out), -EINVAL);
        assert_int_equal(l10n_timestamp("2026-12-02", out), -EINVAL);
        assert_int_equal(l10n_timestamp("2026-12-02 24:00", out), -EINVAL);
        l10n_done();
}

static void test_numbers(void **state) {
        (void) state;
        assert_written("sv", l10n_amount("12345.50", _out), "12\u00a0345,50\u00a0kr");
        assert_written("nb", l10n_amount("12345.5", _out), "12\u00a0345,50\u00a0kr");
        assert_written("en", l10n_amount("12345.50", _out), "12,345.50\u00a0kr");
        assert_written("sv", l10n_amount("24500.00", _out), "24\u00a0500\u00a0kr");
        assert_written("sv", l10n_amount("999.995", _out), "1\u00a0000\u00a0kr");
        assert_written("sv", l10n_amount("0.004", _out), "0\u00a0kr");
        assert_written("en", l10n_amount("1234567", _out), "1,234,567\u00a0kr");
        assert_written("sv", l10n_int(12345, _out), "12\u00a0345");
        assert_written("en", l10n_int(-1234567, _out), "-1,234,567");
        assert_written("nb", l10n_int(0, _out), "0");
        assert_written("nb", l10n_int(999, _out), "999");
        assert_written("sv", l10n_number("4.5", 1, _out), "4,5");
        assert_written("en", l10n_number("4.50", 2, _out), "4.5");
        assert_written("sv", l10n_number("4.00", 1, _out), "4");
        assert_written("sv", l10n_number("-0.04", 1, _out), "0");
        assert_written("sv", l10n_number("0012", 0, _out), "12");
        assert_written("sv", l10n_share("0.453", _out), "45,3\u00a0%");
        assert_written("nb", l10n_share("1", _out), "100,0\u00a0%");
        assert_written("en", l10n_share("0.5", _out), "50.0%");
        assert_written("en", l10n_share("0.0005", _out), "0.1%");

        char out[L10N_TEXT_MAX];

        assert_int_equal(l10n_amount("12 345", out), -EINVAL);
        assert_int_equal(l10n_amount("1.", out), -EINVAL);
        assert_int_equal(l10n_amount(".5", out), -EINVAL);
        assert_int_equal(l10n_amount("NaN", out), -EINVAL);
        assert_int_equal(l10n_amount("1234567890123456789012345678901", out), -EINVAL);
        assert_int_equal(l10n_share("NaN", out), -EINVAL);
        assert_int_equal(l10n_share("", out), -EINVAL);
        assert_int_equal(l10n_number("1e5", 0, out), -EINVAL);
        l10n_done();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_built_in),
                cmocka_unit_test(test_misses),
                cmocka_unit_test(test_negotiate),
                cmocka_unit_test(test_locale),
                cmocka_unit_test(test_dates),
                cmocka_unit_test(test_numbers),
                cmocka_unit_test(test_swedish_built_in),
                cmocka_unit_test(test_plural),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
