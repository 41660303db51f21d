/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Form bodies and the checks every field gets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/web/form.h"

static void test_parse(void **state) {
        struct form f;
        const char *v;
        size_t n;

        (void) state;
        assert_int_equal(form_parse("a=1&b=h%C3%A4r+och%20d%C3%A4r&&c&d=%00x&a=2", 43, &f), 0);
        assert_int_equal(f.n, 5);
        assert_string_equal(form_get(&f, "a", NULL), "1");
        assert_string_equal(form_get(&f, "b", NULL), "här och där");
        assert_string_equal(form_get(&f, "c", NULL), "");
        v = form_get(&f, "d", &n);
        assert_int_equal(n, 2);
        assert_memory_equal(v, "\0x", 2);
        assert_null(form_get(&f, "e", NULL));
        form_done(&f);
}

static void test_broken(void **state) {
        struct form f;
        char big[FORM_MAX_FIELDS * 4 + 8];

        (void) state;
        assert_int_equal(form_parse("a=%4", 4, &f), -EBADMSG);
        assert_int_equal(form_parse("a=%zz", 5, &f), -EBADMSG);
        big[0] = 0;
        for (int i = 0; i <= FORM_MAX_FIELDS; i++)
                strcat(big, "a=1&");
        assert_int_equal(form_parse(big, strlen(big), &f), -E2BIG);
}

static void test_text(void **state) {
        struct form f;
        const char *v;
        size_t n;

        (void) state;
        assert_int_equal(form_parse("name=++Anna++&note=a%0D%0Ab&nul=a%00b&bad=%C3%28&long=%C3%A5%C3%A5%C3%A5"
                                    "&blank=+++",
                                    strlen("name=++Anna++&note=a%0D%0Ab&nul=a%00b&bad=%C3%28&long=%C3%A5%C3%A5%C3%A5"
                                           "&blank=+++"),
                                    &f),
                         0);
        assert_int_equal(form_text(&f, "name", true, false, 10, &v, &n), FORM_OK);
        assert_int_equal(n, 4);
        assert_memory_equal(v, "Anna", 4);
        assert_int_equal(form_text(&f, "note", false, false, 100, &v, &n), FORM_NOT_TEXT);
        assert_int_equal(form_text(&f, "note", false, true, 100, &v, &n), FORM_OK);
        assert_int_equal(form_text(&f, "nul", false, true, 100, &v, &n), FORM_NOT_TEXT);
        assert_int_equal(form_text(&f, "bad", false, false, 100, &v, &n), FORM_NOT_TEXT);
        assert_int_equal(form_text(&f, "long", false, false, 3, &v, &n), FORM_OK);
        assert_int_equal(form_text(&f, "long", false, false, 2, &v, &n), FORM_TOO_LONG);
        assert_int_equal(form_text(&f, "blank", true, false, 2, &v, &n), FORM_MISSING);
        assert_int_equal(form_text(&f, "blank", false, false, 2, &v, &n), FORM_OK);
        assert_null(v);
        assert_int_equal(form_text(&f, "absent", true, false, 2, &v, &n), FORM_MISSING);
        form_done(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_broken),
                cmocka_unit_test(test_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
