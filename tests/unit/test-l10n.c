/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gettext catalogues read without the C library: the built-in Swedish one,
 * and malformed files, which are refused rather than read out of bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/l10n.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_swedish_built_in),
                cmocka_unit_test(test_plural),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_format),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
