/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daemon's scoring work outside ingests: loading a new ruleset and
 * rescoring every household under it, and the daily rescore (scores depend
 * on the date: deadlines come nearer, signals leave the window). It runs on
 * a connection of its own, one job at a time, never blocking the loop. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/config/config.h"

struct scorer;

/* Called when a job is done: what it did in one sentence, or why it failed. */
typedef void (*scorer_done_fn)(bool ok, const char *what, void *userdata);

int scorer_new(sd_event *event, struct config *config, scorer_done_fn done, void *userdata, struct scorer **ret);
struct scorer *scorer_free(struct scorer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct scorer *, scorer_free);

/* Loads the configuration's rules (a new version if they differ from those
 * in force) and, if new or when force_rescore, rescores every household. */
void scorer_load_rules(struct scorer *s, struct config *config, bool force_rescore);
/* With retry, a failed job's work is done again after a backoff (30s,
 * doubling, at most 10m); without, it is dropped (and reported). */
void scorer_retry_failed(struct scorer *s, bool retry);
/* The daily rescore; nothing if it was done today (by any daemon). */
void scorer_daily(struct scorer *s);
/* No job running or waiting. */
bool scorer_idle(const struct scorer *s);
