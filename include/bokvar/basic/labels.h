/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What people read for the vocabulary's words (signal kinds, sources, risk
 * classes, outcomes, contact channels), in the language l10n_use() chose.
 * The stored values stay as they are; only what is shown is translated.
 * Each table has one entry per value of its SQL enum type (the build fails
 * when a migration adds a value without a label). */
#pragma once

/* The label of a value, or the value itself when it is not one of the
 * type's (NULL gives NULL). */
const char *label_signal_kind(const char *kind);
const char *label_feed_source(const char *source);
const char *label_risk_class(const char *risk_class);
const char *label_task_outcome(const char *outcome);
const char *label_contact_channel(const char *channel);
/* What happened to a task (bokvar.task_event's kinds, the outbox's too). */
const char *label_task_event(const char *kind);
/* A function of person (bokvar.actor_function). */
const char *label_actor_function(const char *function);
/* What a read of personal data went through (bokvar.access_log's path). */
const char *label_access_path(const char *path);
