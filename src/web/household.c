/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The household page: who lives there, every signal, the score explained
 * and its history, the task with its events and contacts, and the forms
 * for what a caseworker does. Opening it writes the access-log row
 * (bokvar.web_household_open, the page's first read). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/web/household.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"

/* The page's statements after the actor's, in this order. */
enum {
        R_TEAMS,
        R_OPEN,
        R_PERSONS,
        R_SIGNALS,
        R_SCORE,
        R_HISTORY,
        R_TASKS,
        R_EVENTS,
        R_CORRECTIONS,
        _R_MAX,
};

static const char *const household_sql[_R_MAX] = {
        [R_TEAMS] = "SELECT name, caseworkers, visible FROM bokvar.web_teams()",
        [R_OPEN] = "SELECT household_id, children, children_at, postal_code, city, landlord, address, apartment, "
                   "first_signal_at, last_signal_at, open_task FROM bokvar.web_household_open($1::bigint)",
        [R_PERSONS] = "SELECT person_id, name, last_seen FROM bokvar.web_household_persons($1::bigint)",
        [R_SIGNALS] = "SELECT signal_id, occurred_at, kind, source, feed, entered_by, deadline, name, amount, "
                      "months_in_arrears, children, landlord, received_at, version "
                      "FROM bokvar.web_household_signals($1::bigint)",
        [R_SCORE] = "SELECT score, class, ruleset_version, scored_at, as_of, next_deadline, rule, description, "
                    "points, signals FROM bokvar.web_household_score($1::bigint)",
        [R_HISTORY] = "SELECT scored_at, as_of, score, class, ruleset_version, rules "
                      "FROM bokvar.web_household_history($1::bigint)",
        [R_TASKS] = "SELECT task_id, status, team, assignee, class, score, deadline, due, overdue, follow_up, "
                    "created_at, acknowledged_at, acknowledged_by, first_contact_at, closed_at, closed_by, outcome, "
                    "note FROM bokvar.web_household_tasks($1::bigint)",
        [R_EVENTS] = "SELECT task_id, at, kind, by, class, channel, reached, outcome, follow_up, from_value, "
                     "to_value, note FROM bokvar.web_household_events($1::bigint)",
        [R_CORRECTIONS] = "SELECT at, by, old_children, new_children, note "
                          "FROM bokvar.web_household_corrections($1::bigint)",
};

/* What a finished action says on the page it returns to. */
static const char *done_message(const char *done) {
        static const struct {
                const char *done;
                const char *message;
        } table[] = {
                { "ack", N_("The task is acknowledged.") },
                { "contact", N_("The contact attempt is recorded.") },
                { "follow-up", N_("The follow-up date is set.") },
                { "reassign", N_("The task is reassigned.") },
                { "close", N_("The task is closed.") },
                { "children", N_("The number of children is corrected, and the household scored again.") },
                { "registered", N_("The notice is registered and the household scored.") },
        };

        for (size_t i = 0; done && i < ELEMENTSOF(table); i++)
                if (streq(done, table[i].done))
                        return _(table[i].message);
        return NULL;
}

static void cell_or_unknown(struct html *h, const char *v) {
        if (v)
                html_printf(h, "<td>%s</td>", v);
        else
                html_printf(h, "<td><span class=\"unknown\">%s</span></td>", _("unknown"));
}

static void fact(struct html *h, const char *term, const char *v) {
        if (v)
                html_printf(h, "<dt>%s</dt><dd>%s</dd>\n", term, v);
        else
                html_printf(h, "<dt>%s</dt><dd><span class=\"unknown\">%s</span></dd>\n", term, _("unknown"));
}

static void fact_date(struct html *h, const char *term, const char *date) {
        if (!date) {
                fact(h, term, NULL);
                return;
        }
        html_printf(h, "<dt>%s</dt><dd>", term);
        page_date(h, date);
        html_markup(h, "</dd>\n");
}

static void cell_date(struct html *h, const char *date) {
        if (!date) {
                cell_or_unknown(h, NULL);
                return;
        }
        html_markup(h, "<td>");
        page_date(h, date);
        html_markup(h, "</td>");
}

static void render_people(struct html *h, const PGresult *open, const PGresult *persons) {
        const char *children = web_value(open, 0, "children");

        html_printf(h, "<section aria-labelledby=\"people\">\n<h2 id=\"people\">%s</h2>\n", _("Who lives there"));
        if (PQntuples(persons) == 0)
                html_printf(h, "<p>%s</p>\n", _("No identity number is known for anyone in this household."));
        else {
                html_printf(h,
                            "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
                            "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
                            _("People"), _("Identity number"), _("Name"), _("Last named in a signal"));
                for (int i = 0; i < PQntuples(persons); i++) {
                        html_markup(h, "<tr><td>");
                        page_identity(h, web_value(persons, i, "person_id"));
                        html_markup(h, "</td>");
                        cell_or_unknown(h, web_value(persons, i, "name"));
                        cell_date(h, web_value(persons, i, "last_seen"));
                        html_markup(h, "</tr>\n");
                }
                html_markup(h, "</tbody>\n</table>\n");
        }
        html_markup(h, "<dl class=\"facts\">\n");
        fact(h, _("Address"), web_value(open, 0, "address"));
        fact(h, _("Apartment"), web_value(open, 0, "apartment"));
        fact(h, _("Postal code"), web_value(open, 0, "postal_code"));
        fact(h, _("City"), web_value(open, 0, "city"));
        fact(h, _("Landlord"), web_value(open, 0, "landlord"));
        if (children) {
                html_printf(h, "<dt>%s</dt><dd>", _("Children"));
                char at[L10N_TEXT_MAX];

                html_sentence(h, _("%1$s (as of %2$s)"), children, page_date_text(web_value(open, 0, "children_at"), at));
                html_markup(h, "</dd>\n");
        }
        else
                fact(h, _("Children"), NULL);
        fact_date(h, _("First signal"), web_value(open, 0, "first_signal_at"));
        fact_date(h, _("Latest signal"), web_value(open, 0, "last_signal_at"));
        html_markup(h, "</dl>\n</section>\n");
}

/* A signal by id, from the page's list of signals: -1 when not there. */
static int find_signal(const PGresult *signals, const char *id, size_t len) {
        for (int i = 0; i < PQntuples(signals); i++) {
                const char *s = web_value(signals, i, "signal_id");

                if (s && strlen(s) == len && strncmp(s, id, len) == 0)
                        return i;
        }
        return -1;
}

static void render_score(struct html *h, const PGresult *score, const PGresult *history, const PGresult *signals) {
        html_printf(h, "<section aria-labelledby=\"score\">\n<h2 id=\"score\">%s</h2>\n", _("Score"));
        if (PQntuples(score) == 0) {
                html_printf(h, "<p>%s</p>\n", _("The household has not been scored."));
                html_markup(h, "</section>\n");
                return;
        }
        char as_of[L10N_TEXT_MAX];

        html_markup(h, "<p>");
        html_sentence(h, _("The score is %1$s, which makes the class %2$s. Scored on %3$s under ruleset version %4$s."),
                      web_value(score, 0, "score"), label_risk_class(web_value(score, 0, "class")),
                      page_date_text(web_value(score, 0, "as_of"), as_of), web_value(score, 0, "ruleset_version"));
        html_markup(h, "</p>\n");
        if (!web_value(score, 0, "rule"))
                html_printf(h, "<p>%s</p>\n", _("No rule gave points."));
        else {
                html_printf(h,
                            "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
                            "<th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th>"
                            "</tr></thead>\n<tbody>\n",
                            _("Why: the rules that gave points"), _("Rule"), _("What it says"), _("Points"),
                            _("Because of"));
                for (int i = 0; i < PQntuples(score); i++) {
                        const char *ids = web_value(score, i, "signals");
                        bool first = true;

                        html_printf(h, "<tr><td>%s</td>", web_value(score, i, "rule"));
                        cell_or_unknown(h, web_value(score, i, "description"));
                        html_printf(h, "<td class=\"num\">%s</td><td>", web_value(score, i, "points"));
                        /* The signals the rule fired on, as the timeline below names them. */
                        for (const char *p = ids; p && *p;) {
                                size_t n = strcspn(p, ",");
                                int k = find_signal(signals, p, n);

                                if (k >= 0) {
                                        html_printf(h, "%s%s ", first ? "" : ", ",
                                                    label_signal_kind(web_value(signals, k, "kind")));
                                        page_date(h, web_value(signals, k, "occurred_at"));
                                        first = false;
                                }
                                p += n + (p[n] == ',');
                        }
                        if (first)
                                html_printf(h, "%s", _("the household as a whole"));
                        html_markup(h, "</td></tr>\n");
                }
                html_markup(h, "</tbody>\n</table>\n");
        }
        if (PQntuples(history) > 0) {
                html_printf(h,
                            "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
                            "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th>"
                            "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
                            _("History of the score"), _("Scored"), _("Score"), _("Class"), _("Ruleset version"),
                            _("Rules and points"));
                for (int i = 0; i < PQntuples(history); i++) {
                        html_markup(h, "<tr><td>");
                        page_time(h, web_value(history, i, "scored_at"));
                        html_printf(h, "</td><td class=\"num\">%s</td><td>%s</td><td class=\"num\">%s</td>",
                                    web_value(history, i, "score"), label_risk_class(web_value(history, i, "class")),
                                    web_value(history, i, "ruleset_version"));
                        cell_or_unknown(h, web_value(history, i, "rules"));
                        html_markup(h, "</tr>\n");
                }
                html_markup(h, "</tbody>\n</table>\n");
        }
        html_markup(h, "</section>\n");
}

static void render_signals(struct html *h, const PGresult *signals) {
        html_printf(h, "<section aria-labelledby=\"signals\">\n<h2 id=\"signals\">%s</h2>\n", _("Signals, newest first"));
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr>"
                    "</thead>\n<tbody>\n",
                    _("Every signal about the household"), _("Date"), _("What"), _("From"), _("Name given"),
                    _("Deadline"), _("Amount"), _("Children"), _("Received"));
        for (int i = 0; i < PQntuples(signals); i++) {
                const char *source = web_value(signals, i, "source"), *by = web_value(signals, i, "entered_by");
                const char *deadline = web_value(signals, i, "deadline"), *amount = web_value(signals, i, "amount");
                const char *children = web_value(signals, i, "children");

                html_markup(h, "<tr><td>");
                page_date(h, web_value(signals, i, "occurred_at"));
                html_printf(h, "</td><td>%s</td>", label_signal_kind(web_value(signals, i, "kind")));
                if (by)
                        html_printf(h, "<td>%s (%s)</td>", label_feed_source(source), by);
                else
                        html_printf(h, "<td>%s (%s)</td>", label_feed_source(source), web_value(signals, i, "feed"));
                cell_or_unknown(h, web_value(signals, i, "name"));
                html_markup(h, "<td>");
                if (deadline)
                        page_date(h, deadline);
                else
                        html_markup(h, "–");
                html_markup(h, "</td><td class=\"num\">");
                if (amount)
                        page_amount(h, amount);
                else
                        html_markup(h, "–");
                html_printf(h, "</td><td>%s</td><td>", children ? children : "–");
                page_time(h, web_value(signals, i, "received_at"));
                html_markup(h, "</td></tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n</section>\n");
}

/* An event's particulars, in words. */
static void event_detail(struct html *h, const PGresult *ev, int i) {
        const char *kind = web_value(ev, i, "kind"), *note = web_value(ev, i, "note");
        const char *from = web_value(ev, i, "from_value"), *to = web_value(ev, i, "to_value");

        if (streq_ptr(kind, "contacted"))
                html_printf(h, "%s, %s", label_contact_channel(web_value(ev, i, "channel")),
                            web_value_bool(ev, i, "reached") ? _("reached them") : _("did not reach them"));
        else if (streq_ptr(kind, "closed"))
                html_printf(h, "%s", label_task_outcome(web_value(ev, i, "outcome")));
        else if (streq_ptr(kind, "follow_up")) {
                char date[L10N_TEXT_MAX];

                html_sentence(h, _("follow up on %s"), page_date_text(web_value(ev, i, "follow_up"), date));
        }
        else if (streq_ptr(kind, "escalated") || streq_ptr(kind, "risk_lowered") || streq_ptr(kind, "created"))
                html_printf(h, "%s", label_risk_class(web_value(ev, i, "class")));
        else if (from || to)
                html_printf(h, "%s → %s", from ? from : _("nobody"), to ? to : _("nobody"));
        if (note)
                html_printf(h, "<br>%s", note);
}

static void render_tasks(struct html *h, const PGresult *tasks, const PGresult *events) {
        html_printf(h, "<section aria-labelledby=\"tasks\">\n<h2 id=\"tasks\">%s</h2>\n", _("Tasks"));
        if (PQntuples(tasks) == 0)
                html_printf(h, "<p>%s</p>\n", _("The household has no task that you may see."));
        for (int i = 0; i < PQntuples(tasks); i++) {
                long long id = web_value_ll(tasks, i, "task_id");
                const char *assignee = web_value(tasks, i, "assignee"), *follow_up = web_value(tasks, i, "follow_up");
                bool open = streq_ptr(web_value(tasks, i, "status"), "open");
                int shown = 0;

                html_printf(h, "<h3 id=\"task-%lld\">", id);
                html_sentence(h, open ? _("Task %s: open") : _("Task %s: closed"), web_value(tasks, i, "task_id"));
                html_markup(h, "</h3>\n<dl class=\"facts\">\n");
                html_printf(h, "<dt>%s</dt><dd>%s</dd>\n", _("Class"), label_risk_class(web_value(tasks, i, "class")));
                html_printf(h, "<dt>%s</dt><dd>%s</dd>\n<dt>%s</dt><dd>%s</dd>\n", _("Team"),
                            web_value(tasks, i, "team"), _("Caseworker"), assignee ? assignee : _("nobody yet"));
                fact_date(h, _("Legal deadline"), web_value(tasks, i, "deadline"));
                if (web_value_bool(tasks, i, "overdue")) {
                        char due[L10N_TEXT_MAX];

                        html_printf(h, "<dt>%s</dt><dd class=\"overdue\">", _("Due"));
                        html_sentence(h, _("%s (overdue)"), page_date_text(web_value(tasks, i, "due"), due));
                        html_markup(h, "</dd>\n");
                } else
                        fact_date(h, _("Due"), web_value(tasks, i, "due"));
                if (follow_up)
                        fact_date(h, _("Follow up on"), follow_up);
                if (!open) {
                        html_printf(h, "<dt>%s</dt><dd>%s</dd>\n", _("Outcome"),
                                    label_task_outcome(web_value(tasks, i, "outcome")));
                        if (web_value(tasks, i, "note"))
                                html_printf(h, "<dt>%s</dt><dd>%s</dd>\n", _("Note"), web_value(tasks, i, "note"));
                }
                html_markup(h, "</dl>\n");

                for (int k = 0; k < PQntuples(events); k++) {
                        if (web_value_ll(events, k, "task_id") != id)
                                continue;
                        if (shown++ == 0) {
                                html_markup(h, "<table>\n<caption>");
                                html_sentence(h, _("Events and contacts of task %s"), web_value(tasks, i, "task_id"));
                                html_printf(h,
                                            "</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                                            "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
                                            _("When"), _("What"), _("Who"), _("Details"));
                        }
                        html_markup(h, "<tr><td>");
                        page_time(h, web_value(events, k, "at"));
                        html_printf(h, "</td><td>%s</td><td>%s</td><td>", label_task_event(web_value(events, k, "kind")),
                                    web_value(events, k, "by") ? web_value(events, k, "by") : "bokvar");
                        event_detail(h, events, k);
                        html_markup(h, "</td></tr>\n");
                }
                if (shown > 0)
                        html_markup(h, "</tbody>\n</table>\n");
        }
        html_markup(h, "</section>\n");
}

static void render_corrections(struct html *h, const PGresult *c) {
        if (PQntuples(c) == 0)
                return;
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
                    _("Corrections of the number of children"), _("When"), _("Who"), _("Before → after"), _("Note"));
        for (int i = 0; i < PQntuples(c); i++) {
                const char *old = web_value(c, i, "old_children");

                html_markup(h, "<tr><td>");
                page_time(h, web_value(c, i, "at"));
                html_printf(h, "</td><td>%s</td><td>%s → %s</td>", web_value(c, i, "by"), old ? old : _("unknown"),
                            web_value(c, i, "new_children"));
                cell_or_unknown(h, web_value(c, i, "note"));
                html_markup(h, "</tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n");
}

/* ---- the action forms ---- */

/* The form named name: what was sent and its mistakes if it is the one
 * that was refused. */
static struct page_form action_form(const struct web_request *wr, const char *name) {
        bool failed = streq_ptr(wr->failed_form, name);

        return (struct page_form){ name, failed ? wr->sent : NULL, failed ? &wr->errors : NULL };
}

static void form_open(struct html *h, const struct web_request *wr, const struct page_form *pf, const char *path,
                      long long id, long long household, const char *title) {
        html_printf(h, "<section aria-labelledby=\"%s-title\">\n<h3 id=\"%s-title\">%s</h3>\n", pf->name, pf->name,
                    title);
        html_printf(h, "<form method=\"post\" action=\"%s/%lld/%s\">\n", path, id, pf->name);
        page_csrf_field(h, wr->csrf);
        html_printf(h, "<input type=\"hidden\" name=\"household\" value=\"%lld\">\n", household);
}

static void form_close(struct html *h, const char *button) {
        html_printf(h, "<button type=\"submit\">%s</button>\n</form>\n</section>\n", button);
}

static void render_actions(struct html *h, const struct web_request *wr, const PGresult *tasks, const PGresult *teams,
                           const PGresult *open, long long household) {
        const char *channel_labels[_CONTACT_CHANNEL_MAX], *outcome_labels[_TASK_OUTCOME_MAX];
        const char *const yes_no[] = { "yes", "no" };
        const char *yes_no_labels[] = { _("Yes"), _("No") };
        _cleanup_strv_free_ char **caseworkers = NULL, **other_teams = NULL;
        const char *team = NULL, *assignee = NULL;
        bool acknowledged = false;
        long long task = 0;
        struct page_form pf;

        for (int i = 0; i < PQntuples(tasks); i++)
                if (streq_ptr(web_value(tasks, i, "status"), "open")) {
                        task = web_value_ll(tasks, i, "task_id");
                        team = web_value(tasks, i, "team");
                        assignee = web_value(tasks, i, "assignee");
                        acknowledged = web_value(tasks, i, "acknowledged_at") != NULL;
                        break;
                }

        html_printf(h, "<section aria-labelledby=\"actions\">\n<h2 id=\"actions\">%s</h2>\n<div class=\"actions\">\n",
                    _("What you can do"));
        if (task > 0) {
                for (size_t i = 0; i < _CONTACT_CHANNEL_MAX; i++)
                        channel_labels[i] = label_contact_channel(contact_channel_names[i]);
                for (size_t i = 0; i < _TASK_OUTCOME_MAX; i++)
                        outcome_labels[i] = label_task_outcome(task_outcome_names[i]);
                for (int i = 0; i < PQntuples(teams); i++) {
                        const char *name = web_value(teams, i, "name");

                        if (!streq_ptr(name, team)) {
                                if (strv_extend(&other_teams, name) < 0)
                                        h->error = -ENOMEM;
                                continue;
                        }
                        for (const char *p = web_value(teams, i, "caseworkers"); p && *p;) {
                                size_t n = strcspn(p, ",");
                                _cleanup_free_ char *cw = strndup(p, n);

                                if (!cw || (!streq_ptr(cw, assignee) && strv_extend(&caseworkers, cw) < 0))
                                        h->error = -ENOMEM;
                                p += n + (p[n] == ',');
                        }
                }

                pf = action_form(wr, "ack");
                if (!acknowledged || pf.errors) {
                        form_open(h, wr, &pf, "/task", task, household, _("Acknowledge"));
                        html_printf(h, "<p>%s</p>\n", _("Say that you have seen the task and taken it on."));
                        form_close(h, _("Acknowledge the task"));
                }

                pf = action_form(wr, "contact");
                form_open(h, wr, &pf, "/task", task, household, _("Record a contact attempt"));
                page_radios(h, &pf, "channel", _("How"), contact_channel_names, channel_labels, _CONTACT_CHANNEL_MAX,
                            NULL);
                page_radios(h, &pf, "reached", _("Did you reach them?"), yes_no, yes_no_labels, 2, NULL);
                page_textarea(h, &pf, "note", _("Note"), _("Optional; at most 2000 characters."), NULL, 2000);
                form_close(h, _("Record the contact"));

                pf = action_form(wr, "follow-up");
                form_open(h, wr, &pf, "/task", task, household, _("Set a follow-up date"));
                page_input(h, &pf, "date", _("Follow up on"), _("Today or later, within a year (YYYY-MM-DD)."),
                           PAGE_INPUT_DATE, NULL, true, 10);
                page_textarea(h, &pf, "note", _("Note"), _("Optional; at most 2000 characters."), NULL, 2000);
                form_close(h, _("Set the date"));

                pf = action_form(wr, "reassign");
                form_open(h, wr, &pf, "/task", task, household, _("Reassign within the team"));
                page_select(h, &pf, "assignee", _("To"), NULL, (const char *const *) caseworkers,
                            (const char *const *) caseworkers, strv_length(caseworkers), _("Choose a caseworker"),
                            NULL, true);
                page_textarea(h, &pf, "reason", _("Reason"), _("Optional; at most 2000 characters."), NULL, 2000);
                form_close(h, _("Reassign"));

                pf = action_form(wr, "hand-over");
                form_open(h, wr, &pf, "/task", task, household, _("Hand over to another team"));
                page_select(h, &pf, "team", _("To team"), NULL, (const char *const *) other_teams,
                            (const char *const *) other_teams, strv_length(other_teams), _("Choose a team"), NULL,
                            true);
                page_textarea(h, &pf, "reason", _("Reason"), _("Required; at most 2000 characters."), NULL, 2000);
                form_close(h, _("Hand over"));

                pf = action_form(wr, "close");
                form_open(h, wr, &pf, "/task", task, household, _("Close the task"));
                page_select(h, &pf, "outcome", _("Outcome"), NULL, task_outcome_names, outcome_labels,
                            _TASK_OUTCOME_MAX, _("Choose the outcome"), NULL, true);
                page_textarea(h, &pf, "note", _("Note"), _("Optional; at most 2000 characters."), NULL, 2000);
                form_close(h, _("Close the task"));
        } else
                html_printf(h, "<p>%s</p>\n", _("The household has no open task of yours."));

        pf = action_form(wr, "children");
        form_open(h, wr, &pf, "/household", household, household, _("Correct the number of children"));
        page_input(h, &pf, "children", _("Children living in the home"), _("A whole number from 0 to 30."),
                   PAGE_INPUT_NUMBER, web_value(open, 0, "children"), true, 2);
        page_textarea(h, &pf, "note", _("How you know"), _("Optional; at most 2000 characters."), NULL, 2000);
        form_close(h, _("Correct"));
        html_markup(h, "</div>\n</section>\n");
}

/* ---- the page ---- */

static void on_household(struct web_request *wr, PGresult *const *r, size_t n) {
        long long household;
        unsigned status = wr->failed_form ? 422 : 200;
        _cleanup_free_ char *title = NULL;
        const char *done;
        struct html h;

        if (n != _R_MAX) {
                web_fail(wr, NULL);
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (!web_result_ok(r[i])) {
                        web_fail(wr, r[i]);
                        return;
                }
        if (PQntuples(r[R_OPEN]) != 1) {
                web_fail(wr, NULL);
                return;
        }
        household = web_value_ll(r[R_OPEN], 0, "household_id");
        if (l10n_format(_("Household %s"), (const char *const[]){ web_value(r[R_OPEN], 0, "household_id"), NULL },
                        &title) < 0) {
                web_fail(wr, NULL);
                return;
        }

        html_init(&h);
        page_begin(&h, title, wr->login, wr->function, PAGE_NAV_NONE);
        html_printf(&h, "<h1>%s</h1>\n", title);
        done = done_message(request_query(wr->rq, "done"));
        if (done && !wr->failed_form)
                html_printf(&h, "<p class=\"notice\" role=\"status\">%s</p>\n", done);
        if (wr->failed_form) {
                /* At the top, where it is seen first; each mistake links to its field. */
                struct page_form pf = action_form(wr, wr->failed_form);

                page_error_summary(&h, &pf);
        }
        render_people(&h, r[R_OPEN], r[R_PERSONS]);
        render_tasks(&h, r[R_TASKS], r[R_EVENTS]);
        render_actions(&h, wr, r[R_TASKS], r[R_TEAMS], r[R_OPEN], household);
        render_score(&h, r[R_SCORE], r[R_HISTORY], r[R_SIGNALS]);
        render_signals(&h, r[R_SIGNALS]);
        render_corrections(&h, r[R_CORRECTIONS]);
        page_end(&h);
        web_respond(wr, status, &h);
}

void household_show(struct web_request *wr, long long household) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char id[24];
        const char *params[] = { id };

        (void) snprintf(id, sizeof id, "%lld", household);
        if (web_batch_new(wr, &b) < 0) {
                web_fail(wr, NULL);
                return;
        }
        for (size_t i = 0; i < _R_MAX; i++)
                if (db_batch_add(b, household_sql[i], i == R_TEAMS ? 0 : 1, params) < 0) {
                        web_fail(wr, NULL);
                        return;
                }
        web_submit(wr, TAKE_PTR(b), on_household);
}

void household_page(struct web_request *wr) {
        household_show(wr, wr->id);
}

static void on_task(struct web_request *wr, PGresult *const *r, size_t n) {
        char location[80];

        if (n != 1 || !web_result_ok(r[0]) || PQntuples(r[0]) != 1) {
                web_fail(wr, n == 1 ? r[0] : NULL);
                return;
        }
        (void) snprintf(location, sizeof location, "/household/%lld#task-%lld", web_value_ll(r[0], 0, "household"),
                        wr->id);
        web_redirect(wr, location);
}

void task_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char id[24];
        const char *params[] = { id };

        (void) snprintf(id, sizeof id, "%lld", wr->id);
        if (web_batch_new(wr, &b) < 0 ||
            db_batch_add(b, "SELECT bokvar.web_task_household($1::bigint) AS household", 1, params) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_task);
}
