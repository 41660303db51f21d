/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The JSON writer: commas, nesting, escaping, and refusing what is not JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bokvar/basic/json-writer.h"

static void test_document(void **state) {
        struct buf b = {};
        struct json_writer w;
        char *const list[] = { "a", "b\"c", NULL };

        (void) state;
        json_writer_init(&w, &b);
        json_object_begin(&w);
        json_key_string(&w, "name", "Hyresvärd AB");
        json_key_int(&w, "rows", -3);
        json_key_uint(&w, "bytes", UINT64_MAX);
        json_key(&w, "at");
        json_fixed(&w, 1.5, 3);
        json_key_bool(&w, "ok", true);
        json_key_string(&w, "none", NULL);
        json_key(&w, "list");
        json_strv(&w, list);
        json_key(&w, "empty");
        json_strv(&w, NULL);
        json_key(&w, "nested");
        json_array_begin(&w);
        json_object_begin(&w);
        json_object_end(&w);
        json_raw(&w, "{\"x\": 1}");
        json_null(&w);
        json_array_end(&w);
        json_key_string(&w, "ctl", "a\nb\x01");
        json_object_end(&w);
        assert_int_equal(json_writer_finish(&w), 0);
        assert_string_equal(b.data,
                            "{\"name\":\"Hyresvärd AB\",\"rows\":-3,\"bytes\":18446744073709551615,\"at\":1.500,"
                            "\"ok\":true,\"none\":null,\"list\":[\"a\",\"b\\\"c\"],\"empty\":[],"
                            "\"nested\":[{},{\"x\": 1},null],\"ctl\":\"a\\nb\\u0001\"}");
        buf_free(&b);
}

static void test_misuse(void **state) {
        struct buf b = {};
        struct json_writer w;

        (void) state;
        /* A value where a key belongs. */
        json_writer_init(&w, &b);
        json_object_begin(&w);
        json_int(&w, 1);
        json_object_end(&w);
        assert_int_equal(json_writer_finish(&w), -EINVAL);

        /* A key in an array. */
        buf_clear(&b);
        json_writer_init(&w, &b);
        json_array_begin(&w);
        json_key(&w, "k");
        assert_int_equal(json_writer_finish(&w), -EINVAL);

        /* Left open; closed with the wrong bracket. */
        buf_clear(&b);
        json_writer_init(&w, &b);
        json_object_begin(&w);
        assert_int_equal(json_writer_finish(&w), -EINVAL);
        json_array_end(&w);
        assert_int_equal(json_writer_finish(&w), -EINVAL);

        /* Two top-level values; none at all. */
        buf_clear(&b);
        json_writer_init(&w, &b);
        json_int(&w, 1);
        json_int(&w, 2);
        assert_int_equal(json_writer_finish(&w), -EINVAL);
        json_writer_init(&w, &b);
        assert_int_equal(json_writer_finish(&w), -EINVAL);

        /* Not a number JSON can hold. */
        buf_clear(&b);
        json_writer_init(&w, &b);
        json_fixed(&w, 1.0 / 0.0, 0);
        assert_int_equal(json_writer_finish(&w), -EINVAL);
        buf_free(&b);
}

static void test_depth(void **state) {
        struct buf b = {};
        struct json_writer w;

        (void) state;
        json_writer_init(&w, &b);
        for (int i = 0; i < JSON_WRITER_MAX_DEPTH - 1; i++)
                json_array_begin(&w);
        for (int i = 0; i < JSON_WRITER_MAX_DEPTH - 1; i++)
                json_array_end(&w);
        assert_int_equal(json_writer_finish(&w), 0);

        buf_clear(&b);
        json_writer_init(&w, &b);
        for (int i = 0; i < JSON_WRITER_MAX_DEPTH; i++)
                json_array_begin(&w);
        assert_int_equal(json_writer_finish(&w), -EINVAL);
        buf_free(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_document),
                cmocka_unit_test(test_misuse),
                cmocka_unit_test(test_depth),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
