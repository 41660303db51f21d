/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A notice registered by hand, read as the manual feed's row. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/util.h"
#include "bokvar/ingest/notice.h"

static struct signal_rules manual_rules(day_t today, enum jurisdiction j) {
        return (struct signal_rules) {
                .date_format = DATE_YYYY_MM_DD,
                .decimal_comma = true,
                .today = today,
                .jurisdiction = j,
        };
}

void notice_problems_free(struct notice_problem *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(p[i].problem);
        free(p);
}

static int problem_add(struct notice_problem **p, size_t *n, int field, const char *text) {
        struct notice_problem *np = realloc(*p, (*n + 1) * sizeof **p);

        if (!np)
                return -ENOMEM;
        *p = np;
        np[*n].field = field;
        np[*n].problem = strdup(text);
        if (!np[*n].problem)
                return -ENOMEM;
        (*n)++;
        return 0;
}

/* Field f of row alone, in a notice that is right without it: today's
 * arrears at address "x", postal code "0". 1 with trial->reason saying
 * what is wrong with it, 0 when nothing is. */
static int try_alone(const struct signal_rules *rules, const struct signal_row *row, enum canonical_field f,
                     struct signal_row *trial) {
        char today[11];
        const char *v = row->text[f];

        signal_row_clear(trial);
        day_format(rules->today, today);
        if (signal_row_set(trial, FIELD_EXTERNAL_ID, canonical_field_names[f], strlen(canonical_field_names[f])) < 0 ||
            signal_row_set(trial, FIELD_KIND, "arrears", strlen("arrears")) < 0 ||
            signal_row_set(trial, FIELD_OCCURRED_AT, today, strlen(today)) < 0 ||
            signal_row_set(trial, FIELD_ADDRESS, "x", 1) < 0 || signal_row_set(trial, FIELD_POSTAL_CODE, "0", 1) < 0 ||
            signal_row_set(trial, f, v, v ? strlen(v) : 0) < 0)
                return -ENOMEM;
        return signal_validate(rules, NULL, false, trial);
}

int notice_check(struct signal_row *row, day_t today, struct notice_problem **ret_problems, size_t *ret_n) {
        return notice_check_in(row, today, JURISDICTION_SE, ret_problems, ret_n);
}

int notice_check_in(struct signal_row *row, day_t today, enum jurisdiction j, struct notice_problem **ret_problems,
                    size_t *ret_n) {
        static const char id_prefix[] = "person_id: ";
        const struct signal_rules rules = manual_rules(today, j);
        struct signal_row trial = {};
        struct notice_problem *p = NULL;
        size_t n = 0;
        int k;

        *ret_problems = NULL;
        *ret_n = 0;
        /* bokvar.signal_register() names the record after its fetch. */
        if (signal_row_set(row, FIELD_EXTERNAL_ID, "manual", strlen("manual")) < 0)
                return -ENOMEM;
        /* Text that is not UTF-8 is said of its field, and no rule reads
         * it: bokvarctl's arguments and files can carry any bytes (a feed's
         * reader refuses them by record, bokvar-web's form by field), and
         * the database refuses them as a whole. The byte, not the value:
         * it may be an identity number. */
        for (int f = 0; f < _FIELD_MAX; f++) {
                char why[96];
                size_t bad;

                if (!row->text[f] || utf8_valid(row->text[f], strlen(row->text[f]), &bad))
                        continue;
                (void) snprintf(why, sizeof why, "%s is not UTF-8 text (byte %zu is 0x%02X)", canonical_field_names[f],
                                bad + 1, (unsigned) (unsigned char) row->text[f][bad]);
                if (problem_add(&p, &n, f, why) < 0)
                        goto fail;
        }
        if (n > 0) {
                *ret_problems = p;
                *ret_n = n;
                return 1;
        }
        k = signal_validate(&rules, NULL, false, row);
        if (k <= 0)
                return k;

        for (int f = FIELD_KIND; f < _FIELD_MAX; f++) {
                const char *why;

                if (!row->text[f] && f != FIELD_KIND && f != FIELD_OCCURRED_AT)
                        continue;
                k = try_alone(&rules, row, f, &trial);
                if (k < 0)
                        goto fail;
                if (k == 0)
                        continue;
                why = trial.reason.data;
                if (f == FIELD_PERSON_ID && strncmp(why, id_prefix, strlen(id_prefix)) == 0)
                        why += strlen(id_prefix);
                if (problem_add(&p, &n, f, why) < 0)
                        goto fail;
        }
        if (n == 0 && problem_add(&p, &n, -1, row->reason.data) < 0)
                goto fail;
        signal_row_done(&trial);
        *ret_problems = p;
        *ret_n = n;
        return 1;
fail:
        signal_row_done(&trial);
        notice_problems_free(p, n);
        return -ENOMEM;
}

void notice_write_json(const struct signal_row *row, struct json_writer *w) {
        static const enum canonical_field texts[] = {
                FIELD_NAME, FIELD_ADDRESS, FIELD_POSTAL_CODE, FIELD_CITY, FIELD_APARTMENT, FIELD_LANDLORD,
        };
        char day[11], amount[24];

        json_object_begin(w);
        json_key_string(w, "kind", signal_kind_names[row->kind]);
        json_key_string(w, "occurred_at", day_format(row->occurred_at, day));
        if (row->deadline != DAY_NONE)
                json_key_string(w, "deadline", day_format(row->deadline, day));
        if (row->person_id[0])
                json_key_string(w, "person_id", row->person_id);
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                if (row->text[texts[i]])
                        json_key_string(w, canonical_field_names[texts[i]], row->text[texts[i]]);
        if (row->children >= 0)
                json_key_int(w, "children", row->children);
        if (row->amount >= 0)
                json_key_string(w, "amount", canonical_amount_format(row->amount, amount));
        if (row->months_in_arrears >= 0)
                json_key_int(w, "months_in_arrears", row->months_in_arrears);
        if (row->has_address_key)
                json_key_string(w, "address_key", row->address_key.data);
        if (row->has_postal_key)
                json_key_string(w, "postal_key", row->postal_key.data);
        if (row->has_city_key)
                json_key_string(w, "city_key", row->city_key.data);
        if (row->has_landlord_key)
                json_key_string(w, "landlord_key", row->landlord_key.data);
        json_object_end(w);
}
