/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The auditors' pages: the access log searched by household, person and
 * period, the unusual reads (a household read with no task of the
 * reader's at the time) first, a page at a time or as CSV; and the purge
 * records. Logins and household and task numbers only: an auditor opens
 * no household (bokvar.web_household_open refuses them). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/csv.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/access-log.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"

#define PAGE_SIZE 50
#define MAX_PAGE 2000
#define CSV_MAX 100000
#define PURGES_SHOWN 20

static const char SQL_LOG[] =
        "SELECT id, at, actor, function, via, household_id, task_id, path, reason, unusual, total "
        "FROM bokvar.web_access_log($1::bigint, $2, $3::date::timestamptz, ($4::date + 1)::timestamptz, $5::boolean, "
        "$6::integer, $7::integer)";
static const char SQL_PURGES[] =
        "SELECT at, actor, purged_on, households_without_task, households_with_tasks, signals, tasks, quarantined, "
        "access_log, audit_log FROM bokvar.web_purges($1::integer)";

/* The search, from the query. */
struct search {
        const char *household, *person, *from, *until;
        bool unusual;
        long page;
        char default_from[11];
        struct form_field fields[4];
        struct form shown;         /* what the fields show again */
};

static const char *for_auditors(void) {
        return _("This page is for auditors.");
}

/* Reads the query; each field that is not what it should be is a mistake. */
static void search_read(struct web_request *wr, struct search *s) {
        const char *page = request_query(wr->rq, "page");
        bool asked = false;
        char *end;

        *s = (struct search){ .page = 1 };
        s->household = request_query(wr->rq, "household");
        s->person = request_query(wr->rq, "person");
        s->from = request_query(wr->rq, "from");
        s->until = request_query(wr->rq, "until");
        s->unusual = streq_ptr(request_query(wr->rq, "unusual"), "1");
        asked = s->household || s->person || s->from || s->until || s->unusual;
        if (isempty(s->household))
                s->household = NULL;
        if (isempty(s->person))
                s->person = NULL;
        if (isempty(s->from))
                s->from = NULL;
        if (isempty(s->until))
                s->until = NULL;
        /* Unasked, the last 30 days: the log of two years need not be read
         * to show a page of it. */
        if (!asked) {
                time_t t = time(NULL) - 30 * 24 * 3600;
                struct tm tm;

                if (localtime_r(&t, &tm) && strftime(s->default_from, sizeof s->default_from, "%Y-%m-%d", &tm) == 10)
                        s->from = s->default_from;
        }
        if (s->household && (strlen(s->household) > 18 || strspn(s->household, "0123456789") != strlen(s->household) ||
                             s->household[0] == '0'))
                form_errors_add(&wr->errors, "household", _("Write the household's number, digits only."));
        if (s->person && !web_login_valid(s->person))
                form_errors_add(&wr->errors, "person",
                                _("Write a login name: letters, digits and . _ @ - only, at most 63."));
        if (s->from && !l10n_iso_date(s->from))
                form_errors_add(&wr->errors, "from", _("Write the date as YYYY-MM-DD; it must be a date that exists."));
        if (s->until && !l10n_iso_date(s->until))
                form_errors_add(&wr->errors, "until", _("Write the date as YYYY-MM-DD; it must be a date that exists."));
        else if (s->from && s->until && l10n_iso_date(s->from) && strcmp(s->until, s->from) < 0)
                form_errors_add(&wr->errors, "until", _("The period ends before it begins."));
        if (page && page[0] >= '1' && page[0] <= '9' && strlen(page) <= 5) {
                s->page = strtol(page, &end, 10);
                if (*end || s->page > MAX_PAGE)
                        s->page = 1;
        }
        s->fields[0] = (struct form_field){ (char *) "household", (char *) (s->household ? s->household : ""), 0 };
        s->fields[1] = (struct form_field){ (char *) "person", (char *) (s->person ? s->person : ""), 0 };
        s->fields[2] = (struct form_field){ (char *) "from", (char *) (s->from ? s->from : ""), 0 };
        s->fields[3] = (struct form_field){ (char *) "until", (char *) (s->until ? s->until : ""), 0 };
        for (size_t i = 0; i < ELEMENTSOF(s->fields); i++)
                s->fields[i].value_len = strlen(s->fields[i].value);
        s->shown = (struct form){ s->fields, ELEMENTSOF(s->fields) };
}

/* The search as a query string, for the pager and the CSV link. */
static void search_href(struct html *h, const char *path, const struct search *s, long page) {
        html_printf(h, "%s?", path);
        if (s->household) {
                html_markup(h, "household=");
                html_url_param(h, s->household);
                html_markup(h, "&amp;");
        }
        if (s->person) {
                html_markup(h, "person=");
                html_url_param(h, s->person);
                html_markup(h, "&amp;");
        }
        html_markup(h, "from=");
        if (s->from)
                html_url_param(h, s->from);
        if (s->until) {
                html_markup(h, "&amp;until=");
                html_url_param(h, s->until);
        }
        if (s->unusual)
                html_markup(h, "&amp;unusual=1");
        if (page > 0)
                html_printf(h, "&amp;page=%ld", page);
}

static int search_batch(struct web_request *wr, const struct search *s, long offset, long limit,
                        struct db_batch **ret) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char off[24], lim[24];
        int r;

        (void) snprintf(off, sizeof off, "%ld", offset);
        (void) snprintf(lim, sizeof lim, "%ld", limit);
        r = web_batch_new(wr, &b);
        if (r >= 0)
                r = db_batch_add(b, SQL_LOG, 7,
                                 (const char *const[]){ s->household, s->person, s->from, s->until,
                                                        s->unusual ? "true" : "false", off, lim });
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

static const char *or_dash(const char *s) {
        return s ? s : "–";
}

static void render_form(struct html *h, const struct web_request *wr, const struct search *s) {
        struct page_form pf = { "search", &s->shown, &wr->errors };

        page_error_summary(h, &pf);
        html_printf(h, "<form class=\"filters\" method=\"get\" action=\"/access-log\" aria-label=\"%s\">\n",
                    _("Search the access log"));
        page_input(h, &pf, "household", _("Household"), NULL, PAGE_INPUT_NUMBER, NULL, false, 18);
        page_input(h, &pf, "person", _("Who read (login)"), NULL, PAGE_INPUT_TEXT, NULL, false, 63);
        page_input(h, &pf, "from", _("From"), NULL, PAGE_INPUT_DATE, NULL, false, 10);
        page_input(h, &pf, "until", _("Up to and including"), NULL, PAGE_INPUT_DATE, NULL, false, 10);
        html_markup(h, "<div class=\"field check\"><input type=\"checkbox\" id=\"search-unusual\" name=\"unusual\" "
                       "value=\"1\"");
        if (s->unusual)
                html_markup(h, " checked");
        html_printf(h, "><label for=\"search-unusual\">%s</label></div>\n", _("Only unusual reads"));
        html_printf(h, "<div><button type=\"submit\">%s</button></div>\n</form>\n", _("Search"));
}

static void render_log(struct html *h, const PGresult *log, const struct search *s) {
        long long total = PQntuples(log) > 0 ? web_value_ll(log, 0, "total") : 0;
        char count[L10N_TEXT_MAX];

        html_printf(h, "<section aria-labelledby=\"reads\">\n<h2 id=\"reads\">%s</h2>\n", _("Reads"));
        if (total == 0) {
                html_printf(h, "<p>%s</p>\n</section>\n",
                            s->page > 1 ? _("There are no more reads.") : _("No read matches the search."));
                return;
        }
        (void) l10n_int(total, count);
        html_markup(h, "<p>");
        html_sentence(h, l10n_ngettext("%s read matches; unusual reads come first, then the newest.",
                                       "%s reads match; unusual reads come first, then the newest.",
                                       (unsigned long) total),
                      count);
        html_markup(h, " <a href=\"");
        search_href(h, "/access-log.csv", s, 0);
        html_printf(h, "\" download>%s</a></p>\n", _("Download them as CSV"));
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n"
                    "<tbody>\n",
                    _("Reads of households' personal data"), _("When"), _("Who"), _("Function"), _("Household"),
                    _("Task"), _("Through"), _("Reason given"), _("Unusual"));
        for (int i = 0; i < PQntuples(log); i++) {
                const char *actor = web_value(log, i, "actor"), *via = web_value(log, i, "via");
                bool unusual = web_value_bool(log, i, "unusual");

                html_markup(h, "<tr><td>");
                page_time(h, web_value(log, i, "at"));
                html_printf(h, "</td><td>%s", actor);
                if (via && !streq_ptr(via, actor)) {
                        html_markup(h, " <span class=\"hint\">");
                        html_sentence(h, _("(through %s)"), via);
                        html_markup(h, "</span>");
                }
                html_printf(h, "</td><td>%s</td><td>", or_dash(label_actor_function(web_value(log, i, "function"))));
                html_text(h, or_dash(web_value(log, i, "household_id")));
                html_markup(h, "</td><td>");
                html_text(h, or_dash(web_value(log, i, "task_id")));
                html_printf(h, "</td><td>%s</td><td>", label_access_path(web_value(log, i, "path")));
                html_text(h, or_dash(web_value(log, i, "reason")));
                html_markup(h, "</td><td>");
                if (unusual)
                        html_printf(h, "<span class=\"badge class-urgent\">%s</span>", _("Unusual"));
                else
                        html_printf(h, "%s", _("No"));
                html_markup(h, "</td></tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n");
        if (s->page > 1 || total > s->page * PAGE_SIZE) {
                char page[24];

                html_printf(h, "<nav class=\"pager\" aria-label=\"%s\">\n", _("Pages"));
                if (s->page > 1) {
                        html_markup(h, "<a href=\"");
                        search_href(h, "/access-log", s, s->page - 1);
                        html_printf(h, "\">%s</a>\n", _("Previous page"));
                }
                (void) snprintf(page, sizeof page, "%ld", s->page);
                html_markup(h, "<span>");
                html_sentence(h, _("Page %s"), page);
                html_markup(h, "</span>\n");
                if (total > s->page * PAGE_SIZE && s->page < MAX_PAGE) {
                        html_markup(h, "<a href=\"");
                        search_href(h, "/access-log", s, s->page + 1);
                        html_printf(h, "\">%s</a>\n", _("Next page"));
                }
                html_markup(h, "</nav>\n");
        }
        html_markup(h, "</section>\n");
}

static void count_cell(struct html *h, const PGresult *r, int row, const char *column) {
        html_markup(h, "<td class=\"num\">");
        if (web_value(r, row, column))
                page_int(h, web_value_ll(r, row, column));
        else
                html_markup(h, "–");
        html_markup(h, "</td>");
}

static void render_purges(struct html *h, const PGresult *purges) {
        html_printf(h, "<section aria-labelledby=\"purges\">\n<h2 id=\"purges\">%s</h2>\n<p>%s</p>\n", _("Purges"),
                    _("What each purge deleted, as counts: retention (bokvar.yaml) decides what goes."));
        if (PQntuples(purges) == 0) {
                html_printf(h, "<p>%s</p>\n</section>\n", _("Nothing has been purged yet."));
                return;
        }
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th></tr></thead>\n<tbody>\n",
                    _("The purges, newest first"), _("When"), _("Who"), _("Households without a task"),
                    _("Households with tasks"), _("Signals"), _("Tasks"), _("Quarantined rows"),
                    _("Access log rows"), _("Audit log rows"));
        for (int i = 0; i < PQntuples(purges); i++) {
                html_markup(h, "<tr><td>");
                page_time(h, web_value(purges, i, "at"));
                html_printf(h, "</td><td>%s</td>", web_value(purges, i, "actor"));
                count_cell(h, purges, i, "households_without_task");
                count_cell(h, purges, i, "households_with_tasks");
                count_cell(h, purges, i, "signals");
                count_cell(h, purges, i, "tasks");
                count_cell(h, purges, i, "quarantined");
                count_cell(h, purges, i, "access_log");
                count_cell(h, purges, i, "audit_log");
                html_markup(h, "</tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n</section>\n");
}

static void on_access_log(struct web_request *wr, PGresult *const *r, size_t n) {
        struct search s;
        struct html h;
        bool searched;

        search_read(wr, &s);
        searched = wr->errors.n == 0;
        if (n != (searched ? 2 : 1) || web_first_failure(r, n)) {
                web_fail_page(wr, n > 0 ? web_first_failure(r, n) : NULL, for_auditors());
                return;
        }
        html_init(&h);
        page_begin(&h, _("Access log"), wr->login, wr->function, PAGE_NAV_ACCESS_LOG);
        html_printf(&h, "<h1>%s</h1>\n<p>%s</p>\n", _("Access log"),
                    _("Who read which household's personal data, when and through what. A read is unusual when the "
                      "reader had no task for the household at the time: none assigned to them, none they had "
                      "acted on."));
        render_form(&h, wr, &s);
        if (searched)
                render_log(&h, r[0], &s);
        render_purges(&h, r[n - 1]);
        page_end(&h);
        web_respond(wr, searched ? 200 : 422, &h);
}

void access_log_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        struct search s;
        char purges[16];

        search_read(wr, &s);
        (void) snprintf(purges, sizeof purges, "%d", PURGES_SHOWN);
        /* With mistakes, no search: the form with them, and the purges
         * (which the person must be an auditor to see). */
        if ((wr->errors.n == 0 ? search_batch(wr, &s, (s.page - 1) * PAGE_SIZE, PAGE_SIZE, &b)
                               : web_batch_new(wr, &b)) < 0 ||
            db_batch_add(b, SQL_PURGES, 1, (const char *const[]){ purges }) < 0) {
                web_fail(wr, NULL);
                return;
        }
        /* The mistakes are found again when the page is written. */
        wr->errors = (struct form_errors){};
        web_submit(wr, TAKE_PTR(b), on_access_log);
}

static void on_csv(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *log = n == 1 ? r[0] : NULL;
        struct buf csv = {};
        int k;

        if (!log || !web_result_ok(log)) {
                web_fail_page(wr, log, for_auditors());
                return;
        }
        /* The log's own values: timestamps as the database writes them
         * (ISO 8601), which spreadsheets read in any language; what people
         * typed (logins, reasons) kept from being taken for formulas. */
        k = csv_row(&csv,
                    (const char *const[]){ _("When"), _("Who"), _("Function"), _("Through login"), _("Household"),
                                           _("Task"), _("Through"), _("Reason given"), _("Unusual") },
                    9, 0);
        for (int i = 0; k >= 0 && i < PQntuples(log); i++)
                k = csv_row(&csv,
                            (const char *const[]){ web_value(log, i, "at"), web_value(log, i, "actor"),
                                                   label_actor_function(web_value(log, i, "function")),
                                                   web_value(log, i, "via"), web_value(log, i, "household_id"),
                                                   web_value(log, i, "task_id"), label_access_path(web_value(log, i, "path")),
                                                   web_value(log, i, "reason"),
                                                   web_value_bool(log, i, "unusual") ? _("Yes") : _("No") },
                            9, 1UL << 1 | 1UL << 3 | 1UL << 7);
        if (k < 0) {
                buf_free(&csv);
                web_fail(wr, NULL);
                return;
        }
        web_download(wr, "text/csv; charset=utf-8", "bokvar-access-log.csv", &csv);
}

void access_log_csv(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        struct search s;

        search_read(wr, &s);
        if (wr->errors.n > 0) {
                web_error(wr, 400, _("The search could not be read. Go back to the access log and search again."));
                return;
        }
        if (search_batch(wr, &s, 0, CSV_MAX, &b) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_csv);
}
