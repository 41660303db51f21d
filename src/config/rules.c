/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading and checking rules.yaml. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/yamldoc.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/config/rules.h"

/* Limits beyond which a number is a typo, not a policy. */
#define POINTS_MAX 1000
#define DAYS_MAX 3650

struct ruleset *rules_free(struct ruleset *rs) {
        if (!rs)
                return NULL;
        for (size_t i = 0; i < rs->n_rules; i++) {
                struct rule *r = &rs->rules[i];

                free(r->name);
                free(r->description);
                strv_free(r->kinds);
                strv_free(r->sources);
                strv_free(r->after_unless);
        }
        free(rs->rules);
        free(rs->path);
        free(rs->text);
        return mfree(rs);
}

/* A duration in whole days, 0 to DAYS_MAX. */
static int parse_days(const struct yreader *r, const struct ynode *n, void *dest) {
        usec_t d;

        if (y_duration(r, n, &d) < 0)
                return -EINVAL;
        if (d % USEC_PER_DAY != 0)
                return y_error(r, n, "'%s' is not a whole number of days (rules count in days: 14d, 60d, 365d)",
                               n->value);
        if (d / USEC_PER_DAY > DAYS_MAX)
                return y_error(r, n, "'%s' is longer than %dd", n->value, DAYS_MAX);
        *(int64_t *) dest = (int64_t) (d / USEC_PER_DAY);
        return 0;
}

static int parse_points(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_int64(r, n, -POINTS_MAX, POINTS_MAX, dest);
}

static int parse_threshold(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_int64(r, n, -10 * POINTS_MAX, 10 * POINTS_MAX, dest);
}

static int parse_rule_name(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        if (strlen(n->value) > 64 || !((n->value[0] >= 'a' && n->value[0] <= 'z') || (n->value[0] >= '0' && n->value[0] <= '9')) ||
            strspn(n->value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(n->value))
                return y_error(r, n, "rule name '%s' must be 1 to 64 of a-z, 0-9, '_' and '-'", n->value);
        return 0;
}

/* A word, or a list of words, from a fixed set. */
static int parse_words(const struct yreader *r, const struct ynode *n, const char *const *known, const char *what,
                       char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int k = 0;

        if (n->type == YNODE_SCALAR) {
                if (strv_extend(&l, n->value) < 0)
                        return -ENOMEM;
        } else if (y_string_list(r, n, &l) < 0)
                return -EINVAL;
        if (!l || !l[0])
                return y_error(r, n, "%s needs at least one value", what);
        for (size_t i = 0; l[i]; i++) {
                size_t j;

                for (j = 0; known[j]; j++)
                        if (streq(l[i], known[j]))
                                break;
                if (!known[j]) {
                        struct buf all = {};

                        for (size_t m = 0; known[m]; m++)
                                (void) buf_printf(&all, "%s%s", m ? ", " : "", known[m]);
                        k = y_error(r, n->type == YNODE_SEQUENCE ? n->children[i] : n, "'%s' is not a %s (%s)", l[i],
                                    what, all.data);
                        buf_free(&all);
                }
        }
        if (k < 0)
                return k;
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

static int parse_kinds(const struct yreader *r, const struct ynode *n, void *dest) {
        return parse_words(r, n, signal_kind_names, "signal kind", dest);
}

static int parse_sources(const struct yreader *r, const struct ynode *n, void *dest) {
        return parse_words(r, n, feed_source_names, "source", dest);
}

static int parse_passed(const struct yreader *r, const struct ynode *n, void *dest) {
        bool b;

        if (y_bool(r, n, &b) < 0)
                return -EINVAL;
        *(int64_t *) dest = b;
        return 0;
}

static int parse_count(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_int64(r, n, 1, 1000, dest);
}

static int parse_amount(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_centi(r, n, 0, INT64_C(100000000000), dest);
}

static int parse_months(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_int64(r, n, 0, 600, dest);
}

static int parse_children(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_int64(r, n, 0, 30, dest);
}

static const struct yfield when_fields[] = {
        { "kind", parse_kinds, offsetof(struct rule, kinds), false },
        { "source", parse_sources, offsetof(struct rule, sources), false },
        { "within", parse_days, offsetof(struct rule, within_days), false },
        { "deadline_within", parse_days, offsetof(struct rule, deadline_within_days), false },
        { "deadline_passed", parse_passed, offsetof(struct rule, deadline_passed), false },
        { "count_at_least", parse_count, offsetof(struct rule, count_at_least), false },
        { "amount_at_least", parse_amount, offsetof(struct rule, amount_at_least), false },
        { "months_at_least", parse_months, offsetof(struct rule, months_at_least), false },
        { "children_at_least", parse_children, offsetof(struct rule, children_at_least), false },
        {}
};

static int parse_when(const struct yreader *r, const struct ynode *n, void *dest) {
        struct rule *ru = dest;

        if (y_map(r, n, "when", when_fields, ru) < 0)
                return -EINVAL;
        if (n->n_children == 0)
                return y_error(r, n, "when needs at least one condition");
        return 0;
}

/* per: { amount|child|signal|month: STEP, points: N, max: M } */
static int parse_per(const struct yreader *r, const struct ynode *n, void *dest) {
        static const struct {
                const char *unit;
                int64_t max_step;
        } units[] = {
                { "amount", INT64_C(100000000000) }, { "child", 30 }, { "signal", 1000 }, { "month", 600 },
        };
        struct rule *ru = dest;
        bool have_points = false, have_max = false;
        int ret = 0;

        if (n->type != YNODE_MAPPING)
                return y_error(r, n, "per must be a mapping such as { amount: 10000, points: 5, max: 25 }");
        for (size_t i = 0; i + 1 < n->n_children; i += 2) {
                const struct ynode *k = n->children[i], *v = n->children[i + 1];
                size_t u;

                if (streq(k->value, "points")) {
                        have_points = true;
                        if (parse_points(r, v, &ru->per_points) < 0)
                                ret = -EINVAL;
                        continue;
                }
                if (streq(k->value, "max")) {
                        have_max = true;
                        if (y_int64(r, v, -10 * POINTS_MAX, 10 * POINTS_MAX, &ru->per_max) < 0)
                                ret = -EINVAL;
                        continue;
                }
                for (u = 0; u < ELEMENTSOF(units); u++)
                        if (streq(k->value, units[u].unit))
                                break;
                if (u == ELEMENTSOF(units)) {
                        ret = y_error(r, k, "unknown key '%s' in per (amount, child, signal or month; points; max)",
                                      k->value);
                        continue;
                }
                if (ru->per_unit) {
                        ret = y_error(r, k, "per counts one thing: '%s' and '%s' both given", ru->per_unit, k->value);
                        continue;
                }
                ru->per_unit = units[u].unit;
                if (u == 0 ? y_centi(r, v, 1, units[u].max_step, &ru->per_step) < 0
                           : y_int64(r, v, 1, units[u].max_step, &ru->per_step) < 0)
                        ret = -EINVAL;
        }
        if (!ru->per_unit)
                ret = y_error(r, n, "per needs what to count: amount, child, signal or month");
        if (!have_points)
                ret = y_error(r, n, "per needs points (per step)");
        if (!have_max)
                ret = y_error(r, n, "per needs max (the most the increments may add)");
        return ret;
}

static const struct yfield after_fields[] = {
        { "points", parse_points, offsetof(struct rule, after_points), true },
        { "unless", parse_kinds, offsetof(struct rule, after_unless), false },
        {}
};

/* after_deadline: { points: N, unless: KIND | [KIND, ...] } */
static int parse_after(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_map(r, n, "after_deadline", after_fields, dest);
}

static const struct yfield rule_fields[] = {
        { "name", parse_rule_name, offsetof(struct rule, name), true },
        { "description", y_string, offsetof(struct rule, description), false },
        { "when", parse_when, 0, true },
        { "points", parse_points, offsetof(struct rule, points), true },
        { "per", parse_per, 0, false },
        { "after_deadline", parse_after, 0, false },
        {}
};

static const struct yfield threshold_fields[] = {
        { "watch", parse_threshold, offsetof(struct ruleset, watch), true },
        { "outreach", parse_threshold, offsetof(struct ruleset, outreach), true },
        { "urgent", parse_threshold, offsetof(struct ruleset, urgent), true },
        {}
};

static int parse_thresholds(const struct yreader *r, const struct ynode *n, void *dest) {
        struct ruleset *rs = (struct ruleset *) ((char *) dest - offsetof(struct ruleset, watch));

        if (y_map(r, n, "thresholds", threshold_fields, rs) < 0)
                return -EINVAL;
        if (rs->watch > rs->outreach || rs->outreach > rs->urgent)
                return y_error(r, n, "thresholds must rise: watch <= outreach <= urgent");
        return 0;
}

static int parse_rules_list(const struct yreader *r, const struct ynode *n, void *dest) {
        struct ruleset *rs = (struct ruleset *) ((char *) dest - offsetof(struct ruleset, rules));
        int ret = 0;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "rules must be a list (each rule starts with '- name: ...')");
        rs->rules = calloc(n->n_children > 0 ? n->n_children : 1, sizeof *rs->rules);
        if (!rs->rules)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                struct rule *ru = &rs->rules[i];

                *ru = (struct rule){
                        .within_days = RULES_UNSET,
                        .deadline_within_days = RULES_UNSET,
                        .deadline_passed = RULES_UNSET,
                        .count_at_least = RULES_UNSET,
                        .amount_at_least = RULES_UNSET,
                        .months_at_least = RULES_UNSET,
                        .children_at_least = RULES_UNSET,
                        .after_points = RULES_UNSET,
                        .line = n->children[i]->line,
                };
                rs->n_rules = i + 1;
                if (y_map(r, n->children[i], "a rule", rule_fields, ru) < 0)
                        ret = -EINVAL;
                for (size_t j = 0; ru->name && j < i; j++)
                        if (rs->rules[j].name && streq(rs->rules[j].name, ru->name))
                                ret = y_error(r, n->children[i], "rule name '%s' is used twice (first at line %u)",
                                              ru->name, rs->rules[j].line);
        }
        return ret;
}

static const struct yfield top_fields[] = {
        { "window", parse_days, offsetof(struct ruleset, window_days), false },
        { "thresholds", parse_thresholds, offsetof(struct ruleset, watch), true },
        { "rules", parse_rules_list, offsetof(struct ruleset, rules), true },
        {}
};

static int from_document(const char *path, const struct ynode *root, const char *data, size_t size,
                         struct ruleset **ret, struct diag *d) {
        _cleanup_(rules_freep) struct ruleset *rs = NULL;
        struct yreader r = { .path = path, .diag = d };

        if (!root)
                return diag_add(d, path, 0, 0, "the rules file is empty");
        rs = calloc(1, sizeof *rs);
        if (!rs || !(rs->path = strdup(path)) || !(rs->text = strndup(data, size)))
                return -ENOMEM;
        rs->window_days = 365;
        if (y_map(&r, root, "the rules file", top_fields, rs) < 0)
                return -EINVAL;
        if (rs->window_days == 0)
                return diag_add(d, path, root->line, root->column, "window must be at least 1d");
        *ret = TAKE_PTR(rs);
        return 0;
}

int rules_parse(const char *path, const char *data, size_t size, struct ruleset **ret, struct diag *d) {
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        _cleanup_(rules_freep) struct ruleset *rs = NULL;
        size_t first = d->n;
        int r, k;

        r = ydoc_parse(path, data, size, &root, d);
        if (r < 0 && !root)
                return r;
        k = from_document(path, root, data, size, &rs, d);
        diag_sort(d, first);
        if (r < 0 || k < 0)
                return r < 0 ? r : k;
        *ret = TAKE_PTR(rs);
        return 0;
}

int rules_load(const char *path, struct ruleset **ret, struct diag *d) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = ydoc_read(path, &data, &size, d);
        if (r < 0)
                return r;
        if (!utf8_valid(data, size, NULL))
                return diag_add(d, path, 0, 0, "the file is not valid UTF-8");
        return rules_parse(path, data, size, ret, d);
}

/* A condition or step, when the rule sets it. */
static void put_int(struct json_writer *w, const char *key, int64_t v) {
        if (v != RULES_UNSET)
                json_key_int(w, key, v);
}

/* An amount in hundredths, as a decimal string ("20000.00"). */
static void put_centi(struct json_writer *w, const char *key, int64_t v) {
        char s[48];

        if (v == RULES_UNSET)
                return;
        (void) snprintf(s, sizeof s, "%" PRId64 ".%02" PRId64, v / 100, v % 100);
        json_key_string(w, key, s);
}

static void put_rule(struct json_writer *w, const struct rule *r) {
        json_object_begin(w);
        json_key_string(w, "name", r->name);
        if (r->description)
                json_key_string(w, "description", r->description);
        json_key_int(w, "points", r->points);
        json_key(w, "when");
        json_object_begin(w);
        /* Once there for the commas, now part of the document whose digest
         * tells bokvar.ruleset_load() that rules are unchanged: kept, so
         * the same rules keep their version. */
        json_key_int(w, "_", 0);
        if (r->kinds) {
                json_key(w, "kind");
                json_strv(w, r->kinds);
        }
        if (r->sources) {
                json_key(w, "source");
                json_strv(w, r->sources);
        }
        put_int(w, "within_days", r->within_days);
        put_int(w, "deadline_within_days", r->deadline_within_days);
        if (r->deadline_passed != RULES_UNSET)
                json_key_bool(w, "deadline_passed", r->deadline_passed);
        put_int(w, "count_at_least", r->count_at_least);
        put_centi(w, "amount_at_least", r->amount_at_least);
        put_int(w, "months_at_least", r->months_at_least);
        put_int(w, "children_at_least", r->children_at_least);
        json_object_end(w);
        if (r->per_unit) {
                json_key(w, "per");
                json_object_begin(w);
                json_key_string(w, "unit", r->per_unit);
                if (streq(r->per_unit, "amount"))
                        put_centi(w, "step", r->per_step);
                else
                        put_int(w, "step", r->per_step);
                json_key_int(w, "points", r->per_points);
                json_key_int(w, "max", r->per_max);
                json_object_end(w);
        }
        if (r->after_points != RULES_UNSET) {
                json_key(w, "after_deadline");
                json_object_begin(w);
                json_key_int(w, "points", r->after_points);
                if (r->after_unless) {
                        json_key(w, "unless");
                        json_strv(w, r->after_unless);
                }
                json_object_end(w);
        }
        json_object_end(w);
}

int rules_to_json(const struct ruleset *rs, struct buf *out) {
        struct json_writer w;

        json_writer_init(&w, out);
        json_object_begin(&w);
        json_key_int(&w, "window_days", rs->window_days);
        json_key(&w, "thresholds");
        json_object_begin(&w);
        json_key_int(&w, "watch", rs->watch);
        json_key_int(&w, "outreach", rs->outreach);
        json_key_int(&w, "urgent", rs->urgent);
        json_object_end(&w);
        json_key(&w, "rules");
        json_array_begin(&w);
        for (size_t i = 0; i < rs->n_rules; i++)
                put_rule(&w, &rs->rules[i]);
        json_array_end(&w);
        json_object_end(&w);
        return json_writer_finish(&w);
}
