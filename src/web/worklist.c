/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The worklist: the open tasks of the person's teams in priority order,
 * a page at a time, filtered by team, caseworker and class. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"
#include "bokvar/web/worklist.h"

#define PAGE_SIZE 50
#define MAX_PAGE 2000

static const char SQL_TEAMS[] = "SELECT name, caseworkers, visible FROM bokvar.web_teams()";
static const char SQL_WORKLIST[] =
        "SELECT task_id, household_id, team, assignee, class, score, children, deadline, days_left, due, overdue, "
        "acknowledged, contacted, follow_up "
        "FROM bokvar.web_worklist($1, $2, $3::bokvar.risk_class, $4::integer, $5::integer)";

struct filters {
        const char *team, *assignee, *risk_class;
        long page;
};

static bool team_name_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The filters from the query; anything not well-formed is left out. */
static void filters_read(struct web_request *wr, struct filters *f) {
        const char *team = request_query(wr->rq, "team"), *assignee = request_query(wr->rq, "assignee");
        const char *risk_class = request_query(wr->rq, "class"), *page = request_query(wr->rq, "page");
        char *end;

        *f = (struct filters){ .page = 1 };
        if (team_name_valid(team))
                f->team = team;
        if (web_login_valid(assignee))
                f->assignee = assignee;
        for (size_t i = 0; risk_class && risk_class_names[i]; i++)
                if (streq(risk_class, risk_class_names[i]))
                        f->risk_class = risk_class_names[i];
        if (page && page[0] >= '1' && page[0] <= '9' && strlen(page) <= 5) {
                f->page = strtol(page, &end, 10);
                if (*end || f->page > MAX_PAGE)
                        f->page = 1;
        }
}

/* A link to the worklist with these filters and page. */
static void filters_href(struct html *h, const struct filters *f, long page) {
        html_markup(h, "/?");
        if (f->team) {
                html_markup(h, "team=");
                html_url_param(h, f->team);
                html_markup(h, "&amp;");
        }
        if (f->assignee) {
                html_markup(h, "assignee=");
                html_url_param(h, f->assignee);
                html_markup(h, "&amp;");
        }
        if (f->risk_class) {
                html_markup(h, "class=");
                html_url_param(h, f->risk_class);
                html_markup(h, "&amp;");
        }
        html_printf(h, "page=%ld", page);
}

/* What a finished action says when it sends the person here. */
static const char *done_message(const char *done) {
        if (streq_ptr(done, "handed_over"))
                return _("The task was handed over to the other team.");
        if (streq_ptr(done, "closed"))
                return _("The task was closed.");
        return NULL;
}

static void render_filters(struct html *h, struct web_request *wr, const PGresult *teams, const struct filters *f) {
        _cleanup_strv_free_ char **caseworkers = NULL;

        html_printf(h, "<form class=\"filters\" method=\"get\" action=\"/\" aria-label=\"%s\">\n", _("Filter"));
        html_printf(h, "<div><label for=\"filter-team\">%s</label>\n<select id=\"filter-team\" name=\"team\">\n"
                       "<option value=\"\">%s</option>\n",
                    _("Team"), streq_ptr(wr->function, "coordinator") ? _("All teams") : _("All my teams"));
        for (int i = 0; i < PQntuples(teams); i++) {
                const char *name = web_value(teams, i, "name");

                if (!web_value_bool(teams, i, "visible"))
                        continue;
                html_printf(h, "<option value=\"%s\"%s>%s</option>\n", name,
                            streq_ptr(f->team, name) ? " selected" : "", name);
                /* Each visible team's caseworkers, once, for the next filter. */
                for (const char *p = web_value(teams, i, "caseworkers"); p && *p;) {
                        size_t n = strcspn(p, ",");
                        _cleanup_free_ char *cw = strndup(p, n);
                        bool seen = false;

                        for (char **c = caseworkers; cw && c && *c; c++)
                                seen = seen || streq(*c, cw);
                        if (cw && !seen && strv_extend(&caseworkers, cw) < 0)
                                h->error = -ENOMEM;
                        p += n + (p[n] == ',');
                }
        }
        html_markup(h, "</select></div>\n");

        html_printf(h, "<div><label for=\"filter-assignee\">%s</label>\n<select id=\"filter-assignee\" name=\"assignee\">\n"
                       "<option value=\"\">%s</option>\n<option value=\"%s\"%s>%s</option>\n",
                    _("Caseworker"), _("Everyone"), wr->login, streq_ptr(f->assignee, wr->login) ? " selected" : "",
                    _("My tasks"));
        for (char **c = caseworkers; c && *c; c++)
                if (!streq(*c, wr->login))
                        html_printf(h, "<option value=\"%s\"%s>%s</option>\n", *c,
                                    streq_ptr(f->assignee, *c) ? " selected" : "", *c);
        html_markup(h, "</select></div>\n");

        html_printf(h, "<div><label for=\"filter-class\">%s</label>\n<select id=\"filter-class\" name=\"class\">\n"
                       "<option value=\"\">%s</option>\n",
                    _("Class"), _("All classes"));
        for (size_t i = _RISK_CLASS_MAX; i-- > 0;)
                html_printf(h, "<option value=\"%s\"%s>%s</option>\n", risk_class_names[i],
                            streq_ptr(f->risk_class, risk_class_names[i]) ? " selected" : "",
                            label_risk_class(risk_class_names[i]));
        html_printf(h, "</select></div>\n<div><button type=\"submit\">%s</button></div>\n</form>\n", _("Show"));
}

static void render_days_left(struct html *h, const char *days) {
        long d;

        if (!days) {
                html_printf(h, "<td class=\"num\"><span class=\"unknown\">%s</span></td>", _("none known"));
                return;
        }
        d = strtol(days, NULL, 10);
        if (d < 0)
                html_printf(h, "<td class=\"num overdue\">%s</td>", _("passed"));
        else
                html_printf(h, "<td class=\"num\">%ld</td>", d);
}

static void render_rows(struct html *h, struct web_request *wr, const PGresult *rows, int n) {
        /* A coordinator moves tasks between teams from here, without
         * opening (and so logging) the household. */
        bool coordinator = streq_ptr(wr->function, "coordinator");

        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>",
                    _("Open tasks, most urgent first"), _("Task"), _("Class"), _("Children"), _("Legal deadline"),
                    _("Days left"), _("Due"), _("Team"), _("Caseworker"), _("Status"));
        if (coordinator)
                html_printf(h, "<th scope=\"col\">%s</th>", _("Another team"));
        html_markup(h, "</tr></thead>\n<tbody>\n");
        for (int i = 0; i < n; i++) {
                const char *class = web_value(rows, i, "class"), *assignee = web_value(rows, i, "assignee");
                const char *deadline = web_value(rows, i, "deadline");

                html_printf(h, "<tr><td><a href=\"/household/%lld#task-%lld\">", web_value_ll(rows, i, "household_id"),
                            web_value_ll(rows, i, "task_id"));
                html_sentence(h, _("Task %s"), web_value(rows, i, "task_id"));
                html_markup(h, "</a></td>");
                html_printf(h, "<td><span class=\"badge class-%s\">%s</span></td>", class, label_risk_class(class));
                if (web_value(rows, i, "children"))
                        html_printf(h, "<td class=\"num\">%lld</td>", web_value_ll(rows, i, "children"));
                else
                        html_printf(h, "<td class=\"num\"><span class=\"unknown\">%s</span></td>", _("unknown"));
                if (deadline) {
                        html_markup(h, "<td>");
                        page_date(h, deadline);
                        html_markup(h, "</td>");
                }
                else
                        html_printf(h, "<td><span class=\"unknown\">%s</span></td>", _("none known"));
                render_days_left(h, web_value(rows, i, "days_left"));
                if (web_value_bool(rows, i, "overdue")) {
                        char due[L10N_TEXT_MAX];

                        html_markup(h, "<td class=\"overdue\">");
                        html_sentence(h, _("%s (overdue)"), page_date_text(web_value(rows, i, "due"), due));
                        html_markup(h, "</td>");
                } else {
                        html_markup(h, "<td>");
                        page_date(h, web_value(rows, i, "due"));
                        html_markup(h, "</td>");
                }
                html_printf(h, "<td>%s</td>", web_value(rows, i, "team"));
                if (!assignee)
                        html_printf(h, "<td><span class=\"unknown\">%s</span></td>", _("nobody yet"));
                else if (streq(assignee, wr->login)) {
                        html_markup(h, "<td class=\"mine\">");
                        html_sentence(h, _("%s (you)"), assignee);
                        html_markup(h, "</td>");
                } else
                        html_printf(h, "<td>%s</td>", assignee);
                if (web_value_bool(rows, i, "contacted"))
                        html_printf(h, "<td>%s</td>", _("Contacted"));
                else if (web_value_bool(rows, i, "acknowledged"))
                        html_printf(h, "<td>%s</td>", _("Acknowledged"));
                else
                        html_printf(h, "<td>%s</td>", _("New"));
                if (coordinator) {
                        html_printf(h, "<td><a href=\"/task/%lld/hand-over\">", web_value_ll(rows, i, "task_id"));
                        html_sentence(h, _("Hand task %s over"), web_value(rows, i, "task_id"));
                        html_markup(h, "</a></td>");
                }
                html_markup(h, "</tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n");
}

static void on_worklist(struct web_request *wr, PGresult *const *results, size_t n) {
        const PGresult *teams = results[0], *rows = results[1];
        struct filters f;
        const char *done;
        struct html h;
        int count;

        /* The start page of those who have no worklist. */
        if (streq_ptr(wr->function, "auditor")) {
                web_redirect(wr, "/access-log");
                return;
        }
        if (streq_ptr(wr->function, "operator")) {
                web_redirect(wr, "/feeds");
                return;
        }
        if (n != 2 || !web_result_ok(teams) || !web_result_ok(rows)) {
                web_fail(wr, n == 2 ? (web_result_ok(teams) ? rows : teams) : NULL);
                return;
        }
        filters_read(wr, &f);
        count = PQntuples(rows);

        html_init(&h);
        page_begin(&h, _("Worklist"), wr->login, wr->function, PAGE_NAV_WORKLIST);
        html_printf(&h, "<h1>%s</h1>\n", _("Worklist"));
        done = done_message(request_query(wr->rq, "done"));
        if (done)
                html_printf(&h, "<p class=\"notice\" role=\"status\">%s</p>\n", done);
        render_filters(&h, wr, teams, &f);
        if (count == 0)
                html_printf(&h, "<p>%s</p>\n", f.page > 1 ? _("There are no more tasks.")
                                                          : _("There are no open tasks here."));
        else
                render_rows(&h, wr, rows, MIN(count, PAGE_SIZE));

        if (f.page > 1 || count > PAGE_SIZE) {
                html_printf(&h, "<nav class=\"pager\" aria-label=\"%s\">\n", _("Pages"));
                if (f.page > 1) {
                        html_markup(&h, "<a href=\"");
                        filters_href(&h, &f, f.page - 1);
                        html_printf(&h, "\">%s</a>\n", _("Previous page"));
                }
                char page[24];

                (void) snprintf(page, sizeof page, "%ld", f.page);
                html_markup(&h, "<span>");
                html_sentence(&h, _("Page %s"), page);
                html_markup(&h, "</span>\n");
                if (count > PAGE_SIZE && f.page < MAX_PAGE) {
                        html_markup(&h, "<a href=\"");
                        filters_href(&h, &f, f.page + 1);
                        html_printf(&h, "\">%s</a>\n", _("Next page"));
                }
                html_markup(&h, "</nav>\n");
        }
        page_end(&h);
        web_respond(wr, 200, &h);
}

void worklist_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char offset[24], limit[24];
        struct filters f;
        const char *params[5];

        filters_read(wr, &f);
        (void) snprintf(offset, sizeof offset, "%ld", (f.page - 1) * PAGE_SIZE);
        (void) snprintf(limit, sizeof limit, "%d", PAGE_SIZE + 1);
        params[0] = f.team;
        params[1] = f.assignee;
        params[2] = f.risk_class;
        params[3] = offset;
        params[4] = limit;
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_TEAMS, 0, NULL) < 0 ||
            db_batch_add(b, SQL_WORKLIST, 5, params) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_worklist);
}
