/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Session ids and CSRF tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/web/csrf.h"

static void test_token_binds_session_and_login(void **state) {
        char s1[CSRF_TOKEN_SIZE], s2[CSRF_TOKEN_SIZE], t[CSRF_TOKEN_SIZE];
        struct csrf_key k, other;

        (void) state;
        assert_int_equal(csrf_key_init(&k, NULL, 0), 0);
        assert_int_equal(csrf_key_init(&other, NULL, 0), 0);
        assert_int_equal(session_new(s1), 0);
        assert_int_equal(session_new(s2), 0);
        assert_true(session_valid(s1));
        assert_string_not_equal(s1, s2);
        csrf_token(&k, s1, "anna.k", t);
        assert_int_equal(strlen(t), CSRF_TOKEN_SIZE - 1);
        assert_true(csrf_check(&k, s1, "anna.k", t));
        assert_false(csrf_check(&k, s2, "anna.k", t));
        assert_false(csrf_check(&k, s1, "sara.b", t));
        assert_false(csrf_check(&other, s1, "anna.k", t));
        assert_false(csrf_check(&k, s1, "anna.k", NULL));
        assert_false(csrf_check(&k, s1, "anna.k", ""));
        assert_false(csrf_check(&k, "short", "anna.k", t));
        csrf_key_done(&k);
        csrf_key_done(&other);
}

static void test_key_from_secret_is_stable(void **state) {
        struct csrf_key a, b;
        char t[CSRF_TOKEN_SIZE];

        (void) state;
        assert_int_equal(csrf_key_init(&a, "0123456789abcdef0123456789abcdef", 32), 0);
        assert_int_equal(csrf_key_init(&b, "0123456789abcdef0123456789abcdef", 32), 0);
        assert_memory_equal(a.key, b.key, sizeof a.key);
        /* HMAC-SHA256(SHA-256(secret), session NUL login), base64url: as
         * Python's hmac computes it. */
        csrf_token(&a, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "anna.k", t);
        assert_string_equal(t, "0mqJC4cNmcPDXF9oNMsmITAGnTP05aDdiZRTIpWHONs");
        csrf_key_done(&a);
        csrf_key_done(&b);
}

static void test_cookie(void **state) {
        char s[CSRF_TOKEN_SIZE], *c = NULL;

        (void) state;
        assert_int_equal(session_new(s), 0);
        assert_int_equal(session_cookie(s, &c), 0);
        assert_true(strncmp(c, "__Host-bokvar=", 14) == 0);
        assert_non_null(strstr(c, "; Path=/; Secure; HttpOnly; SameSite=Strict"));
        free(c);
        assert_false(session_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA;"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_token_binds_session_and_login),
                cmocka_unit_test(test_key_from_secret_is_stable),
                cmocka_unit_test(test_cookie),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
