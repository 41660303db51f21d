/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Record boundaries in CSV, NDJSON and JSON bodies: what each kind of input
 * gives, and that it gives the same whichever way the bytes are split. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/util.h"
#include "bokvar/ingest/reader.h"

/* Every callback appends one line to the log. */
static int on_header(void *u, char *const *names, size_t n) {
        struct buf *log = u;

        (void) buf_puts(log, "H");
        for (size_t i = 0; i < n; i++)
                (void) buf_printf(log, "%s%s", i ? "|" : " ", names[i]);
        return buf_putc(log, '\n');
}

static int on_fields(void *u, unsigned line, char *const *fields, size_t n) {
        struct buf *log = u;

        (void) buf_printf(log, "F%u", line);
        for (size_t i = 0; i < n; i++)
                (void) buf_printf(log, "%s%s", i ? "|" : " ", fields[i] ? fields[i] : "NULL");
        return buf_putc(log, '\n');
}

static int on_json(void *u, unsigned line, const char *text, size_t len) {
        return buf_printf(u, "J%u %.*s\n", line, (int) len, text);
}

static int on_error(void *u, unsigned line, const char *raw, size_t len, const char *reason) {
        return buf_printf(u, "E%u %s <%.*s>\n", line, reason, (int) len, raw);
}

static int on_next(void *u, const char *value) {
        return buf_printf(u, "N %s\n", value ? value : "null");
}

static const struct reader_ops ops = {
        .header = on_header,
        .fields = on_fields,
        .json = on_json,
        .error = on_error,
        .next = on_next,
};

/* Reads input in chunks of `chunk` bytes (0: all at once) into a log. */
static char *run(const struct feed_config *f, const char *input, size_t len, size_t chunk) {
        struct buf log = {};
        struct reader *r = NULL;

        assert_int_equal(reader_new(f, &ops, &log, &r), 0);
        for (size_t i = 0; i < len;) {
                size_t n = chunk ? MIN(chunk, len - i) : len;

                assert_int_equal(reader_feed(r, input + i, n), 0);
                i += n;
        }
        assert_int_equal(reader_finish(r), 0);
        reader_free(r);
        return buf_steal(&log);
}

/* Checks the log, and that 1-, 2- and 7-byte chunks give the same. */
static void expect(const struct feed_config *f, const char *input, size_t len, const char *want) {
        static const size_t chunks[] = { 0, 1, 2, 7 };

        for (size_t i = 0; i < ELEMENTSOF(chunks); i++) {
                char *got = run(f, input, len, chunks[i]);

                if (strcmp(got, want) != 0)
                        fprintf(stderr, "chunk %zu:\n--- got\n%s--- want\n%s", chunks[i], got, want);
                assert_string_equal(got, want);
                free(got);
        }
}

#define EXPECT(f, input, want) expect(f, input, sizeof(input) - 1, want)

static struct feed_config csv(char delimiter, const char *encoding) {
        return (struct feed_config){
                .format = FEED_FORMAT_CSV,
                .csv = { .delimiter = delimiter, .quote = '"', .header = true, .encoding = (char *) encoding },
        };
}

static void test_csv_basic(void **state) {
        struct feed_config f = csv(';', NULL);

        (void) state;
        EXPECT(&f, "Ärende;Typ;Belopp\nA1;Påminnelse;12 345,50\n A2 ; Uppsägning ;\r\n",
               "H Ärende|Typ|Belopp\n"
               "F2 A1|Påminnelse|12 345,50\n"
               "F3 A2|Uppsägning|NULL\n");
}

static void test_csv_quotes_span_lines(void **state) {
        struct feed_config f = csv(',', NULL);

        (void) state;
        EXPECT(&f, "id,note,n\n1,\"two\nlines, and \"\"quotes\"\"\",3\n2,5\" tall,4\n",
               "H id|note|n\n"
               "F2 1|two\nlines, and \"quotes\"|3\n"
               "F4 2|5\" tall|4\n");
}

static void test_csv_windows_1252_and_bom(void **state) {
        struct feed_config f = csv(';', "WINDOWS-1252"), u = csv(';', NULL);

        (void) state;
        /* 0xC4 = Ä, 0xE5 = å, 0x80 = €; 0x81 is undefined in Windows-1252. */
        EXPECT(&f, "\xc4rende;Belopp\nA1;5 \x80\nA2;\x81x\n",
               "H Ärende|Belopp\n"
               "F2 A1|5 €\n"
               "E3 byte 4 of the record (0x81) is not valid WINDOWS-1252 <A2;\\x81x>\n");
        EXPECT(&u, "\xef\xbb\xbfid;x\n1;\xc3\n",
               "H id|x\n"
               "E2 invalid UTF-8 at byte 3 of the record (0xC3); is csv.encoding right? <1;\\xC3>\n");
}

static void test_csv_shape(void **state) {
        struct feed_config f = csv(';', NULL);

        (void) state;
        /* Padding cells and empty rows are spreadsheet noise; a short or
         * long row is an error, and so is a NUL. */
        EXPECT(&f, "a;b\n1;2;;\n;;\n\n3\n4;5;6\n7;\0\n8;9",
               "H a|b\n"
               "F2 1|2\n"
               "E5 the record has 1 field, the header has 2 <3>\n"
               "E6 the record has 3 fields, the header has 2 <4;5;6>\n"
               "E7 the record contains a NUL byte <7;\\x00>\n"
               "F8 8|9\n");
        EXPECT(&f, "a;b\n1;2\n3",
               "H a|b\n"
               "F2 1|2\n"
               "E3 the record has 1 field, the header has 2 (the file may be truncated) <3>\n");
        EXPECT(&f, "a;b\n1;\"unterminated\n",
               "H a|b\n"
               "E2 the file ends inside a quoted field (truncated?) <1;\"unterminated\n>\n");
}

static void test_csv_without_header_and_skip(void **state) {
        struct feed_config f = csv(',', NULL);

        (void) state;
        f.csv.header = false;
        f.csv.skip_lines = 1;
        EXPECT(&f, "Report of arrears, March\nA1,x\nA2,y\n",
               "H 1|2\n"
               "F2 A1|x\n"
               "F3 A2|y\n");
}

static void test_csv_long_record(void **state) {
        struct feed_config f = csv(',', NULL);
        size_t n = READER_MAX_RECORD + 10;
        char *input = malloc(n + 20), *got;

        (void) state;
        memcpy(input, "a,b\n", 4);
        memset(input + 4, 'x', n);
        memcpy(input + 4 + n, "\n1,2\n", 5);
        got = run(&f, input, n + 9, 65536);
        assert_non_null(strstr(got, "E2 the record is longer than 1048576 bytes <xxx"));
        assert_non_null(strstr(got, "…>\nF3 1|2\n"));
        free(got);
        free(input);
}

static void test_ndjson(void **state) {
        struct feed_config f = { .format = FEED_FORMAT_NDJSON };

        (void) state;
        EXPECT(&f, "{\"id\": 1, \"p\": {\"n\": \"Å\"}}\n\n[1]\n{\"id\": 2,}\n{\"s\": \"\\u0000\"}\n{\"id\": 3}",
               "J1 {\"id\": 1, \"p\": {\"n\": \"Å\"}}\n"
               "E3 the line is JSON but not an object <[1]>\n"
               "E4 JSON syntax error at column 10: expected a key in double quotes <{\"id\": 2,}>\n"
               "E5 JSON syntax error at column 13: \\u0000 is not allowed in text <{\"s\": \"\\u0000\"}>\n"
               "J6 {\"id\": 3}\n");
}

static void test_json_records_and_next(void **state) {
        char *records = (char *) "data.items";
        struct feed_config f = { .format = FEED_FORMAT_JSON, .records = records };

        (void) state;
        f.paging.next = (char *) "meta.next";
        EXPECT(&f,
               "{\"meta\": {\"next\": \"https:\\/\\/x.example\\/p?c=2\"},\n"
               " \"data\": {\"items\": [\n"
               "   {\"id\": \"a\", \"tags\": [1, 2]},\n"
               "   7,\n"
               "   {\"id\": \"b\", \"s\": \"\\ud83d\\ude00\"}\n"
               " ], \"items2\": [{\"id\": \"no\"}]}}\n",
               "N https://x.example/p?c=2\n"
               "J3 {\"id\": \"a\", \"tags\": [1, 2]}\n"
               "E4 the record is JSON but not an object <7>\n"
               "J5 {\"id\": \"b\", \"s\": \"\\ud83d\\ude00\"}\n");
}

static void test_json_top_level_array_and_errors(void **state) {
        struct feed_config f = { .format = FEED_FORMAT_JSON };
        char *records = (char *) "items";
        struct feed_config g = { .format = FEED_FORMAT_JSON, .records = records };

        (void) state;
        EXPECT(&f, "[{\"a\": 1}, {\"b\": -0.5e+10}]", "J1 {\"a\": 1}\nJ1 {\"b\": -0.5e+10}\n");
        /* A syntax error stops the reading; what came before counts. */
        EXPECT(&f, "[{\"a\": 1},\n {\"b\": 01}, {\"c\": 3}]",
               "J1 {\"a\": 1}\n"
               "E2 JSON syntax error at line 2, column 9: numbers must not start with 0; the rest of the document "
               "was not read <{\"b\": 0>\n");
        EXPECT(&f, "[{\"a\": 1}, {\"b\": \"x",
               "J1 {\"a\": 1}\n"
               "E1 the JSON document is incomplete: line 1, column 19: the document ends inside a string <{\"b\": \"x>\n");
        EXPECT(&g, "{\"other\": []}", "E1 the records array 'items' was not found in the document <>\n");
        EXPECT(&f, "[{\"s\": \"\\udc00\"}]",
               "E1 JSON syntax error at line 1, column 14: a low surrogate \\u escape without a high one before it; "
               "the rest of the document was not read <{\"s\": \"\\udc00>\n");
}

static void test_json_depth_and_numbers(void **state) {
        struct feed_config f = { .format = FEED_FORMAT_NDJSON };
        char deep[200];
        char *got;
        size_t n = 0;

        (void) state;
        n += (size_t) sprintf(deep + n, "{\"a\":");
        for (int i = 0; i < 70; i++)
                deep[n++] = '[';
        deep[n] = 0;
        got = run(&f, deep, n, 0);
        assert_non_null(strstr(got, "nested deeper than 64 levels"));
        free(got);
        EXPECT(&f, "{\"n\": 1e5000}\n{\"n\": 1.5e300}\n",
               "E1 JSON syntax error at column 12: number out of range <{\"n\": 1e5000}>\n"
               "J2 {\"n\": 1.5e300}\n");
}

static void test_render_raw(void **state) {
        struct buf b = {};

        (void) state;
        assert_int_equal(reader_render_raw("a\xffö\0z", 6, 100, &b), 0);
        assert_string_equal(b.data, "a\\xFFö\\x00z");
        buf_clear(&b);
        assert_int_equal(reader_render_raw("abcdef", 6, 3, &b), 0);
        assert_string_equal(b.data, "abc…");
        buf_free(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_csv_basic),
                cmocka_unit_test(test_csv_quotes_span_lines),
                cmocka_unit_test(test_csv_windows_1252_and_bom),
                cmocka_unit_test(test_csv_shape),
                cmocka_unit_test(test_csv_without_header_and_skip),
                cmocka_unit_test(test_csv_long_record),
                cmocka_unit_test(test_ndjson),
                cmocka_unit_test(test_json_records_and_next),
                cmocka_unit_test(test_json_top_level_array_and_errors),
                cmocka_unit_test(test_json_depth_and_numbers),
                cmocka_unit_test(test_render_raw),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
