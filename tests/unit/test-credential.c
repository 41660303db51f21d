/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Secrets from $CREDENTIALS_DIRECTORY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/util.h"

static char dir[] = "/tmp/bokvar-test-cred-XXXXXX";

static void put(const char *name, const char *data, size_t size) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
        (void) state;
        if (!mkdtemp(dir))
                return -1;
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        return 0;
}

static int teardown(void **state) {
        _cleanup_free_ char *cmd = NULL;

        (void) state;
        if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
                return -1;
        return 0;
}

static void test_read_strips_one_newline(void **state) {
        char *s = NULL, *why = NULL;
        size_t n = 0;

        (void) state;
        put("token", "abc123\n", 7);
        assert_int_equal(credential_read("token", &s, &n, &why), 0);
        assert_string_equal(s, "abc123");
        assert_int_equal(n, 6);
        assert_null(why);
        credential_free(s, n);
}

static void test_missing(void **state) {
        _cleanup_free_ char *why = NULL, *want = NULL;
        char *s = NULL;

        (void) state;
        assert_int_equal(credential_read("absent", &s, NULL, &why), -ENOENT);
        assert_null(s);
        assert_true(asprintf(&want, "credential 'absent' not found in $CREDENTIALS_DIRECTORY (%s)", dir) > 0);
        assert_string_equal(why, want);
}

static void test_no_directory(void **state) {
        _cleanup_free_ char *why = NULL;
        char *s = NULL;

        (void) state;
        unsetenv("CREDENTIALS_DIRECTORY");
        assert_int_equal(credential_read("token", &s, NULL, &why), -ENXIO);
        assert_string_equal(why, "credential 'token' is needed but $CREDENTIALS_DIRECTORY is not set (add "
                                 "LoadCredential=token:/path/to/file to the service, or export "
                                 "CREDENTIALS_DIRECTORY for a run by hand)");
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
}

static void test_bad_names(void **state) {
        _cleanup_free_ char *why = NULL;
        char *s = NULL;

        (void) state;
        assert_int_equal(credential_read("../etc/shadow", &s, NULL, &why), -EINVAL);
        assert_string_equal(why, "'../etc/shadow' is not a valid credential name (letters, digits, '_', '-', '.')");
        assert_false(credential_name_valid(".."));
        assert_false(credential_name_valid("."));
        assert_false(credential_name_valid(""));
        assert_false(credential_name_valid("a b"));
        assert_true(credential_name_valid("webhook-secret.v2"));
}

static void test_empty_and_nul(void **state) {
        _cleanup_free_ char *why = NULL, *why2 = NULL;
        char *s = NULL;

        (void) state;
        put("empty", "\n", 1);
        assert_int_equal(credential_read("empty", &s, NULL, &why), -EBADMSG);
        assert_string_equal(why, "credential 'empty' is empty or contains a NUL byte");
        put("nul", "ab\0cd", 5);
        assert_int_equal(credential_read("nul", &s, NULL, &why2), -EBADMSG);
}

static void test_too_large(void **state) {
        _cleanup_free_ char *why = NULL, *big = NULL;
        char *s = NULL;

        (void) state;
        big = malloc(CREDENTIAL_MAX_SIZE + 1);
        assert_non_null(big);
        memset(big, 'x', CREDENTIAL_MAX_SIZE + 1);
        put("big", big, CREDENTIAL_MAX_SIZE + 1);
        assert_int_equal(credential_read("big", &s, NULL, &why), -EFBIG);
        assert_string_equal(why, "credential 'big' is larger than 65536 bytes");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_strips_one_newline),
                cmocka_unit_test(test_missing),
                cmocka_unit_test(test_no_directory),
                cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_empty_and_nul),
                cmocka_unit_test(test_too_large),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
