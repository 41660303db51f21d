/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Feeds and deliveries, for coordinators and operators: each feed's last
 * fetch, its counts, failures and what waits in its quarantine; the dead
 * letters of the outbox, each sent again on request (or all at once). No
 * personal data: fetch counts and errors, events of tasks by number. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/feed-status.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"

#define DEAD_SHOWN 100

static const char SQL_FEEDS[] =
        "SELECT feed, source, last_attempt_at, last_success_at, failures, last_error, last_rows_read, last_accepted, "
        "last_updated, last_duplicate, last_quarantined, total_fetches, quarantined FROM bokvar.web_feeds()";
static const char SQL_DEAD[] =
        "SELECT id, task_id, kind, channel, attempts, last_attempt_at, last_status, last_error, total "
        "FROM bokvar.web_dead_letters($1::integer)";
static const char SQL_RETRY[] = "SELECT bokvar.web_outbox_retry($1::bigint) AS n";

static const char *for_coordinators_and_operators(void) {
        return _("This page is for coordinators and operators.");
}

static void num_cell(struct html *h, const PGresult *r, int row, const char *column) {
        html_markup(h, "<td class=\"num\">");
        page_int(h, web_value_ll(r, row, column));
        html_markup(h, "</td>");
}

static void time_cell(struct html *h, const char *t) {
        html_markup(h, "<td>");
        if (t)
                page_time(h, t);
        else
                html_printf(h, "<span class=\"unknown\">%s</span>", _("never"));
        html_markup(h, "</td>");
}

static void render_feeds(struct html *h, const PGresult *feeds) {
        html_printf(h, "<section aria-labelledby=\"feeds\">\n<h2 id=\"feeds\">%s</h2>\n", _("Feeds"));
        if (PQntuples(feeds) == 0) {
                html_printf(h, "<p>%s</p>\n</section>\n", _("No feed has been fetched yet."));
                return;
        }
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\" class=\"num\">%s</th></tr></thead>\n<tbody>\n",
                    _("Each feed's last fetch: the rows it read and what became of them"), _("Feed"), _("Source"),
                    _("Last fetched"), _("Last fetched in full"), _("Rows read"), _("New"), _("Updated"),
                    _("Duplicates"), _("Quarantined"), _("Failures in a row"), _("Last failure"),
                    _("Waiting in the quarantine"));
        for (int i = 0; i < PQntuples(feeds); i++) {
                long long failures = web_value_ll(feeds, i, "failures");

                html_printf(h, "<tr><th scope=\"row\">%s</th><td>%s</td>", web_value(feeds, i, "feed"),
                            label_feed_source(web_value(feeds, i, "source")));
                time_cell(h, web_value(feeds, i, "last_attempt_at"));
                time_cell(h, web_value(feeds, i, "last_success_at"));
                num_cell(h, feeds, i, "last_rows_read");
                num_cell(h, feeds, i, "last_accepted");
                num_cell(h, feeds, i, "last_updated");
                num_cell(h, feeds, i, "last_duplicate");
                num_cell(h, feeds, i, "last_quarantined");
                html_printf(h, "<td class=\"num%s\">", failures > 0 ? " overdue" : "");
                page_int(h, failures);
                html_markup(h, "</td><td>");
                if (failures > 0 && web_value(feeds, i, "last_error"))
                        html_text(h, web_value(feeds, i, "last_error"));
                else
                        html_markup(h, "–");
                html_markup(h, "</td>");
                num_cell(h, feeds, i, "quarantined");
                html_markup(h, "</tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n</section>\n");
}

static void render_dead(struct html *h, const struct web_request *wr, const PGresult *dead) {
        long long total = PQntuples(dead) > 0 ? web_value_ll(dead, 0, "total") : 0;
        char count[L10N_TEXT_MAX];

        html_printf(h, "<section aria-labelledby=\"dead\">\n<h2 id=\"dead\">%s</h2>\n", _("Dead letters"));
        if (total == 0) {
                html_printf(h, "<p>%s</p>\n</section>\n", _("Every event has gone out, or is still being tried."));
                return;
        }
        (void) l10n_int(total, count);
        html_markup(h, "<p>");
        html_sentence(h, l10n_ngettext("%s event could not be delivered and is no longer tried. Once the receiver "
                                       "works again, send it again.",
                                       "%s events could not be delivered and are no longer tried. Once the "
                                       "receiver works again, send them again.",
                                       (unsigned long) total),
                      count);
        html_markup(h, "</p>\n<form method=\"post\" action=\"/outbox/retry\">\n");
        page_csrf_field(h, wr->csrf);
        html_printf(h, "<button type=\"submit\">%s</button>\n</form>\n", _("Send every dead letter again"));
        html_printf(h,
                    "<table>\n<caption>%s</caption>\n<thead><tr><th scope=\"col\">%s</th><th scope=\"col\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\" class=\"num\">%s</th>"
                    "<th scope=\"col\">%s</th><th scope=\"col\">%s</th><th scope=\"col\">%s</th></tr></thead>\n"
                    "<tbody>\n",
                    _("Dead letters, newest first"), _("Event"), _("Task"), _("What"), _("Channel"), _("Attempts"),
                    _("Last attempt"), _("The receiver's answer"), _("Send again"));
        for (int i = 0; i < PQntuples(dead); i++) {
                const char *id = web_value(dead, i, "id"), *status = web_value(dead, i, "last_status");

                html_printf(h, "<tr><td>%s</td><td>", id);
                html_sentence(h, _("Task %s"), web_value(dead, i, "task_id"));
                html_printf(h, "</td><td>%s</td><td>%s</td>", label_task_event(web_value(dead, i, "kind")),
                            web_value(dead, i, "channel"));
                num_cell(h, dead, i, "attempts");
                time_cell(h, web_value(dead, i, "last_attempt_at"));
                html_markup(h, "<td>");
                if (status && !streq(status, "0"))
                        html_printf(h, "%s ", status);
                html_text(h, web_value(dead, i, "last_error"));
                html_printf(h, "</td><td><form method=\"post\" action=\"/outbox/%s/retry\">", id);
                page_csrf_field(h, wr->csrf);
                html_markup(h, "<button type=\"submit\">");
                html_sentence(h, _("Send event %s again"), id);
                html_markup(h, "</button></form></td></tr>\n");
        }
        html_markup(h, "</tbody>\n</table>\n");
        if (total > DEAD_SHOWN) {
                char shown[L10N_TEXT_MAX];

                (void) l10n_int(DEAD_SHOWN, shown);
                html_markup(h, "<p>");
                html_sentence(h, _("The newest %1$s of %2$s are shown; bokvarctl outbox --dead lists them all."), shown,
                              count);
                html_markup(h, "</p>\n");
        }
        html_markup(h, "</section>\n");
}

static void on_feeds(struct web_request *wr, PGresult *const *r, size_t n) {
        const char *done = request_query(wr->rq, "done");
        struct html h;

        if (n != 2 || web_first_failure(r, n)) {
                web_fail_page(wr, n == 2 ? web_first_failure(r, n) : NULL, for_coordinators_and_operators());
                return;
        }
        html_init(&h);
        page_begin(&h, _("Feeds and deliveries"), wr->login, wr->function, PAGE_NAV_FEEDS);
        html_printf(&h, "<h1>%s</h1>\n", _("Feeds and deliveries"));
        if (streq_ptr(done, "retried"))
                html_printf(&h, "<p class=\"notice\" role=\"status\">%s</p>\n",
                            _("The dead letters are queued again and go out shortly."));
        render_feeds(&h, r[0]);
        render_dead(&h, wr, r[1]);
        page_end(&h);
        web_respond(wr, 200, &h);
}

void feeds_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char limit[16];

        (void) snprintf(limit, sizeof limit, "%d", DEAD_SHOWN);
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_FEEDS, 0, NULL) < 0 ||
            db_batch_add(b, SQL_DEAD, 1, (const char *const[]){ limit }) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_feeds);
}

static void on_retried(struct web_request *wr, PGresult *const *r, size_t n) {
        if (n != 1 || !web_result_ok(r[0])) {
                web_fail_page(wr, n == 1 ? r[0] : NULL, for_coordinators_and_operators());
                return;
        }
        web_redirect(wr, "/feeds?done=retried");
}

void outbox_retry_post(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        char id[24];

        /* wr->id 0: every dead letter. */
        (void) snprintf(id, sizeof id, "%lld", wr->id);
        if (web_batch_new(wr, &b) < 0 ||
            db_batch_add(b, SQL_RETRY, 1, (const char *const[]){ wr->id > 0 ? id : NULL }) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_retried);
}
