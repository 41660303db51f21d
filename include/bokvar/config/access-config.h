/* SPDX-License-Identifier: GPL-3.0-or-later */
/* people: and retention: in bokvar.yaml: who acts in bokvar besides the
 * teams' caseworkers (coordinators, operators, auditors, case systems), and
 * how long personal data is kept before the purge deletes it. A login is
 * the PostgreSQL role of a person (or of a case system); the database maps
 * each session to its actor by it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/yamldoc.h"

struct json_writer;

struct case_system_config {
        char *login;
        char **teams;             /* the teams whose tasks it holds */
        unsigned line;
};

/* A retention period in calendar months and days (2y is 24 months). */
struct retention_period {
        unsigned months, days;
};

struct access_config {
        char **coordinators;
        char **operators;
        char **auditors;
        struct case_system_config *case_systems;
        size_t n_case_systems;
        struct retention_period signals_without_task;   /* households that never got a task, after the last signal */
        struct retention_period households_with_tasks;  /* after the last task closed */
        struct retention_period quarantine;             /* after the row was last delivered */
        struct retention_period access_log;
        struct retention_period audit_log;
};

void access_config_init(struct access_config *a);
void access_config_done(struct access_config *a);

int access_parse_people(const struct yreader *r, const struct ynode *n, struct access_config *a);
int access_parse_retention(const struct yreader *r, const struct ynode *n, struct access_config *a);

/* A yfield reader (char ***) for a list of logins: each one a valid
 * PostgreSQL role name as bokvar takes them (letters, digits, '_', '.',
 * '@' and '-', at most 63), none twice. */
int access_parse_logins(const struct yreader *r, const struct ynode *n, void *dest);
/* Whether s is a login bokvar accepts. */
bool access_login_valid(const char *s);

/* Parses a retention period: whole days (d), weeks (w), months (mo) or
 * years (y), or sums such as 1y6mo; at least one day. On failure returns
 * -EINVAL and points ret_reason at a sentence saying why. */
int retention_parse(const char *s, struct retention_period *ret, const char **ret_reason);

/* Writes "people" and "retention", the keys bokvar.config_sync() takes
 * for them, into the object w has open. */
void access_write_json(const struct access_config *a, struct json_writer *w);
