/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The yearly report's figures, in order, in words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/db/report.h"

/* bokvar.report()'s object, flattened: one row per figure (and key), the
 * year's value and the year before's side by side. */
const char report_rows_sql[] =
        "WITH r(w, j) AS (SELECT 1, bokvar.report($1::integer) "
        "                 UNION ALL SELECT 2, bokvar.report($1::integer - 1) WHERE $2::boolean), "
        "flat(w, figure, key, sub, v) AS ("
        " SELECT r.w, e.key, NULL::text, NULL::text, CASE jsonb_typeof(e.value) WHEN 'array' THEN "
        "        (SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(e.value) x) ELSE e.value #>> '{}' END "
        " FROM r, jsonb_each(r.j) e WHERE e.key NOT IN ('year', 'signals') AND jsonb_typeof(e.value) <> 'object' "
        " UNION ALL SELECT r.w, 'signals', x ->> 'source', x ->> 'kind', x ->> 'count' "
        " FROM r, jsonb_array_elements(r.j -> 'signals') x "
        " UNION ALL SELECT r.w, e.key, a.key, NULL, a.value #>> '{}' "
        " FROM r, jsonb_each(r.j) e, jsonb_each(CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ELSE '{}' END) a "
        " WHERE jsonb_typeof(a.value) <> 'object' "
        " UNION ALL SELECT r.w, e.key, a.key, b.key, b.value #>> '{}' "
        " FROM r, jsonb_each(r.j) e, jsonb_each(CASE WHEN jsonb_typeof(e.value) = 'object' THEN e.value ELSE '{}' END) a, "
        "      jsonb_each(CASE WHEN jsonb_typeof(a.value) = 'object' THEN a.value ELSE '{}' END) b) "
        "SELECT figure, key, sub, max(v) FILTER (WHERE w = 1) AS value, max(v) FILTER (WHERE w = 2) AS previous "
        "FROM flat GROUP BY figure, key, sub ORDER BY figure, key, sub";

/* What a figure's rows are. */
enum report_shape {
        SHAPE_ONE,          /* one value */
        SHAPE_SIGNALS,      /* by source and kind */
        SHAPE_OUTCOMES,     /* by outcome */
        SHAPE_BY,           /* by something (key), then outcome (sub) */
};

static const char *const sections[] = {
        NULL,
        N_("Signals, by source and kind"),
        N_("Outreach tasks"),
        N_("Outcomes of the tasks closed"),
        N_("Outcomes by cause (the kind of the first signal of each task's story)"),
        N_("Outcomes by landlord"),
        N_("Outcomes by team"),
        NULL,
        N_("From the enforcement agency"),
        N_("Missed cases: evictions executed without a task, or without a contact that reached the household by its "
           "deadline (household ids)"),
        NULL,
};

static const struct figure {
        const char *name;
        unsigned section;
        bool indented;
        enum report_value kind;
        enum report_shape shape;
        const char *label;
} figures[] = {
        { "signals", 1, true, REPORT_COUNT, SHAPE_SIGNALS, NULL },
        { "tasks_opened", 2, true, REPORT_COUNT, SHAPE_ONE, N_("opened") },
        { "tasks_closed", 2, true, REPORT_COUNT, SHAPE_ONE, N_("closed") },
        { "tasks_reached", 2, true, REPORT_COUNT, SHAPE_ONE, N_("opened, and a contact reached the household") },
        { "contact_rate", 2, true, REPORT_SHARE, SHAPE_ONE, N_("contact rate: reached of opened") },
        { "outcomes", 3, true, REPORT_COUNT, SHAPE_OUTCOMES, NULL },
        { "outcomes_by_cause", 4, true, REPORT_COUNT, SHAPE_BY, NULL },
        { "outcomes_by_landlord", 5, true, REPORT_COUNT, SHAPE_BY, NULL },
        { "outcomes_by_team", 6, true, REPORT_COUNT, SHAPE_BY, NULL },
        { "households_kept_home", 7, false, REPORT_COUNT, SHAPE_ONE, N_("Households that kept their home") },
        { "families_with_children_kept_home", 7, true, REPORT_COUNT, SHAPE_ONE, N_("families with children") },
        { "children_kept_home", 7, true, REPORT_COUNT, SHAPE_ONE, N_("children in them") },
        { "kept_home_children_unknown", 7, true, REPORT_COUNT, SHAPE_ONE,
          N_("households whose children are unknown") },
        { "families_with_children_reached_out_to", 7, false, REPORT_COUNT, SHAPE_ONE,
          N_("Families with children reached out to") },
        { "children_in_them", 7, true, REPORT_COUNT, SHAPE_ONE, N_("children in them") },
        { "families_with_children_reached", 7, false, REPORT_COUNT, SHAPE_ONE,
          N_("Families with children a contact reached") },
        { "children_in_families_reached", 7, true, REPORT_COUNT, SHAPE_ONE, N_("children in them") },
        { "reached_children_unknown", 7, true, REPORT_COUNT, SHAPE_ONE,
          N_("households reached whose children are unknown") },
        { "eviction_applications", 8, true, REPORT_COUNT, SHAPE_ONE, N_("eviction applications") },
        { "evictions_executed", 8, true, REPORT_COUNT, SHAPE_ONE, N_("evictions executed") },
        { "evictions_executed_with_children", 8, true, REPORT_COUNT, SHAPE_ONE,
          N_("households evicted with children") },
        { "children_evicted", 8, true, REPORT_COUNT, SHAPE_ONE, N_("children in them") },
        { "evictions_executed_children_unknown", 8, true, REPORT_COUNT, SHAPE_ONE,
          N_("households evicted whose children are unknown") },
        { "missed_cases", 9, true, REPORT_COUNT, SHAPE_ONE, N_("households") },
        { "missed_no_task", 9, true, REPORT_HOUSEHOLDS, SHAPE_ONE, N_("no task in the year before the eviction") },
        { "missed_no_contact", 9, true, REPORT_HOUSEHOLDS, SHAPE_ONE,
          N_("a task, but no contact reached them by its deadline") },
        { "median_days_signal_to_contact", 10, false, REPORT_DAYS, SHAPE_ONE,
          N_("Median days from first signal to first contact") },
        { "contact_before_deadline_share", 10, false, REPORT_SHARE, SHAPE_ONE,
          N_("Tasks with contact before their deadline") },
};

static const struct figure *figure_of(const struct report_line *l) {
        for (size_t i = 0; i < ELEMENTSOF(figures); i++)
                if (streq(figures[i].name, l->figure))
                        return &figures[i];
        return NULL;
}

/* A word's place in its vocabulary, or past the end (then by name). */
static size_t rank(const char *const *names, const char *word) {
        size_t i = 0;

        for (; names[i]; i++)
                if (streq_ptr(names[i], word))
                        return i;
        return i;
}

static int compare_lines(const void *a_, const void *b_) {
        const struct report_line *a = a_, *b = b_;
        const struct figure *fa = figure_of(a), *fb = figure_of(b);
        size_t ra, rb;
        int k;

        if (fa != fb)
                return fa < fb ? -1 : 1;
        switch (fa->shape) {
        case SHAPE_SIGNALS:
                ra = rank(feed_source_names, a->key);
                rb = rank(feed_source_names, b->key);
                if (ra != rb)
                        return ra < rb ? -1 : 1;
                ra = rank(signal_kind_names, a->sub);
                rb = rank(signal_kind_names, b->sub);
                break;
        case SHAPE_OUTCOMES:
                ra = rank(task_outcome_names, a->key);
                rb = rank(task_outcome_names, b->key);
                break;
        case SHAPE_BY:
                /* Causes in the order of the kinds (unknown last); landlords and teams by name. */
                ra = streq(fa->name, "outcomes_by_cause") ? rank(signal_kind_names, a->key) : 0;
                rb = streq(fa->name, "outcomes_by_cause") ? rank(signal_kind_names, b->key) : 0;
                if (ra != rb)
                        return ra < rb ? -1 : 1;
                k = strcmp(a->key ? a->key : "", b->key ? b->key : "");
                if (k != 0)
                        return k;
                ra = rank(task_outcome_names, a->sub);
                rb = rank(task_outcome_names, b->sub);
                break;
        case SHAPE_ONE:
        default:
                return 0;
        }
        if (ra != rb)
                return ra < rb ? -1 : 1;
        k = strcmp(a->key ? a->key : "", b->key ? b->key : "");
        return k != 0 ? k : strcmp(a->sub ? a->sub : "", b->sub ? b->sub : "");
}

static const char *column(const PGresult *rows, int i, int c) {
        return PQgetisnull(rows, i, c) ? NULL : PQgetvalue(rows, i, c);
}

struct report_line *report_lines(const PGresult *rows, size_t *ret_n) {
        int n = PQntuples(rows);
        struct report_line *lines = calloc((size_t) n + 1, sizeof *lines);
        size_t k = 0;

        if (!lines)
                return NULL;
        for (int i = 0; i < n; i++) {
                struct report_line l = {
                        .figure = column(rows, i, REPORT_COL_FIGURE),
                        .key = column(rows, i, REPORT_COL_KEY),
                        .sub = column(rows, i, REPORT_COL_SUB),
                        .value = column(rows, i, REPORT_COL_VALUE),
                        .previous = column(rows, i, REPORT_COL_PREVIOUS),
                };
                const struct figure *f = l.figure ? figure_of(&l) : NULL;

                /* The months (signals_by_month, ...) are the report page's
                 * charts, not lines: no figure here. */
                if (!f || (f->shape == SHAPE_ONE) != (l.key == NULL))
                        continue;
                l.section = f->section;
                l.indented = f->indented;
                l.kind = f->kind;
                lines[k++] = l;
        }
        qsort(lines, k, sizeof *lines, compare_lines);
        *ret_n = k;
        return lines;
}

const char *report_section_heading(unsigned section) {
        return section < ELEMENTSOF(sections) && sections[section] ? _(sections[section]) : NULL;
}

/* A landlord's or a cause's name, or unknown. */
static const char *by_key(const char *figure, const char *key) {
        if (streq_ptr(key, "unknown"))
                return _("unknown");
        if (streq(figure, "outcomes_by_cause"))
                return label_signal_kind(key);
        return key;
}

const char *report_line_label(const struct report_line *l, char *buf, size_t size) {
        const struct figure *f = figure_of(l);
        _cleanup_free_ char *s = NULL;

        if (!f)
                return l->figure;
        switch (f->shape) {
        case SHAPE_ONE:
                return _(f->label);
        case SHAPE_OUTCOMES:
                return label_task_outcome(l->key);
        case SHAPE_SIGNALS:
                if (l10n_format(_("%1$s: %2$s"),
                                (const char *const[]){ label_feed_source(l->key), label_signal_kind(l->sub), NULL },
                                &s) < 0)
                        return l->sub;
                break;
        case SHAPE_BY:
                if (l10n_format(_("%1$s: %2$s"),
                                (const char *const[]){ by_key(f->name, l->key), label_task_outcome(l->sub), NULL },
                                &s) < 0)
                        return l->sub;
                break;
        }
        (void) snprintf(buf, size, "%s", s);
        return buf;
}

const char *report_line_name(const struct report_line *l, char *buf, size_t size) {
        if (!l->key)
                return l->figure;
        (void) snprintf(buf, size, "%s.%s%s%s", l->figure, l->key, l->sub ? "." : "", l->sub ? l->sub : "");
        return buf;
}

const char *report_value_raw(const struct report_line *l, const char *v) {
        if ((!v || !*v) && l->key)
                return "0";
        return v;
}

const char *report_value_text(const struct report_line *l, const char *v, char out[static L10N_TEXT_MAX]) {
        if (!v || !*v) {
                /* A count by key that one year lacks is none of them. */
                if (l->key)
                        return "0";
                return l->kind == REPORT_HOUSEHOLDS ? _("none") : "–";
        }
        switch (l->kind) {
        case REPORT_SHARE:
                return l10n_share(v, out) >= 0 ? out : v;
        case REPORT_DAYS:
                return l10n_number(v, 1, out) >= 0 ? out : v;
        case REPORT_HOUSEHOLDS:
                return v;
        case REPORT_COUNT:
        default:
                return l10n_number(v, 0, out) >= 0 ? out : v;
        }
}
