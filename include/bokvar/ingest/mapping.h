/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A feed's mapping (map: in bokvar.yaml) applied to its records: each
 * canonical field from a CSV column (found by name in the fetch's header),
 * a JSON path, or a constant, then read and validated as signal-row.h
 * says. A mapping is made for one fetch, since a CSV header may order its
 * columns differently each time, and is used for every record of it. */
#pragma once

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/signal-row.h"

struct mapping;

/* The mapping of feed f for one fetch: header is the CSV header's column
 * names (NULL-terminated; NULL for JSON feeds), today the day identity
 * numbers are read against. f and header must outlive the mapping. */
int mapping_new(const struct feed_config *f, char *const *header, day_t today, struct mapping **ret);
struct mapping *mapping_free(struct mapping *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct mapping *, mapping_free);

/* The mapped columns the header lacks, as every row's first reason
 * ("column 'Barn' (mapped to children) is not in the header"), or NULL. */
const char *mapping_missing(const struct mapping *m);

/* Maps a CSV record (n fields, NULL for empty ones) into row: 0 when it is
 * a signal, 1 when not (row->reason says why), -ENOMEM. */
int mapping_map_fields(struct mapping *m, char *const *fields, size_t n, struct signal_row *row);
/* The same for a JSON record (an object the reader validated). */
int mapping_map_json(struct mapping *m, const char *json, size_t len, struct signal_row *row);

/* A quarantined record as an operator may see it without reading personal
 * data: the fields that are never personal (external_id, kind,
 * occurred_at, deadline, children, amount, months_in_arrears) as they
 * are, an identity number as its date of birth (when it is a valid one of
 * any country), blank fields blank, everything else "***". A CSV record
 * (n fields) as a CSV line again, by the header's column names; 0 or
 * -ENOMEM. */
int mapping_mask_fields(struct mapping *m, char *const *fields, size_t n, struct buf *out);
/* The JSON record mapping_map_json() read last, path by path, as jsonb
 * prints it. */
int mapping_mask_json(struct mapping *m, struct buf *out);

/* An identity number as anyone may see it: its date of birth
 * ("19811228-****", "150785*****"), or stars. */
void mapping_mask_identity(const char *id, char *out, size_t size);

/* Writes the mapping of feed f as one JSON value, where w expects a value.
 * A CSV feed's, with a constant and a value map:
 *   {"source": "landlord", "format": "csv", "delimiter": ";", "decimal_comma": true,
 *    "date_format": "DD.MM.YYYY", "identity": ["se"],
 *    "fields": {"external_id": {"column": "Ärende"},
 *               "kind": {"column": "Typ", "values": {"Uppsägning": "termination_notice"}},
 *               "landlord": {"value": "Hyresvärd AB"}}}
 * A JSON feed's fields name a dot path, as an array of keys, instead of a
 * column: "address": {"path": ["home", "street"]}. The fields are the
 * canonical ones the feed maps, in canonical_field_names' order; "identity"
 * is left out when the feed names no countries. Errors are the writer's:
 * json_writer_finish() returns the first. */
void mapping_write_json(struct json_writer *w, const struct feed_config *f);
/* The same as a document of its own, appended to out: 0, or -ENOMEM. */
int mapping_to_json(const struct feed_config *f, struct buf *out);
