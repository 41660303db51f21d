/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A notice registered by hand: a letter from a landlord, an e-mail from
 * the enforcement agency, typed into bokvar-web's form or given to
 * bokvarctl signal add, with the canonical fields as a person writes them. It is read and
 * validated by the rules of every feed's row (signal-row.h), those of the
 * feed "manual": dates as YYYY-MM-DD, amounts the Nordic way (12 345,50),
 * an identity number of any country bokvar knows, the kind's own name.
 * What is right is handed to bokvar.signal_register() as the typed row the
 * ingest merges; nothing is checked again there. */
#pragma once

#include <stddef.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/ingest/signal-row.h"

/* What is wrong with a notice, in the ingest's own words (a quarantined
 * row's reason; "person_id: " left off an identity number's). */
struct notice_problem {
        int field;              /* enum canonical_field; -1 for the notice as a whole */
        char *problem;
};

/* Reads and validates the texts set in row (signal_row_set; external_id
 * is set here) as a notice written on day today. 0 when it is a signal;
 * 1 when not, with what is wrong in *ret_problems (*ret_n of them, to free
 * with notice_problems_free()), field by field: each field given (and kind
 * and occurred_at, which must be) is tried alone in a notice that is
 * otherwise right, and what no single field explains, such as nothing to
 * match a home by, is said of the whole. A field that is not UTF-8 is
 * said first, alone: no rule reads it. -ENOMEM. */
int notice_check(struct signal_row *row, day_t today, struct notice_problem **ret_problems, size_t *ret_n);
/* The same, with the deadline a notice does not give derived by
 * jurisdiction j's law (notice_check(): Sweden's). */
int notice_check_in(struct signal_row *row, day_t today, enum jurisdiction j, struct notice_problem **ret_problems,
                    size_t *ret_n);
void notice_problems_free(struct notice_problem *p, size_t n);

/* The signal row holds (notice_check() returned 0) as the JSON object
 * bokvar.signal_register() takes: the typed staging table's columns from
 * kind to landlord_key, those that are set. */
void notice_write_json(const struct signal_row *row, struct json_writer *w);
