/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A regional feed's area (only: in bokvar.yaml): whether a record is about
 * a home in it, by its postal code or its municipality code. A record
 * outside is counted as filtered and never staged, so nothing of it is
 * stored anywhere (not even in the quarantine); one that says neither is
 * quarantined, since no rule can tell where it belongs. */
#pragma once

#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/signal-row.h"

enum region {
        REGION_INSIDE,    /* in the area, or the feed has no only: */
        REGION_OUTSIDE,   /* a code it gives is listed nowhere: filtered */
        REGION_UNKNOWN,   /* it gives none of the codes the feed's only: lists */
};

/* Where the texts set in row (signal_row_set; read or not) place it for
 * feed f; postal codes compare as normalised words (word.h), so "753 20"
 * is "75320", and a listed code ending in '*' matches what begins with
 * it. 0 with *ret, or -ENOMEM. */
int region_check(const struct feed_config *f, const struct signal_row *row, enum region *ret);

/* The reason a row of REGION_UNKNOWN is quarantined with. */
#define REGION_UNKNOWN_REASON                                                                                   \
        "neither postal_code nor municipality_code is given, so it cannot be told whether the row is in the "  \
        "feed's area (only:)"
