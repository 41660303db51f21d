/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A feed's mapping as the one jsonb parameter the ingest SQL takes: the
 * mapping travels as data, never as SQL text. */
#pragma once

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"

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
