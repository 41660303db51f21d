/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The escaping HTML writer: what data can and cannot become. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bokvar/web/html.h"

static char *render(struct html *h) {
        char *s = NULL;
        size_t n;

        assert_int_equal(html_steal(h, &s, &n), 0);
        assert_int_equal(strlen(s), n);
        return s;
}

static void test_text_is_escaped(void **state) {
        struct html h;
        char *s;

        (void) state;
        html_init(&h);
        html_text(&h, "<script>alert(\"x\" & 'y')</script>");
        s = render(&h);
        assert_string_equal(s, "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
        free(s);
}

static void test_printf_escapes_every_string(void **state) {
        struct html h;
        char *s;

        (void) state;
        html_init(&h);
        html_printf(&h, "<td title=\"%s\">%s %d %lld %zu %%</td>", "\"><img src=x>", "Åsa & Öberg", -3,
                    (long long) 1234567890123, (size_t) 7);
        s = render(&h);
        assert_string_equal(s, "<td title=\"&quot;&gt;&lt;img src=x&gt;\">Åsa &amp; Öberg -3 1234567890123 7 %</td>");
        free(s);
}

static void test_invalid_utf8_and_controls(void **state) {
        struct html h;
        char *s;

        (void) state;
        html_init(&h);
        /* A lone continuation byte, an overlong '/', a surrogate, NUL-free controls, C1, a good 4-byte emoji */
        static const char in[] = "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\x01\x1b" "e\xc2\x85" "f\xf0\x9f\x8f\xa0\tg\n";

        html_text_n(&h, in, sizeof in - 1);
        s = render(&h);
        assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                               "d\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd\xef\xbf\xbd" "f\xf0\x9f\x8f\xa0\tg\n");
        free(s);
}

static void test_url_param(void **state) {
        struct html h;
        char *s;

        (void) state;
        html_init(&h);
        html_markup(&h, "<a href=\"/?assignee=");
        html_url_param(&h, "anna.k@kommun.se\"&x=<y> z");
        html_markup(&h, "\">");
        s = render(&h);
        assert_string_equal(s, "<a href=\"/?assignee=anna.k%40kommun.se%22%26x%3D%3Cy%3E%20z\">");
        free(s);
}

static void test_unknown_conversion_fails_the_page(void **state) {
        struct html h;
        char *s = NULL;
        size_t n;

        (void) state;
        html_init(&h);
        html_printf_internal(&h, "<p>%x</p>", 255);
        assert_int_equal(html_steal(&h, &s, &n), -EINVAL);
        assert_null(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_is_escaped),
                cmocka_unit_test(test_printf_escapes_every_string),
                cmocka_unit_test(test_invalid_utf8_and_controls),
                cmocka_unit_test(test_url_param),
                cmocka_unit_test(test_unknown_conversion_fails_the_page),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
