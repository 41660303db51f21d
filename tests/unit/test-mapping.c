/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A feed's records mapped onto the canonical signal: columns by name in any
 * order, JSON paths, constants, value words, derived deadlines, and every
 * reason a row is quarantined for, in the words operators have always
 * read (the cases of the SQL ingest's tests, which now stage typed rows). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/config/config.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/mapping.h"

static const char yaml[] =
        "feeds:\n"
        "  - name: f1\n"
        "    source: landlord\n"
        "    url: https://example.org/f1.csv\n"
        "    format: csv\n"
        "    csv: { delimiter: \";\" }\n"
        "    decimal_comma: true\n"
        "    date_format: DD.MM.YYYY\n"
        "    map:\n"
        "      external_id: Ärende\n"
        "      kind: { from: Typ, values: { Uppsägning: termination_notice, Påminnelse: arrears } }\n"
        "      occurred_at: Datum\n"
        "      deadline: Sista dag\n"
        "      person_id: Personnummer\n"
        "      address: Adress\n"
        "      postal_code: Postnr\n"
        "      city: Ort\n"
        "      apartment: Lgh\n"
        "      children: Barn\n"
        "      amount: Skuld\n"
        "      months_in_arrears: Månader\n"
        "      landlord: { value: Hyresvärd AB }\n"
        "  - name: kf\n"
        "    source: enforcement\n"
        "    url: https://example.org/kf\n"
        "    format: json\n"
        "    decimal_comma: true\n"
        "    identity: [se]\n"
        "    map:\n"
        "      external_id: case.id\n"
        "      kind: { from: type, values: { avhysning: eviction_application, förrättning: eviction_scheduled } }\n"
        "      occurred_at: date\n"
        "      deadline: hearing\n"
        "      person_id: party.pnr\n"
        "      children: party.children\n"
        "      amount: claim\n"
        "      landlord: applicant\n"
        "      city: { value: Uppsala }\n"
        "      address: home.street\n"
        "      postal_code: home.zip\n";

static struct config *config;

static int setup(void **state) {
        struct diag d = {};

        (void) state;
        if (config_parse("t.yaml", yaml, strlen(yaml), 0, &config, &d) < 0) {
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "%s\n", d.messages[i]);
                diag_free(&d);
                return -1;
        }
        return 0;
}

static int teardown(void **state) {
        (void) state;
        config = config_unref(config);
        return 0;
}

static day_t today(void) {
        day_t d;

        assert_int_equal(day_from_ymd(2026, 3, 15, &d), 0);
        return d;
}

/* The row as one line: "! reason", or the typed values that go to COPY. */
static void describe(int k, const struct signal_row *row, char *out, size_t size) {
        char occ[11], dl[11] = "-", amount[24] = "-";

        assert_true(k == 0 || k == 1);
        if (k == 1) {
                snprintf(out, size, "! %s", row->reason.data);
                return;
        }
        if (row->deadline != DAY_NONE)
                day_format(row->deadline, dl);
        if (row->amount >= 0)
                canonical_amount_format(row->amount, amount);
        snprintf(out, size, "%s %s %s %s %s ch=%d %s m=%d %s key=%s pc=%s ll=%s", row->text[FIELD_EXTERNAL_ID],
                 signal_kind_names[row->kind], day_format(row->occurred_at, occ), dl,
                 row->person_id[0] ? row->person_id : "-", row->children, amount, row->months_in_arrears,
                 row->text[FIELD_LANDLORD] ? row->text[FIELD_LANDLORD] : "-",
                 row->has_address_key ? row->address_key.data : "-", row->has_postal_key ? row->postal_key.data : "-",
                 row->has_landlord_key ? row->landlord_key.data : "-");
}

static char *const header[] = { (char *) "Personnummer", (char *) "Ärende", (char *) "Adress", (char *) "Postnr",
                                (char *) "Lgh", (char *) "Ort", (char *) "Typ", (char *) "Datum", (char *) "Sista dag",
                                (char *) "Barn", (char *) "Skuld", (char *) "Månader", NULL };

static void test_csv_fetch(void **state) {
        /* The rows of the SQL ingest test's first fetch, and what becomes of each. */
        static const struct {
                const char *fields[12];
                const char *expected;
        } rows[] = {
                { { "811228-9874", "A1", "Storgatan 12 B", "753 20", "lgh 1102", "Uppsala", "Uppsägning", "05.03.2026",
                    NULL, "2", "12 345,50", "3" },
                  "A1 termination_notice 2026-03-05 2026-03-26 198112289874 ch=2 12345.50 m=3 Hyresvärd AB "
                  "key=STORGATAN12B|75320|1102 pc=75320 ll=HYRESVÄRDAB" },
                { { NULL, "A2", "STORGATAN 12B", "75320", "1102", "Uppsala", "Påminnelse", "01.03.2026", NULL, NULL,
                    "1 234", "2" },
                  "A2 arrears 2026-03-01 - - ch=-1 1234.00 m=2 Hyresvärd AB key=STORGATAN12B|75320|1102 pc=75320 "
                  "ll=HYRESVÄRDAB" },
                { { "7605053458", "A4", "Lillgatan 3", "75321", NULL, "Uppsala", "Påminnelse", "10.03.2026", NULL, NULL,
                    "4 000,00", "1" },
                  "A4 arrears 2026-03-10 - 197605053458 ch=-1 4000.00 m=1 Hyresvärd AB key=LILLGATAN3|75321| pc=75321 "
                  "ll=HYRESVÄRDAB" },
                { { "811228-9874", "A19", "Storgatan 12 B", "753 20", "lgh 1102", "Uppsala", "utility_disconnection",
                    "01.03.2026", NULL, NULL, NULL, NULL },
                  "A19 utility_disconnection 2026-03-01 2026-03-22 198112289874 ch=-1 - m=-1 Hyresvärd AB "
                  "key=STORGATAN12B|75320|1102 pc=75320 ll=HYRESVÄRDAB" },
                { { "19850312-1231", "A20", "Åsgränd 4", "753 22", NULL, "Uppsala", "Uppsägning", "06.03.2026",
                    "20.03.2026", NULL, NULL, NULL },
                  "A20 termination_notice 2026-03-06 2026-03-20 198503121231 ch=-1 - m=-1 Hyresvärd AB "
                  "key=ÅSGRÄND4|75322| pc=75322 ll=HYRESVÄRDAB" },
                { { "123456782", "A18", NULL, NULL, NULL, NULL, "Påminnelse", "04.03.2026", NULL, NULL, NULL, NULL },
                  "A18 arrears 2026-03-04 - 123456782 ch=-1 - m=-1 Hyresvärd AB key=- pc=- ll=HYRESVÄRDAB" },
                { { "150785 49995", "A17", "Fjordveien 1", "0150", NULL, "Oslo", "Påminnelse", "03.03.2026", NULL, NULL,
                    "2 500", "1" },
                  "A17 arrears 2026-03-03 - 15078549995 ch=-1 2500.00 m=1 Hyresvärd AB key=FJORDVEIEN1|0150| pc=0150 "
                  "ll=HYRESVÄRDAB" },
                { { "19920817-4566", "A5", "Kvarngatan 9", "753 30", "lgh 1201", "Uppsala", "Vräkning", "12.03.2026",
                    NULL, "0", NULL, NULL },
                  "! kind 'Vräkning' is not a signal kind and not listed under map.kind.values" },
                { { "198804046780", "  ", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL,
                    NULL, "100", "1" },
                  "! external_id is empty" },
                { { "198804046780", "A7", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "31.02.2026", NULL,
                    NULL, "100", "1" },
                  "! occurred_at '31.02.2026' is not a date of the form DD.MM.YYYY" },
                { { "198804046780", "A8", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL,
                    NULL, "-500", "1" },
                  "! amount '-500' is not an amount of 0 or more with at most two decimals (decimal comma)" },
                { { "198804046780", "A9", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL,
                    "två", "100", "1" },
                  "! children 'två' is not a whole number of 0 or more" },
                { { "811228-9875", "A10", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL,
                    NULL, "100", "1" },
                  "! person_id: the check digit of the Swedish personnummer is wrong" },
                { { NULL, "A11", "Okändvägen 1", NULL, NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL, NULL, "100",
                    "1" },
                  "! neither person_id nor an address with postal_code is given, so the signal cannot be matched to a "
                  "home" },
                { { "198804046780", "A13", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL,
                    NULL, "100", "tre" },
                  "! months_in_arrears 'tre' is not a whole number of 0 or more" },
                { { "198804046780", "A14", "Bergsgatan 1", "753 31", NULL, "Uppsala", "Vräkning", "1 mars", NULL, NULL,
                    "12,345", NULL },
                  "! kind 'Vräkning' is not a signal kind and not listed under map.kind.values; occurred_at '1 mars' "
                  "is not a date of the form DD.MM.YYYY; amount '12,345' is not an amount of 0 or more with at most "
                  "two decimals (decimal comma)" },
                { { "19850312-1231", "A15", "Åsgränd 4", "753 22", NULL, "Uppsala", "Uppsägning", "06.03.2026",
                    "2026-03-20", NULL, NULL, NULL },
                  "! deadline '2026-03-20' is not a date of the form DD.MM.YYYY" },
                { { "198804046780", "A40", "Bergsgatan 1", "753 31", NULL, "Uppsala", NULL, " ", NULL, NULL, "100",
                    "1" },
                  "! kind is empty; occurred_at is empty" },
                { { "198804046780",
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                    "x",
                    "Bergsgatan 1", "753 31", NULL, "Uppsala", "Påminnelse", "12.03.2026", NULL, NULL, "100", "1" },
                  "! external_id has 201 characters, more than the 200 allowed" },
        };
        _cleanup_(mapping_freep) struct mapping *m = NULL;
        struct signal_row row = {};

        (void) state;
        assert_int_equal(mapping_new(&config->feeds[0], header, today(), &m), 0);
        assert_null(mapping_missing(m));
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                char got[600];

                describe(mapping_map_fields(m, (char *const *) rows[i].fields, 12, &row), &row, got, sizeof got);
                if (strcmp(got, rows[i].expected) != 0)
                        fail_msg("row %zu:\n  got      %s\n  expected %s", i, got, rows[i].expected);
        }
        signal_row_done(&row);
}

/* A header that lacks a mapped column: every row says so first. */
static void test_missing_column(void **state) {
        static char *const short_header[] = { (char *) "Personnummer", (char *) "Ärende", (char *) "Adress",
                                              (char *) "Postnr", (char *) "Lgh", (char *) "Ort", (char *) "Typ",
                                              (char *) "Datum", (char *) "Sista dag", (char *) "Skuld",
                                              (char *) "Månader", NULL };
        static const char *const good[] = { "198804046780", "A30", "Bergsgatan 1", "753 31", NULL, "Uppsala",
                                            "Påminnelse", "13.03.2026", NULL, "100", "1" };
        static const char *const bad[] = { "198804046780", "A31", "Bergsgatan 1", "753 31", NULL, "Uppsala",
                                           "Vräkning", "13.03.2026", NULL, "100", "1" };
        _cleanup_(mapping_freep) struct mapping *m = NULL;
        struct signal_row row = {};
        char got[600];

        (void) state;
        assert_int_equal(mapping_new(&config->feeds[0], short_header, today(), &m), 0);
        assert_string_equal(mapping_missing(m), "column 'Barn' (mapped to children) is not in the header");
        describe(mapping_map_fields(m, (char *const *) good, 11, &row), &row, got, sizeof got);
        assert_string_equal(got, "! column 'Barn' (mapped to children) is not in the header");
        describe(mapping_map_fields(m, (char *const *) bad, 11, &row), &row, got, sizeof got);
        assert_string_equal(got, "! column 'Barn' (mapped to children) is not in the header; kind 'Vräkning' is not a "
                                 "signal kind and not listed under map.kind.values");
        signal_row_done(&row);
}

/* Several missing columns: in the order of the fields' names as jsonb kept
 * them (shorter first), as reasons always listed them. */
static void test_missing_columns_order(void **state) {
        static char *const only[] = { (char *) "Ärende", NULL };
        _cleanup_(mapping_freep) struct mapping *m = NULL;

        (void) state;
        assert_int_equal(mapping_new(&config->feeds[0], only, today(), &m), 0);
        assert_string_equal(mapping_missing(m),
                            "column 'Ort' (mapped to city) is not in the header; column 'Typ' (mapped to kind) is not "
                            "in the header; column 'Skuld' (mapped to amount) is not in the header; column 'Adress' "
                            "(mapped to address) is not in the header; column 'Barn' (mapped to children) is not in "
                            "the header; column 'Sista dag' (mapped to deadline) is not in the header; column 'Lgh' "
                            "(mapped to apartment) is not in the header; column 'Personnummer' (mapped to person_id) "
                            "is not in the header; column 'Datum' (mapped to occurred_at) is not in the header; "
                            "column 'Postnr' (mapped to postal_code) is not in the header; column 'Månader' (mapped "
                            "to months_in_arrears) is not in the header");
}

static void test_json(void **state) {
        static const struct {
                const char *doc, *expected;
        } docs[] = {
                { "{\"case\": {\"id\": \"K1\"}, \"type\": \"avhysning\", \"date\": \"2026-03-20T08:00:00Z\", \"party\": "
                  "{\"pnr\": \"198112289874\", \"children\": 3}, \"claim\": 15000.5, \"applicant\": \"Hyresvärd AB\"}",
                  "K1 eviction_application 2026-03-20 - 198112289874 ch=3 15000.50 m=-1 Hyresvärd AB key=- pc=- "
                  "ll=HYRESVÄRDAB" },
                { "{\"case\": {\"id\": \"K2\"}, \"type\": \"förrättning\", \"date\": \"2026-04-15\", \"party\": "
                  "{\"pnr\": \"19850312-1231\", \"children\": \"4\"}, \"claim\": \"1 500,50\", \"applicant\": "
                  "\"Bostadsbolaget\"}",
                  "K2 eviction_scheduled 2026-04-15 2026-04-15 198503121231 ch=4 1500.50 m=-1 Bostadsbolaget key=- pc=- "
                  "ll=BOSTADSBOLAGET" },
                { "{\"case\": {\"id\": \"K6\"}, \"type\": \"Eviction_Cancelled\", \"date\": \"2026-03-25\", "
                  "\"party\": {\"pnr\": \"196509235674\"}}",
                  "K6 eviction_cancelled 2026-03-25 - 196509235674 ch=-1 - m=-1 - key=- pc=- ll=-" },
                { "{\"case\": {\"id\": \"K3\"}, \"type\": \"avhysning\", \"date\": \"2026-03-21\", \"party\": "
                  "{\"pnr\": \"15078549995\"}}",
                  "! person_id: looks like a Norwegian identity number, which this feed does not accept (identity: "
                  "se)" },
                { "{\"case\": {\"id\": \"K5\"}, \"type\": \"avhysning\", \"date\": \"2026-03-23\", \"hearing\": "
                  "\"15.04.2026\", \"party\": {\"pnr\": \"198804046780\"}}",
                  "! deadline '15.04.2026' is not a date of the form YYYY-MM-DD" },
                /* The last of duplicate keys; \u escapes; a number's text as
                 * numeric writes it; an object as jsonb prints it. */
                { "{\"case\": {\"id\": \"X1\", \"id\": \"X\\u0032\"}, \"type\": \"arrears\", \"date\": "
                  "\"2026-03-01\", \"claim\": 1.5e2, \"home\": {\"street\": {\"b\": 1, \"a\": [true, null]}, "
                  "\"zip\": 60223}}",
                  "X2 arrears 2026-03-01 - - ch=-1 150.00 m=-1 - key={A[TRUENULL]B1}|60223| pc=60223 ll=-" },
        };
        _cleanup_(mapping_freep) struct mapping *m = NULL;
        struct signal_row row = {};

        (void) state;
        assert_int_equal(mapping_new(&config->feeds[1], NULL, today(), &m), 0);
        for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
                char got[800];

                describe(mapping_map_json(m, docs[i].doc, strlen(docs[i].doc), &row), &row, got, sizeof got);
                if (strcmp(got, docs[i].expected) != 0)
                        fail_msg("doc %zu:\n  got      %s\n  expected %s", i, got, docs[i].expected);
        }
        /* Characters, not bytes, count: 200 two-byte letters are 200
         * characters; 250 are too many. */
        for (unsigned n = 200; n <= 250; n += 50) {
                struct buf doc = {};
                char got[800];
                int k;

                (void) buf_puts(&doc, "{\"case\": {\"id\": \"J\"}, \"type\": \"arrears\", \"date\": \"2026-03-01\", "
                                      "\"home\": {\"zip\": \"603 10\", \"street\": \"");
                for (unsigned i = 0; i < n; i++)
                        (void) buf_puts(&doc, "Å");
                (void) buf_puts(&doc, "\"}}");
                k = mapping_map_json(m, doc.data, doc.len, &row);
                describe(k, &row, got, sizeof got);
                if (n == 200)
                        assert_int_equal(k, 0);
                else
                        assert_string_equal(got, "! address has 250 characters, more than the 200 allowed");
                buf_free(&doc);
        }
        signal_row_done(&row);
}

/* Every field over its limit is named, in the canonical order, and only
 * that; a row at every limit passes, spaces around a value not counted. */
static void test_lengths(void **state) {
        static const struct { unsigned max; const char *name; } limits[] = {
                { 200, "external_id" }, { 100, "kind" }, { 40, "occurred_at" }, { 40, "deadline" },
                { 40, "person_id" }, { 200, "name" }, { 200, "address" }, { 20, "postal_code" }, { 100, "city" },
                { 20, "apartment" }, { 20, "children" }, { 40, "amount" }, { 20, "months_in_arrears" },
                { 200, "landlord" }, { 40, "notified_at" }, { 20, "municipality_code" },
        };
        struct signal_rules rules = { .date_format = DATE_YYYY_MM_DD, .today = today() };
        struct signal_row row = {};
        struct buf expected = {};
        char text[256];

        (void) state;
        for (size_t f = 0; f < _FIELD_MAX; f++) {
                assert_string_equal(canonical_field_names[f], limits[f].name);
                assert_int_equal(signal_field_max[f], limits[f].max);
        }
        signal_row_clear(&row);
        for (size_t f = 0; f < _FIELD_MAX; f++) {
                memset(text, 'x', signal_field_max[f] + 1);
                text[signal_field_max[f] + 1] = 0;
                assert_int_equal(signal_row_set(&row, f, text, strlen(text)), 0);
                (void) buf_printf(&expected, "%s%s has %u characters, more than the %u allowed", f ? "; " : "",
                                  canonical_field_names[f], signal_field_max[f] + 1, signal_field_max[f]);
        }
        assert_int_equal(signal_validate(&rules, "a missing column", false, &row), 1);
        assert_string_equal(row.reason.data, expected.data);

        signal_row_clear(&row);
        memset(text, ' ', 2);
        memset(text + 2, 'n', 200);
        memset(text + 202, ' ', 2);
        text[204] = 0;
        assert_int_equal(signal_row_set(&row, FIELD_NAME, text, strlen(text)), 0);
        assert_int_equal(signal_row_set(&row, FIELD_EXTERNAL_ID, "Y1", 2), 0);
        assert_int_equal(signal_row_set(&row, FIELD_KIND, "arrears", 7), 0);
        assert_int_equal(signal_row_set(&row, FIELD_OCCURRED_AT, "2026-11-01", 10), 0);
        assert_int_equal(signal_row_set(&row, FIELD_ADDRESS, "Gatan 1", 7), 0);
        assert_int_equal(signal_row_set(&row, FIELD_POSTAL_CODE, "602 23", 6), 0);
        assert_int_equal(signal_validate(&rules, NULL, false, &row), 0);
        assert_int_equal(strlen(row.text[FIELD_NAME]), 200);
        buf_free(&expected);
        signal_row_done(&row);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_csv_fetch),
                cmocka_unit_test(test_missing_column),
                cmocka_unit_test(test_missing_columns_order),
                cmocka_unit_test(test_json),
                cmocka_unit_test(test_lengths),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
