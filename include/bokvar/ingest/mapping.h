/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A feed's mapping as the one jsonb parameter the ingest SQL takes: the
 * mapping travels as data, never as SQL text. */
#pragma once

#include "bokvar/config/feed-config.h"
#include "bokvar/basic/util.h"

/* Writes the mapping of feed f as JSON:
 *   {"source": "landlord", "format": "csv", "delimiter": ";", "decimal_comma": true,
 *    "date_format": "DD.MM.YYYY", "identity": ["se"],
 *    "fields": {"external_id": {"column": "Ärende"},            (CSV)
 *               "case": {"path": ["case", "id"]},               (JSON dot path)
 *               "landlord": {"value": "Hyresvärd AB"},           (a constant)
 *               "kind": {"column": "Typ", "values": {"Uppsägning": "termination_notice"}}}} */
int mapping_to_json(const struct feed_config *f, struct buf *out);
