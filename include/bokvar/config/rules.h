/* SPDX-License-Identifier: GPL-3.0-or-later */
/* rules.yaml: how operators tune risk. The file is checked strictly and
 * becomes data (a ruleset the SQL scores with); nothing in it is ever SQL. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/diag.h"
#include "bokvar/basic/util.h"

#define RULES_UNSET INT64_MIN

struct rule {
        char *name;
        char *description;
        char **kinds;                 /* NULL: any kind */
        char **sources;               /* NULL: any source */
        int64_t within_days;          /* RULES_UNSET when not used, for all below */
        int64_t deadline_within_days;
        int64_t deadline_passed;      /* 0 or 1 */
        int64_t count_at_least;
        int64_t amount_at_least;      /* hundredths */
        int64_t months_at_least;
        int64_t children_at_least;
        int64_t points;
        const char *per_unit;         /* amount, child, signal, month; NULL: no increments */
        int64_t per_step;             /* hundredths for amount, else whole units */
        int64_t per_points;
        int64_t per_max;
        /* after_deadline: once every signal of the rule is past its
         * deadline with no signal of the after_unless kinds (NULL:
         * eviction_application) following it, after_points instead of
         * points. */
        int64_t after_points;
        char **after_unless;
        unsigned line;
};

struct ruleset {
        char *path;
        char *text;                   /* the file as read, kept with each version */
        int64_t window_days;
        int64_t watch, outreach, urgent;
        struct rule *rules;
        size_t n_rules;
};

struct ruleset *rules_free(struct ruleset *rs);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ruleset *, rules_free);

/* Parses a rules file held in memory (path names it in messages). */
int rules_parse(const char *path, const char *data, size_t size, struct ruleset **ret, struct diag *d);
/* Reads and parses path. */
int rules_load(const char *path, struct ruleset **ret, struct diag *d);

/* The ruleset as the JSON bokvar.ruleset_load() takes. */
int rules_to_json(const struct ruleset *rs, struct buf *out);
