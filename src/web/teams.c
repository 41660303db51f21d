/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The coordinators' view of the teams: every team's open tasks counted,
 * each leading to that team's worklist (with the caseworkers' filters);
 * and a task handed over to another team from the worklist, on a page of
 * the task's own facts, so that moving work between teams reads (and
 * logs) no household's personal data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"
#include "bokvar/web/teams.h"
#include "bokvar/web/web.h"

static const char SQL_OVERVIEW[] =
        "SELECT team, caseworkers, open, urgent, with_children, overdue, unassigned, nearest_deadline "
        "FROM bokvar.web_team_overview()";
static const char SQL_BRIEF[] =
        "SELECT task_id, status, team, assignee, class, score, children, deadline, due, overdue "
        "FROM bokvar.web_task_brief($1::bigint)";
static const char SQL_TEAMS[] = "SELECT name FROM bokvar.web_teams()";

static const char *for_coordinators(void) {
        return _("This page is for coordinators.");
}

static void count_cell(struct html *h, const PGresult *r, int row, const char *column) {
        html_markup(h, "<td class=\"num\">");
        page_int(h, web_value_ll(r, row, column));
        html_markup(h, "</td>");
}

static void on_overview(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *teams = n == 1 ? r[0] : NULL;
        struct html h;

        if (!teams || !web_result_ok(teams)) {
                web_fail_page(wr, teams, for_coordinators());
                return;
        }
        html_init(&h);
        page_begin(&h, _("Teams"), wr->login, wr->function, PAGE_NAV_TEAMS);
        html_printf(&h, "<h1>%s</h1>\n<p>%s</p>\n", _("Teams"),
                    _("Every team's open tasks. A team's name leads to its worklist, where the same filters as the "
                      "caseworkers' narrow it down, and where a task can be handed over to another team."));
        html_printf(&h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\">%s</th></tr></thead>\n<tbody>\n",
                    _("Open tasks by team"), _("Team"), _("Caseworkers"), _("Open tasks"), _("Urgent"),
                    _("With children"), _("Overdue"), _("Nobody assigned"), _("Nearest legal deadline"));
        for (int i = 0; i < PQntuples(teams); i++) {
                const char *team = web_value(teams, i, "team");

                html_markup(&h, "<tr><th scope=\"row\"><a href=\"/?team=");
                html_url_param(&h, team);
                if (streq_ptr(team, "unrouted"))
                        html_printf(&h, "\">%s</a></th>", _("No team (unrouted)"));
                else
                        html_printf(&h, "\">%s</a></th>", team);
                count_cell(&h, teams, i, "caseworkers");
                count_cell(&h, teams, i, "open");
                count_cell(&h, teams, i, "urgent");
                count_cell(&h, teams, i, "with_children");
                count_cell(&h, teams, i, "overdue");
                count_cell(&h, teams, i, "unassigned");
                html_markup(&h, "<td>");
                if (web_value(teams, i, "nearest_deadline"))
                        page_date(&h, web_value(teams, i, "nearest_deadline"));
                else
                        html_printf(&h, "<span class=\"unknown\">%s</span>", _("none known"));
                html_markup(&h, "</td></tr>\n");
        }
        html_markup(&h, "</tbody>\n</table>\n");
        page_end(&h);
        web_respond(wr, 200, &h);
}

void teams_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;

        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_OVERVIEW, 0, NULL) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_overview);
}

/* ---- handing a task over ---- */

static void on_hand_over(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *task = n == 2 ? r[0] : NULL, *teams = n == 2 ? r[1] : NULL;
        struct page_form pf = { "hand-over", NULL, NULL };
        _cleanup_strv_free_ char **others = NULL;
        _cleanup_free_ char *title = NULL;
        const char *id, *own;
        struct html h;

        if (n != 2 || web_first_failure(r, n) || PQntuples(task) != 1) {
                web_fail(wr, n == 2 ? web_first_failure(r, n) : NULL);
                return;
        }
        id = web_value(task, 0, "task_id");
        own = web_value(task, 0, "team");
        if (!streq_ptr(web_value(task, 0, "status"), "open")) {
                web_error(wr, 409, _("The task is no longer open: it may have been closed meanwhile. Reload the page."));
                return;
        }
        for (int i = 0; i < PQntuples(teams); i++)
                if (!streq_ptr(web_value(teams, i, "name"), own) && strv_extend(&others, web_value(teams, i, "name")) < 0) {
                        web_fail(wr, NULL);
                        return;
                }
        if (l10n_format(_("Hand task %s over to another team"), (const char *const[]){ id, NULL }, &title) < 0) {
                web_fail(wr, NULL);
                return;
        }
        if (streq_ptr(wr->failed_form, "hand-over")) {
                pf.sent = wr->sent;
                pf.errors = &wr->errors;
        }

        html_init(&h);
        page_begin(&h, title, wr->login, wr->function, PAGE_NAV_NONE);
        html_printf(&h, "<h1>%s</h1>\n", title);
        page_error_summary(&h, &pf);
        html_markup(&h, "<dl class=\"facts\">\n");
        html_printf(&h, "<dt>%s</dt><dd>%s</dd>\n", _("Team"), own);
        html_printf(&h, "<dt>%s</dt><dd>%s</dd>\n", _("Caseworker"),
                    web_value(task, 0, "assignee") ? web_value(task, 0, "assignee") : _("nobody yet"));
        html_printf(&h, "<dt>%s</dt><dd>%s</dd>\n", _("Class"), label_risk_class(web_value(task, 0, "class")));
        html_printf(&h, "<dt>%s</dt><dd>%s</dd>\n", _("Children"), web_value(task, 0, "children"));
        html_printf(&h, "<dt>%s</dt><dd>", _("Legal deadline"));
        if (web_value(task, 0, "deadline"))
                page_date(&h, web_value(task, 0, "deadline"));
        else
                html_printf(&h, "<span class=\"unknown\">%s</span>", _("none known"));
        html_printf(&h, "</dd>\n<dt>%s</dt><dd>", _("Due"));
        page_date(&h, web_value(task, 0, "due"));
        if (web_value_bool(task, 0, "overdue"))
                html_printf(&h, " <span class=\"overdue\">(%s)</span>", _("overdue"));
        html_markup(&h, "</dd>\n</dl>\n");
        html_printf(&h, "<p>%s</p>\n",
                    _("The other team's caseworkers take the task from there; nobody in it is assigned yet. The "
                      "household's own page is not opened (and not logged) to do this."));
        html_printf(&h, "<form method=\"post\" action=\"/task/%s/hand-over\">\n", id);
        page_csrf_field(&h, wr->csrf);
        html_markup(&h, "<input type=\"hidden\" name=\"from\" value=\"hand-over\">\n");
        page_select(&h, &pf, "team", _("To team"), NULL, (const char *const *) others, (const char *const *) others,
                    strv_length(others), _("Choose a team"), NULL, true);
        page_textarea(&h, &pf, "reason", _("Reason"), _("Required; at most 2000 characters."), NULL, 2000);
        html_printf(&h, "<button type=\"submit\">%s</button>\n</form>\n", _("Hand over"));
        html_markup(&h, "<p><a href=\"/?team=");
        html_url_param(&h, own);
        html_printf(&h, "\">%s</a></p>\n", _("Back to the team's worklist"));
        page_end(&h);
        web_respond(wr, wr->failed_form ? 422 : 200, &h);
}

void hand_over_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char id[24];

        (void) snprintf(id, sizeof id, "%lld", wr->id);
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_BRIEF, 1, (const char *const[]){ id }) < 0 ||
            db_batch_add(b, SQL_TEAMS, 0, NULL) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_hand_over);
}
