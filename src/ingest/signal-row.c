/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A record's fields read and validated as the canonical signal. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/word.h"
#include "bokvar/ingest/deadline.h"
#include "bokvar/ingest/signal-row.h"

const unsigned signal_field_max[_FIELD_MAX] = {
        [FIELD_EXTERNAL_ID] = 200,
        [FIELD_KIND] = 100,
        [FIELD_OCCURRED_AT] = 40,
        [FIELD_DEADLINE] = 40,
        [FIELD_PERSON_ID] = 40,
        [FIELD_NAME] = 200,
        [FIELD_ADDRESS] = 200,
        [FIELD_POSTAL_CODE] = 20,
        [FIELD_CITY] = 100,
        [FIELD_APARTMENT] = 20,
        [FIELD_CHILDREN] = 20,
        [FIELD_AMOUNT] = 40,
        [FIELD_MONTHS_IN_ARREARS] = 20,
        [FIELD_LANDLORD] = 200,
        [FIELD_NOTIFIED_AT] = 40,
        [FIELD_MUNICIPALITY_CODE] = 20,
};

/* What signal_validate() finds, forgotten. */
static void outcome_clear(struct signal_row *row) {
        buf_clear(&row->reason);
        buf_clear(&row->address_key);
        buf_clear(&row->postal_key);
        buf_clear(&row->city_key);
        buf_clear(&row->landlord_key);
        row->has_address_key = row->has_postal_key = row->has_city_key = row->has_landlord_key = false;
        row->person_id[0] = 0;
        row->children = row->months_in_arrears = -1;
        row->amount = -1;
        row->occurred_at = row->deadline = DAY_NONE;
}

void signal_row_clear(struct signal_row *row) {
        for (size_t f = 0; f < _FIELD_MAX; f++)
                row->text[f] = NULL;
        outcome_clear(row);
}

void signal_row_done(struct signal_row *row) {
        for (size_t f = 0; f < _FIELD_MAX; f++)
                buf_free(&row->storage[f]);
        buf_free(&row->reason);
        buf_free(&row->address_key);
        buf_free(&row->postal_key);
        buf_free(&row->city_key);
        buf_free(&row->landlord_key);
}

int signal_row_set(struct signal_row *row, enum canonical_field f, const char *v, size_t n) {
        struct buf *b = &row->storage[f];

        row->text[f] = NULL;
        if (!v)
                return 0;
        while (n > 0 && *v == ' ')
                v++, n--;
        while (n > 0 && v[n - 1] == ' ')
                n--;
        if (n == 0)
                return 0;
        buf_clear(b);
        if (buf_put(b, v, n) < 0)
                return -ENOMEM;
        row->text[f] = b->data;
        return 0;
}

/* One more reason, after "; " when there are some. */
static int reason_begin(struct signal_row *row) {
        return row->reason.len > 0 ? buf_puts(&row->reason, "; ") : 0;
}

static int reason_add(struct signal_row *row, const char *what) {
        return reason_begin(row) < 0 ? -ENOMEM : buf_puts(&row->reason, what);
}

/* "<field> '<value>' <what>" */
static int reason_value(struct signal_row *row, const char *field, const char *value, const char *what) {
        if (reason_begin(row) < 0 || buf_puts(&row->reason, field) < 0 || buf_putc(&row->reason, ' ') < 0 ||
            canonical_quote(&row->reason, value) < 0 || buf_putc(&row->reason, ' ') < 0 ||
            buf_puts(&row->reason, what) < 0)
                return -ENOMEM;
        return 0;
}

/* The texts over their limit: only their lengths are reasons then. */
static int check_lengths(struct signal_row *row) {
        for (size_t f = 0; f < _FIELD_MAX; f++) {
                size_t chars;

                if (!row->text[f] || row->storage[f].len <= signal_field_max[f])
                        continue;
                chars = utf8_length(row->text[f], row->storage[f].len);
                if (chars <= signal_field_max[f])
                        continue;
                if (reason_begin(row) < 0 ||
                    buf_printf(&row->reason, "%s has %zu characters, more than the %u allowed", canonical_field_names[f],
                               chars, signal_field_max[f]) < 0)
                        return -ENOMEM;
        }
        return row->reason.len > 0;
}

static int read_date(struct signal_row *row, const struct signal_rules *rules, enum canonical_field f, day_t *ret) {
        const char *t = row->text[f];
        char what[64];

        if (canonical_date(t, rules->date_format, ret) == 0)
                return 0;
        (void) snprintf(what, sizeof what, "is not a date of the form %s", date_format_names[rules->date_format]);
        return reason_value(row, canonical_field_names[f], t, what);
}

static int read_count(struct signal_row *row, enum canonical_field f, int32_t *ret) {
        const char *t = row->text[f];

        if (!t || canonical_count(t, ret) == 0)
                return 0;
        return reason_value(row, canonical_field_names[f], t, "is not a whole number of 0 or more");
}

int signal_validate(const struct signal_rules *rules, const char *prefix, bool amount_is_number,
                    struct signal_row *row) {
        const char *const *t = row->text;
        bool kind_ok = false, id_problem = false;
        day_t deadline = DAY_NONE, notified_at = DAY_NONE;
        int k;

        outcome_clear(row);
        k = check_lengths(row);
        if (k != 0)
                return k;
        if (prefix && buf_puts(&row->reason, prefix) < 0)
                return -ENOMEM;

        if (!t[FIELD_EXTERNAL_ID] && reason_add(row, "external_id is empty") < 0)
                return -ENOMEM;

        if (!t[FIELD_KIND]) {
                if (reason_add(row, "kind is empty") < 0)
                        return -ENOMEM;
        } else if (canonical_kind(t[FIELD_KIND], rules->kind_values, &row->kind) == 0)
                kind_ok = true;
        else if (reason_value(row, "kind", t[FIELD_KIND], "is not a signal kind and not listed under map.kind.values") <
                 0)
                return -ENOMEM;

        if (!t[FIELD_OCCURRED_AT]) {
                if (reason_add(row, "occurred_at is empty") < 0)
                        return -ENOMEM;
        } else if (read_date(row, rules, FIELD_OCCURRED_AT, &row->occurred_at) < 0)
                return -ENOMEM;

        if (t[FIELD_DEADLINE] && read_date(row, rules, FIELD_DEADLINE, &deadline) < 0)
                return -ENOMEM;
        if (t[FIELD_NOTIFIED_AT] && read_date(row, rules, FIELD_NOTIFIED_AT, &notified_at) < 0)
                return -ENOMEM;

        if (t[FIELD_PERSON_ID]) {
                char problem[256];

                if (identity_number(t[FIELD_PERSON_ID], rules->today, rules->identity, row->person_id, problem,
                                    sizeof problem) != 0) {
                        row->person_id[0] = 0;
                        id_problem = true;
                        if (reason_begin(row) < 0 || buf_puts(&row->reason, "person_id: ") < 0 ||
                            buf_puts(&row->reason, problem) < 0)
                                return -ENOMEM;
                }
        }

        if (read_count(row, FIELD_CHILDREN, &row->children) < 0)
                return -ENOMEM;

        if (t[FIELD_AMOUNT] &&
            canonical_amount(t[FIELD_AMOUNT], rules->decimal_comma && !amount_is_number, &row->amount) < 0 &&
            reason_value(row, "amount", t[FIELD_AMOUNT],
                         rules->decimal_comma && !amount_is_number
                                 ? "is not an amount of 0 or more with at most two decimals (decimal comma)"
                                 : "is not an amount of 0 or more with at most two decimals") < 0)
                return -ENOMEM;

        if (read_count(row, FIELD_MONTHS_IN_ARREARS, &row->months_in_arrears) < 0)
                return -ENOMEM;

        k = canonical_address_key(t[FIELD_ADDRESS], t[FIELD_POSTAL_CODE], t[FIELD_APARTMENT], &row->address_key);
        if (k < 0)
                return k;
        row->has_address_key = k > 0;
        if (!row->person_id[0] && !id_problem && !row->has_address_key &&
            reason_add(row, "neither person_id nor an address with postal_code is given, so the signal cannot be "
                            "matched to a home") < 0)
                return -ENOMEM;

        if (row->reason.len > 0)
                return 1;

        if (t[FIELD_POSTAL_CODE] && (k = word_normalize(t[FIELD_POSTAL_CODE], &row->postal_key)) != 0) {
                if (k < 0)
                        return k;
                row->has_postal_key = true;
        }
        if (t[FIELD_CITY] && (k = word_normalize(t[FIELD_CITY], &row->city_key)) != 0) {
                if (k < 0)
                        return k;
                row->has_city_key = true;
        }
        if (t[FIELD_LANDLORD] && (k = word_normalize(t[FIELD_LANDLORD], &row->landlord_key)) != 0) {
                if (k < 0)
                        return k;
                row->has_landlord_key = true;
        }
        /* The feed's own deadline wins: it is what the letter says. */
        row->deadline = deadline != DAY_NONE ? deadline
                        : kind_ok ? deadline_derive(rules->jurisdiction, row->kind, row->occurred_at, notified_at)
                                  : DAY_NONE;
        return 0;
}
