/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzzes the path from a feed's bytes to COPY text: the CSV, NDJSON and
 * JSON readers, the mapping of each record onto the canonical signal with
 * its validation and masking, and the stage. The first byte picks the
 * feed's format and options, the second how the body is split into reads;
 * the rest is the body. Whatever comes in, the COPY text must be well
 * formed: the stage's 25 columns a row, no raw tabs or newlines inside a
 * column, valid UTF-8, and JSON that parses again. */
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-scan.h"
#include "bokvar/basic/util.h"
#include "bokvar/ingest/reader.h"
#include "bokvar/ingest/stage.h"
#include "fuzz.h"

/* Undoes COPY's text escaping of one column. */
static void unescape(const char *s, size_t n, struct buf *out) {
        buf_clear(out);
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '\\' && i + 1 < n) {
                        c = s[++i];
                        c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
                }
                (void) buf_putc(out, c);
        }
}

static void check_copy_text(const struct buf *b) {
        struct buf col = {};
        const char *p = b->data ? b->data : "", *end = p + b->len;

        if (!utf8_valid(p, b->len, NULL))
                abort();
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *c = p;
                int columns = 1;

                if (!nl)
                        abort();
                for (const char *q = p; q < nl; q++)
                        if (*q == '\t')
                                columns++;
                if (columns != 25)
                        abort();
                /* The doc column (the 24th) must be JSON that parses again. */
                for (int k = 0; k < 23; k++)
                        c = memchr(c, '\t', (size_t) (nl - c)) + 1;
                const char *e = memchr(c, '\t', (size_t) (nl - c));
                if (!(e - c == 2 && c[0] == '\\' && c[1] == 'N')) {
                        bool object;

                        unescape(c, (size_t) (e - c), &col);
                        if (json_validate(col.data ? col.data : "", col.len, &object, NULL, 0) < 0 || !object)
                                abort();
                }
                p = nl + 1;
        }
        buf_free(&col);
}

/* Where each field comes from: CSV columns by name (or number, without
 * a header), JSON paths; a constant landlord. */
static void map(struct feed_config *f) {
        static const char *const csv[] = { "id", "kind", "date", "due", "pnr", "name", "street", "zip", "city",
                                           "apt", "kids", "amount", "months" };
        static const char *const numbered[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13" };
        static const char *const json[] = { "case.id", "kind", "date", "due", "p.pnr", "p.name", "home.0.street",
                                            "home.-1.zip", "city", "apt", "kids", "amount", "months" };
        static char *values[] = { (char *) "Påminnelse", (char *) "arrears", NULL };

        for (size_t i = 0; i < 13; i++) {
                f->map[i].set = true;
                f->map[i].from = (char *) (f->format != FEED_FORMAT_CSV ? json[i] : f->csv.header ? csv[i] : numbered[i]);
        }
        f->map[FIELD_KIND].values = values;
        f->map[FIELD_LANDLORD].set = true;
        f->map[FIELD_LANDLORD].value = (char *) "Hyresvärd AB";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct feed_config f = {
                .csv = { .delimiter = ';', .quote = '"', .header = true },
        };
        struct stage s = {};
        struct reader *r = NULL;
        size_t chunk;

        if (size < 2)
                return 0;
        switch (data[0] % 6) {
        case 0: f.format = FEED_FORMAT_CSV; break;
        case 1: f.format = FEED_FORMAT_CSV; f.csv.encoding = (char *) "WINDOWS-1252"; break;
        case 2: f.format = FEED_FORMAT_CSV; f.csv.header = false; f.csv.delimiter = ','; f.csv.skip_lines = 1; break;
        case 3: f.format = FEED_FORMAT_NDJSON; break;
        case 4: f.format = FEED_FORMAT_JSON; f.records = (char *) "items"; f.paging.next = (char *) "next"; break;
        default: f.format = FEED_FORMAT_JSON; break;
        }
        f.decimal_comma = data[0] & 0x40;
        f.date_format = (char *) (data[0] & 0x80 ? "DD.MM.YYYY" : "YYYY-MM-DD");
        map(&f);
        chunk = (size_t) data[1] + 1;
        data += 2;
        size -= 2;

        stage_init(&s, &f, 9556);   /* 2026-03-01 */
        if (reader_new(&f, &stage_reader_ops, &s, &r) < 0)
                return 0;
        for (size_t i = 0; i < size; i += chunk)
                if (reader_feed(r, (const char *) data + i, MIN(chunk, size - i)) < 0)
                        break;
        (void) reader_finish(r);
        check_copy_text(&s.out);
        reader_free(r);
        stage_done(&s);
        return 0;
}
