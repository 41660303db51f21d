/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzzes a notice registered by hand (bokvar-web's form, bokvarctl signal
 * add): lines "field=value" set the canonical fields (the first byte of the
 * input picks Sweden's or Norway's law), then the notice is checked field
 * by field as notice.h says. Whatever is typed: a notice is a signal or has
 * at least one problem, never both; a signal is written as a JSON object
 * that parses again; and no problem repeats the identity number, the name
 * or the address typed (the same words are a quarantined row's reason,
 * which operators read). */
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-scan.h"
#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/util.h"
#include "bokvar/ingest/notice.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *p = (const char *) data, *end = p + size;
        struct signal_row row = {};
        struct notice_problem *problems = NULL;
        char person[64] = "";
        struct buf out = {};
        struct json_writer w;
        bool object = false;
        enum jurisdiction j;
        day_t today;
        size_t n = 0;
        int r;

        if (size < 1 || day_from_ymd(2026, 12, 5, &today) < 0)
                return 0;
        j = data[0] & 1 ? JURISDICTION_NO : JURISDICTION_SE;
        p++;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p)), *eq;
                int f;

                if (!eol)
                        eol = end;
                eq = memchr(p, '=', (size_t) (eol - p));
                f = eq ? canonical_field_find(p, (size_t) (eq - p)) : -1;
                if (f >= 0) {
                        if (signal_row_set(&row, f, eq + 1, (size_t) (eol - eq - 1)) < 0)
                                abort();
                        if (f == FIELD_PERSON_ID && (size_t) (eol - eq - 1) < sizeof person) {
                                memcpy(person, eq + 1, (size_t) (eol - eq - 1));
                                person[eol - eq - 1] = 0;
                        }
                }
                p = eol + (eol < end);
        }

        r = notice_check_in(&row, today, j, &problems, &n);
        if (r == 0) {
                if (n != 0)
                        abort();
                json_writer_init(&w, &out);
                notice_write_json(&row, &w);
                if (json_writer_finish(&w) < 0)
                        abort();
                if (json_validate(out.data ? out.data : "", out.len, &object, NULL, 0) < 0 || !object)
                        abort();
        } else if (r == 1) {
                if (n == 0)
                        abort();
                for (size_t i = 0; i < n; i++) {
                        int f = problems[i].field;

                        if (!problems[i].problem || !*problems[i].problem || f < -1 || f >= _FIELD_MAX)
                                abort();
                        /* The identity number, the name and the address are
                         * never repeated: not in their own problem, not in
                         * the notice's. (A date, kind or amount is, as it
                         * was typed: quarantine shows those fields too.) */
                        if ((f == FIELD_PERSON_ID || f == -1) && strlen(person) >= 6 &&
                            strstr(problems[i].problem, person))
                                abort();
                        if ((f == FIELD_NAME || f == FIELD_ADDRESS) && row.text[f] && strlen(row.text[f]) >= 6 &&
                            strstr(problems[i].problem, row.text[f]))
                                abort();
                }
        } else if (r != -ENOMEM)
                abort();
        notice_problems_free(problems, n);
        buf_free(&out);
        signal_row_done(&row);
        return 0;
}
