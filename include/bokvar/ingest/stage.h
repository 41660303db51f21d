/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The records a reader finds, mapped and validated (mapping.h), as rows of
 * COPY text for the typed staging table pg_temp.stage that
 * bokvar.stage_table() makes (sql/010_speed.sql has its columns). What C
 * promises the SQL of every staged row:
 *
 *   - a record outside a regional feed's area (only:, region.h) is not
 *     staged at all, only counted (filtered);
 *   - seq numbers the records of the fetch from 1, line is where each
 *     starts in the body;
 *   - reason is NULL for a signal: external_id, kind and occurred_at are
 *     set; deadline is given or derived; person_id is normalised; at least
 *     one of person_id and address_key is set; postal_key, city_key and
 *     landlord_key are those fields as normalised words (word.h); the
 *     fields' texts are trimmed and within their maximum lengths;
 *   - reason is set for a row to quarantine, with raw (the record as
 *     delivered: the CSV line written back, or the reader's rendering of
 *     an unreadable record; NULL for a JSON record, whose document is its
 *     raw text), fields (CSV) or doc (JSON) for a retry under a mended
 *     mapping, and masked (what operators see without reading personal
 *     data, mapping.h; NULL for an unreadable record); its typed columns
 *     are NULL;
 *   - ids_ascending (stage_ids_ascending()) holds only when the external
 *     ids of the signals, in seq order, are strictly ascending as bytes
 *     (COLLATE "C"): then no record is staged twice, and the SQL need
 *     not look for the same record twice (sql/017_ingest_latest.sql).
 *
 * Memory is the longest record's, never the body's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/util.h"
#include "bokvar/ingest/mapping.h"
#include "bokvar/ingest/reader.h"

/* Creates the staging table (in the transaction, dropped at its end). */
#define STAGE_CREATE_SQL "SELECT bokvar.stage_create()"
#define STAGE_COPY_SQL                                                                                          \
        "COPY stage (seq, line, external_id, kind, occurred_at, deadline, person_id, name, address, "          \
        "postal_code, city, apartment, children, amount, months_in_arrears, landlord, address_key, postal_key, " \
        "city_key, landlord_key, reason, raw, fields, doc, masked) FROM STDIN"

struct stage {
        /* From stage_init(). */
        const struct feed_config *feed;
        day_t today;

        struct buf out;        /* COPY text not yet handed on */
        char **header;         /* CSV column names */
        uint64_t rows;         /* rows staged, readable or not */
        uint64_t quarantined;  /* ... of which are to be quarantined */
        uint64_t filtered;     /* records outside a regional feed's area (only:): read, never staged */
        char *next;            /* JSON paging: the next page's URL or cursor */
        struct buf last_id;    /* the external id of the last signal staged, */
        bool has_last_id;      /* ... once there was one */
        bool ids_unordered;    /* a signal's external id was not above the one before */
        struct mapping *mapping;
        struct signal_row row;
};

/* Before a fetch's records: the feed, and the day its identity numbers are
 * read against. */
void stage_init(struct stage *s, const struct feed_config *feed, day_t today);

/* The reader callbacks that fill a stage (userdata: struct stage *); a
 * record already read (a quarantined row retried) is staged through them
 * too, its fetch's header first. */
extern const struct reader_ops stage_reader_ops;

/* Whether the external ids of the signals staged so far are strictly
 * ascending (true for none or one): the same record is then not twice in
 * the fetch. */
static inline bool stage_ids_ascending(const struct stage *s) {
        return !s->ids_unordered;
}

void stage_done(struct stage *s);
