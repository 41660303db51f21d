/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Keeping the database in step with the configuration and the calendar:
 * teams, channels, task settings, people, retention and the feeds'
 * mappings (bokvar.config_sync), the ruleset (bokvar.ruleset_load) and the
 * full rescore a new ruleset calls for, and the daily pass: the rescore
 * (scores depend on the date: deadlines come nearer, signals leave the
 * window), then the purge of what retention no longer allows
 * (bokvar.purge_daily, in a transaction of its own). Teams are stored before the rules in the same
 * transaction, so the tasks a rescore opens are routed by the configuration
 * that came with it. One job at a time on a connection of its own, never
 * blocking the loop. Ingests score what they bring in themselves. */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/config/config.h"

struct syncer;

/* Called when a job is done: what it did in one sentence, or why it failed. */
typedef void (*syncer_done_fn)(bool ok, const char *what, void *userdata);
/* How far a rescore of many households got, every few seconds: "D of N
 * households, about T left" (the syncer has logged it). */
typedef void (*syncer_progress_fn)(const char *line, void *userdata);

int syncer_new(sd_event *event, struct config *config, syncer_done_fn done, void *userdata, struct syncer **ret);
struct syncer *syncer_free(struct syncer *s);
/* Progress goes to fn, with the userdata of syncer_new(). */
void syncer_on_progress(struct syncer *s, syncer_progress_fn fn);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct syncer *, syncer_free);

/* Stores the configuration's teams, channels and task settings, loads its
 * rules (a new version if they differ from those in force) and, if new or
 * when force_rescore, rescores every household. */
void syncer_apply(struct syncer *s, struct config *config, bool force_rescore);
/* With retry, a failed job's work is done again after a backoff (30s,
 * doubling, at most 10m); without, it is dropped (and reported). */
void syncer_retry_failed(struct syncer *s, bool retry);
/* The daily rescore and purge; nothing if they were done today (by any
 * daemon). */
void syncer_daily(struct syncer *s);
/* No job running or waiting. */
bool syncer_idle(const struct syncer *s);
