/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What an event's e-mail says: a subject and a plain text, in the team's
 * language, written from the event's own figures (what the outbox claim
 * returns as columns, all of it in the webhook's payload too), so that an
 * e-mail carries nothing the webhook does not: no name, no identity
 * number, no address. */
#pragma once

/* An event of a task, as the claim gives it. Values are the database's
 * text; NULL where it has none (no legal deadline, nobody assigned). */
struct mail_event {
        const char *event_id;
        const char *kind;          /* created, escalated, risk_lowered, overdue */
        const char *task_id;
        const char *team;
        const char *risk_class;
        const char *score;
        const char *due;           /* YYYY-MM-DD */
        const char *deadline;
        const char *children;
        const char *assignee;
        const char *rules;         /* the rules that fired, ", "-separated */
};

/* Writes ev's subject (one line, no line break) and text (lines apart by
 * \n) in lang, a built-in language (another, or NULL, gives English).
 * Returns -EINVAL for an event without its id or task, -ENOMEM. Sets the
 * catalogue in use for the time of writing only. */
int mail_write(const struct mail_event *ev, const char *lang, char **ret_subject, char **ret_text);
