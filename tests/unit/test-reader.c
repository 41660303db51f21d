/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Record boundaries in CSV, NDJSON and JSON bodies: what each kind of input
 * gives, and that it gives the same whichever way the bytes are split. */
#include <errno.h>
#include <iconv.h>
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

/* Reads input in chunks of `chunk` bytes (0: all at once) into a log. A
 * document that cannot be read further ends the log with "X why". */
static char *run(const struct feed_config *f, const char *input, size_t len, size_t chunk) {
        struct buf log = {};
        struct reader *r = NULL;
        int k = 0;

        assert_int_equal(reader_new(f, &ops, &log, &r), 0);
        for (size_t i = 0; i < len && k == 0;) {
                size_t n = chunk ? MIN(chunk, len - i) : len;

                k = reader_feed(r, input + i, n);
                i += n;
        }
        if (k == 0)
                k = reader_finish(r);
        if (k == -EBADMSG)
                (void) buf_printf(&log, "X %s\n", reader_error(r));
        else {
                assert_int_equal(k, 0);
                assert_null(reader_error(r));
        }
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

/* Single-byte encodings are decoded by a table read off iconv, others by
 * iconv itself: every byte a record may hold gives what iconv gives. */
static void test_csv_encodings(void **state) {
        static const char *const single[] = { "WINDOWS-1252", "ISO-8859-1", "ISO-8859-15", "CP850", "KOI8-R",
                                              "WINDOWS-1251" };

        (void) state;
        for (size_t e = 0; e < ELEMENTSOF(single); e++) {
                struct feed_config f = csv(';', single[e]);
                struct buf input = {}, want = {};
                iconv_t cd = iconv_open("UTF-8", single[e]);

                assert_true(cd != (iconv_t) -1);
                (void) buf_puts(&input, "id;text\n");
                (void) buf_puts(&want, "H id|text\n");
                for (unsigned b = 0x01, line = 2; b <= 0xff; b++) {
                        char in[] = { 'x', (char) b, 'y' }, out[16], *pi = in, *po = out;
                        size_t il = sizeof in, ol = sizeof out;

                        if (b == ';' || b == '\n' || b == '\r' || b == '"' || b == ' ' || b == '\t')
                                continue;
                        (void) buf_printf(&input, "%u;x%cy\n", b, (char) b);
                        if (iconv(cd, &pi, &il, &po, &ol) == (size_t) -1)
                                (void) buf_printf(&want, "E%u byte %zu of the record (0x%02X) is not valid %s <%u;x\\x%02Xy>\n",
                                                  line, strlen("255;x") - (b < 100) - (b < 10) + 1, b, single[e], b,
                                                  b);
                        else
                                (void) buf_printf(&want, "F%u %u|%.*s\n", line, b, (int) (po - out), out);
                        line++;
                }
                iconv_close(cd);
                expect(&f, input.data, input.len, want.data);
                buf_free(&input);
                buf_free(&want);
        }

        /* A multi-byte encoding: iconv, a sequence at a time. */
        struct feed_config sj = csv(';', "SHIFT_JIS");

        EXPECT(&sj, "id;text\n1;\x83\x41\x83\x43\n2;a\x83\n",
               "H id|text\n"
               "F2 1|アイ\n"
               "E3 byte 4 of the record (0x83) is not valid SHIFT_JIS <2;a\\x83>\n");
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
        /* A syntax error stops the reading, and the document fails: the
         * caller keeps none of it. */
        EXPECT(&f, "[{\"a\": 1},\n {\"b\": 01}, {\"c\": 3}]",
               "J1 {\"a\": 1}\n"
               "X JSON error at line 2, column 9: numbers must not start with 0\n");
        EXPECT(&f, "[{\"a\": 1}, {\"b\": \"x",
               "J1 {\"a\": 1}\n"
               "X the JSON document is incomplete: line 1, column 19: the document ends inside a string\n");
        EXPECT(&g, "{\"other\": []}", "X the records array 'items' was not found in the document\n");
        EXPECT(&f, "{\"items\": []}", "X the document is not an array of records\n");
        /* An empty records array is found, and holds nothing. */
        EXPECT(&g, "{\"items\": [], \"more\": [{\"a\": 1}]}", "");
        EXPECT(&f, " [ ]\n", "");
        /* What PostgreSQL cannot store, in a document whose shape is
         * clear, refuses that record only. */
        EXPECT(&f, "[{\"s\": \"\\udc00\"}, {\"t\": 1}]",
               "E1 the record cannot be stored: line 1, column 14: a low surrogate \\u escape without a high one "
               "before it <{\"s\": \"\\udc00\"}>\n"
               "J1 {\"t\": 1}\n");
}

/* Case 3 of issue 13: \u0000 in a string (valid JSON, but not text
 * PostgreSQL stores) quarantines its record, and every later record is
 * read. Before, the first such record ended the document. */
static void test_json_record_problems_go_on(void **state) {
        char *records = (char *) "items";
        struct feed_config f = { .format = FEED_FORMAT_JSON, .records = records };

        (void) state;
        EXPECT(&f,
               "{\"items\": [{\"id\": 1},\n"
               "{\"id\": 2, \"name\": \"a\\u0000b\"},\n"
               "{\"id\": 3, \"n\": \"\x1b]0;x\x07\"},\n"
               "{\"id\": 4, \"n\": \"\xe4\"},\n"
               "{\"id\": 5, \"n\": \"\\ud800x\", \"m\": \"\\q\"},\n"
               "{\"id\": 6, \"n\": 1e99999, \"s\": \"\\u12\"},\n"
               "{\"id\": 7}]}",
               "J1 {\"id\": 1}\n"
               "E2 the record cannot be stored: line 2, column 26: \\u0000 is not allowed in text "
               "<{\"id\": 2, \"name\": \"a\\u0000b\"}>\n"
               "E3 the record cannot be stored: line 3, column 17: control character inside a string (write it as an "
               "escape) <{\"id\": 3, \"n\": \"\x1b]0;x\x07\"}>\n"
               "E4 the record cannot be stored: line 4, column 18: invalid UTF-8 in a string <{\"id\": 4, \"n\": "
               "\"\\xE4\"}>\n"
               "E5 the record cannot be stored: line 5, column 23: a high surrogate \\u escape must be followed by a "
               "low one <{\"id\": 5, \"n\": \"\\ud800x\", \"m\": \"\\q\"}>\n"
               "E6 the record cannot be stored: line 6, column 21: number out of range <{\"id\": 6, \"n\": 1e99999, "
               "\"s\": \"\\u12\"}>\n"
               "J7 {\"id\": 7}\n");
        /* In the next-page value it is the document's problem. */
        f.paging.next = (char *) "next";
        EXPECT(&f, "{\"next\": \"a\\u0000\", \"items\": [{\"id\": 1}]}",
               "X JSON error at line 1, column 17: \\u0000 is not allowed in text\n");
}

/* Case 1 of issue 13: lines may end in CR alone (Excel's "CSV
 * (Macintosh)"), LF, or CRLF, mixed; inside quotes they are data. */
static void test_csv_line_ends(void **state) {
        struct feed_config f = csv(';', NULL);

        (void) state;
        EXPECT(&f, "id;v\r1;a\r2;b\r3;c\r",
               "H id|v\n"
               "F2 1|a\n"
               "F3 2|b\n"
               "F4 3|c\n");
        EXPECT(&f, "id;v\r\n1;a\r2;b\n3;c\r\n\r\n4;\"x\ry\r\nz\"\r5;e",
               "H id|v\n"
               "F2 1|a\n"
               "F3 2|b\n"
               "F4 3|c\n"
               "F6 4|x\ry\r\nz\n"
               "F9 5|e\n");
}

/* Two byte-order marks: every column name (or the first record) would be
 * wrong; the document is refused with a clear reason. One is skipped, and
 * a body that is only the start of one is data. */
static void test_bom_twice(void **state) {
        struct feed_config f = csv(';', NULL), j = { .format = FEED_FORMAT_NDJSON };

        (void) state;
        EXPECT(&f, "\xef\xbb\xbf\xef\xbb\xbfid;v\n1;a\n",
               "X the body begins with two UTF-8 byte-order marks (EF BB BF EF BB BF): it was saved with a BOM twice; "
               "save it again as UTF-8 with one BOM, or none\n");
        EXPECT(&j, "\xef\xbb\xbf{\"a\": 1}\n", "J1 {\"a\": 1}\n");
        EXPECT(&f, "\xef\xbb\xbf\xef\xbbid;v\n1;a\n",
               "X the header (line 1) cannot be read: invalid UTF-8 at byte 1 of the record (0xEF); is "
               "csv.encoding right?\n");
}

/* A header that cannot be read fails the document: the first row would
 * otherwise be taken for the header, and vanish. Lines above it
 * (skip_lines) are skipped whatever they hold. */
static void test_csv_unreadable_header(void **state) {
        struct feed_config f = csv(';', NULL);

        (void) state;
        EXPECT(&f, "\xc4rende;v\n1;a\n2;b\n",
               "X the header (line 1) cannot be read: invalid UTF-8 at byte 1 of the record (0xC4); is "
               "csv.encoding right?\n");
        EXPECT(&f, "id;\0\n1;a\n", "X the header (line 1) cannot be read: the record contains a NUL byte\n");
        f.csv.skip_lines = 1;
        EXPECT(&f, "Rapport \xe5r 2026\nid;v\n1;a\n",
               "H id|v\n"
               "F3 1|a\n");
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
                cmocka_unit_test(test_csv_encodings),
                cmocka_unit_test(test_csv_shape),
                cmocka_unit_test(test_csv_without_header_and_skip),
                cmocka_unit_test(test_csv_long_record),
                cmocka_unit_test(test_ndjson),
                cmocka_unit_test(test_json_records_and_next),
                cmocka_unit_test(test_json_top_level_array_and_errors),
                cmocka_unit_test(test_json_depth_and_numbers),
                cmocka_unit_test(test_json_record_problems_go_on),
                cmocka_unit_test(test_csv_line_ends),
                cmocka_unit_test(test_bom_twice),
                cmocka_unit_test(test_csv_unreadable_header),
                cmocka_unit_test(test_render_raw),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
