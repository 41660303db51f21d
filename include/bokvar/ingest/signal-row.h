/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One record as the canonical signal: the text of each field, checked for
 * length, read into typed values and validated, with everything wrong with
 * it in one sentence (the reason an operator reads in the quarantine).
 * Where the texts come from (a CSV column, a JSON path, a constant; a form
 * a person filled in) is the caller's business: the rules are here, once,
 * for every way a signal enters. Nothing here allocates but the row's own
 * buffers, which a row reuses from record to record. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/canonical.h"
#include "bokvar/ingest/identity.h"

/* The longest value each field may have, in characters once the spaces
 * around it are trimmed: long enough for any real value, short enough that
 * the keys built from them stay far below a B-tree entry's limit. */
extern const unsigned signal_field_max[_FIELD_MAX];

/* How a feed's values are read. */
struct signal_rules {
        enum date_format date_format;
        bool decimal_comma;
        char *const *identity;        /* the countries accepted, in the feed's order; NULL: se, no, nl */
        char *const *kind_values;     /* pairs: the feed's word, a signal kind; NULL-terminated; may be NULL */
        day_t today;                  /* identity numbers are read against it */
        enum jurisdiction jurisdiction; /* whose law derives a deadline the feed does not give (deadline.h) */
};

struct signal_row {
        /* Each field's text, trimmed of spaces; NULL when empty or not
         * given. Points into the row's own storage. */
        const char *text[_FIELD_MAX];

        /* When reason is empty, the signal: */
        enum signal_kind kind;
        day_t occurred_at;
        day_t deadline;               /* given, else derived from the kind; DAY_NONE */
        char person_id[IDENTITY_MAX]; /* normalised; "" when none */
        int32_t children;             /* -1: none */
        int32_t months_in_arrears;    /* -1: none */
        int64_t amount;               /* hundredths; -1: none */
        /* Normalised words (word.h), each set when the has_ flag is: the
         * key a home is matched by (street|postal code|apartment), and the
         * postal code, city and landlord as teams are routed by. */
        bool has_address_key, has_postal_key, has_city_key, has_landlord_key;
        struct buf address_key, postal_key, city_key, landlord_key;

        /* Why it cannot be ingested; empty when it can. */
        struct buf reason;

        struct buf storage[_FIELD_MAX];
};

/* Forgets the last record's texts and outcome, keeping the memory. */
void signal_row_clear(struct signal_row *row);
void signal_row_done(struct signal_row *row);

/* Sets field f's text: n bytes of UTF-8 (NULL: not given), stored with the
 * spaces around it trimmed (spaces only, not tabs), NULL when nothing is
 * left. 0 or -ENOMEM. */
int signal_row_set(struct signal_row *row, enum canonical_field f, const char *v, size_t n);

/* Reads and validates the texts set: 0 when the row is a signal, 1 when
 * not (row->reason says why, every reason at once), -ENOMEM. A text over
 * its field's maximum length makes the reason name those fields alone
 * (nothing else can be read safely from such a row). prefix, when not
 * NULL, comes first in the reason and makes the row fail by itself (the
 * fetch's mapped columns its header lacks). amount_is_number: the amount
 * came as a JSON number, whose decimals follow a point whatever the feed
 * writes. */
int signal_validate(const struct signal_rules *rules, const char *prefix, bool amount_is_number,
                    struct signal_row *row);
