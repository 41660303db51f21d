/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The deadline the law sets for a signal whose feed gives none, by the
 * feed's jurisdiction (jurisdiction: se or no): the one definition of
 * these windows (signal-row.c derives every signal's deadline through it;
 * the database has no copy). A pure function of its arguments. */
#pragma once

#include "bokvar/basic/vocabulary.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/ingest/canonical.h"

/* The deadline of a signal of kind kind that occurred on occurred_at,
 * under jurisdiction j; notified_at (DAY_NONE when not given) is the day
 * social services were notified of it. DAY_NONE when the law sets none
 * for the kind. */
day_t deadline_derive(enum jurisdiction j, enum signal_kind kind, day_t occurred_at, day_t notified_at);
