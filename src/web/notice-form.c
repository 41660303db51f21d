/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Registering a notice that came by letter or e-mail. The form's fields
 * are the canonical fields of a signal, checked here exactly as a feed's
 * row is (ingest/notice.h: the same code), field by field, together with
 * what is no text at all or more than a form's field holds; only a notice
 * with nothing wrong goes to the database, typed, for
 * bokvar.signal_register() to merge as the feeds' ingest does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/ingest/notice.h"
#include "bokvar/web/notice-form.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"

static const char SQL_REGISTER[] =
        "SELECT signal_id, household_id, task_id, team FROM bokvar.signal_register($1::jsonb)";

/* The fields, in the form's order. How long each may be is the ingest's
 * to say (signal_field_max); more than FIELD_MAX characters is not read
 * at all. */
#define FIELD_MAX 1000
static const enum canonical_field fields[] = {
        FIELD_KIND, FIELD_OCCURRED_AT, FIELD_DEADLINE, FIELD_PERSON_ID, FIELD_NAME, FIELD_ADDRESS, FIELD_APARTMENT,
        FIELD_POSTAL_CODE, FIELD_CITY, FIELD_CHILDREN, FIELD_AMOUNT, FIELD_MONTHS_IN_ARREARS, FIELD_LANDLORD,
};

/* The ingest's reasons about an identity number, as ingest/identity.c
 * words them, for people to read in their language. */
static const char *const identity_reasons[] = {
        N_("is not an identity number (a Swedish personnummer, Norwegian fødselsnummer or Dutch BSN)"),
        N_("is not a Swedish personnummer (YYMMDD-NNNC or YYYYMMDDNNNC)"),
        N_("the date part of the Swedish personnummer is not a valid date"),
        N_("the Swedish personnummer has a date of birth in the future"),
        N_("the check digit of the Swedish personnummer is wrong"),
        N_("is not a Norwegian fødselsnummer (11 digits)"),
        N_("the first check digit of the Norwegian fødselsnummer is wrong"),
        N_("the second check digit of the Norwegian fødselsnummer is wrong"),
        N_("the date part of the Norwegian fødselsnummer is not a valid date"),
        N_("is not a Dutch BSN (9 digits)"),
        N_("the Dutch BSN fails the 11-proef"),
};

/* What people read for the ingest's refusal of a field. */
static const char *refusal(const char *field, const char *problem, bool blank) {
        if (!field)
                return _("Give an identity number, or an address with its postal code, so that the notice can be "
                         "matched to a home.");
        if (streq(field, "kind"))
                return _("Choose what kind of notice it is.");
        if (streq(field, "occurred_at"))
                return blank ? _("Write the date of the notice.")
                             : _("Write the date as YYYY-MM-DD; it must be a date that exists.");
        if (streq(field, "deadline"))
                return _("Write the deadline as YYYY-MM-DD; it must be a date that exists.");
        if (streq(field, "person_id")) {
                for (size_t i = 0; problem && i < ELEMENTSOF(identity_reasons); i++)
                        if (streq(problem, identity_reasons[i]))
                                return _(identity_reasons[i]);
                return _("This is not a valid identity number.");
        }
        if (streq(field, "children"))
                return _("Write the number of children as a whole number, 0 or more.");
        if (streq(field, "amount"))
                return _("Write the amount in kronor, for example 12 345,50.");
        if (streq(field, "months_in_arrears"))
                return _("Write the number of months as a whole number, 0 or more.");
        /* What else the ingest refuses of a text is its length. */
        return _("This is longer than the field takes.");
}

static void render_form(struct web_request *wr, unsigned status) {
        const char *kind_labels[_SIGNAL_KIND_MAX];
        struct page_form pf = { "notice", wr->sent, &wr->errors };
        const char *done = request_query(wr->rq, "done"), *signal = request_query(wr->rq, "signal");
        struct html h;

        for (size_t i = 0; i < _SIGNAL_KIND_MAX; i++)
                kind_labels[i] = label_signal_kind(signal_kind_names[i]);

        html_init(&h);
        page_begin(&h, _("Register a notice"), wr->login, wr->function, PAGE_NAV_NOTICE);
        html_printf(&h, "<h1>%s</h1>\n", _("Register a notice"));
        if (streq_ptr(done, "elsewhere") && signal && strspn(signal, "0123456789") == strlen(signal) &&
            !wr->failed_form)
        {
                html_markup(&h, "<p class=\"notice\" role=\"status\">");
                html_sentence(&h, _("The notice is registered as signal %s. Its household has no open task of your "
                                    "teams, so it does not show here."),
                              signal);
                html_markup(&h, "</p>\n");
        }
        html_printf(&h, "<p>%s</p>\n",
                    _("For a notice that came by letter or e-mail. It is checked as the feeds' rows are, matched "
                      "to a home, scored and, if it needs one, given a task, as if a feed had brought it."));
        page_error_summary(&h, &pf);
        html_markup(&h, "<form method=\"post\" action=\"/notice\">\n");
        page_csrf_field(&h, wr->csrf);
        html_printf(&h, "<fieldset>\n<legend>%s</legend>\n", _("The notice"));
        page_select(&h, &pf, "kind", _("Kind of notice"), NULL, signal_kind_names, kind_labels, _SIGNAL_KIND_MAX,
                    _("Choose the kind"), NULL, true);
        page_input(&h, &pf, "occurred_at", _("Date of the notice"), _("YYYY-MM-DD"), PAGE_INPUT_DATE, NULL, true,
                   10);
        page_input(&h, &pf, "deadline", _("Deadline, if the notice gives one"),
                   _("YYYY-MM-DD. Left empty, a termination gets the three weeks the law gives to pay."),
                   PAGE_INPUT_DATE, NULL, false, 0);
        page_input(&h, &pf, "amount", _("Amount owed"), _("In kronor, for example 12 345,50."), PAGE_INPUT_TEXT,
                   NULL, false, 0);
        page_input(&h, &pf, "months_in_arrears", _("Months in arrears"), NULL, PAGE_INPUT_NUMBER, NULL, false, 0);
        page_input(&h, &pf, "landlord", _("Landlord"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        html_printf(&h, "</fieldset>\n<fieldset>\n<legend>%s</legend>\n", _("The tenant and the home"));
        page_input(&h, &pf, "person_id", _("Identity number"),
                   _("A personnummer as YYYYMMDD-NNNN (or a Norwegian fødselsnummer). Give it, or the address with "
                     "its postal code."),
                   PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "name", _("Name"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "address", _("Street address"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "apartment", _("Apartment number"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "postal_code", _("Postal code"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "city", _("City"), NULL, PAGE_INPUT_TEXT, NULL, false, 0);
        page_input(&h, &pf, "children", _("Children in the home"), _("If the notice says."), PAGE_INPUT_NUMBER, NULL,
                   false, 0);
        html_printf(&h, "</fieldset>\n<button type=\"submit\">%s</button>\n</form>\n", _("Register the notice"));
        page_end(&h);
        web_respond(wr, status, &h);
}

static void on_notice_page(struct web_request *wr, PGresult *const *r _unused_, size_t n _unused_) {
        /* Who registers notices is the database's to say (signal_register);
         * the form is not offered to whom it would refuse. */
        if (!streq_ptr(wr->function, "caseworker") && !streq_ptr(wr->function, "coordinator")) {
                web_error(wr, 403, _("Notices are registered by caseworkers and coordinators."));
                return;
        }
        render_form(wr, 200);
}

void notice_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;

        /* Only the first statement: who they are (for the menu, and this). */
        if (web_batch_new(wr, &b) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_notice_page);
}

static bool in_teams(const struct web_request *wr, const char *team) {
        if (streq_ptr(wr->function, "coordinator"))
                return true;
        for (char **t = wr->teams; team && t && *t; t++)
                if (streq(*t, team))
                        return true;
        return false;
}

static void on_register(struct web_request *wr, PGresult *const *r, size_t n) {
        const PGresult *res = n == 1 ? r[0] : NULL;
        char location[128];

        if (!res || !web_result_ok(res) || PQntuples(res) != 1 || !web_value(res, 0, "signal_id")) {
                web_fail(wr, res);
                return;
        }
        if (in_teams(wr, web_value(res, 0, "team")))
                (void) snprintf(location, sizeof location, "/household/%lld?done=registered",
                                web_value_ll(res, 0, "household_id"));
        else
                (void) snprintf(location, sizeof location, "/notice?done=elsewhere&signal=%lld",
                                web_value_ll(res, 0, "signal_id"));
        web_redirect(wr, location);
}

/* Today where bokvar-web runs: what identity numbers are read against. */
static day_t today(void) {
        time_t now = time(NULL);
        struct tm tm;
        day_t d = DAY_NONE;

        if (!localtime_r(&now, &tm) || day_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, &d) < 0)
                return DAY_NONE;
        return d;
}

/* What the ingest found wrong, after what the form did (one a field). */
static void add_problems(struct web_request *wr, const struct notice_problem *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const char *field = p[i].field >= 0 ? canonical_field_names[p[i].field] : NULL;
                size_t len = 0;
                const char *v = field ? form_get(wr->sent, field, &len) : NULL;
                bool blank = !v || strspn(v, " \t") == len;

                /* A notice refused as a whole is shown at the identity number. */
                form_errors_add(&wr->errors, field ? field : "person_id", refusal(field, p[i].problem, blank));
        }
}

void notice_register(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        struct signal_row row = {};
        struct notice_problem *problems = NULL;
        size_t n_problems = 0;
        struct buf json = {};
        struct json_writer w;
        const struct form *f;
        const char *params[1];
        day_t day = today();
        int k;

        if (request_form(wr->rq, &f) < 0) {
                web_error(wr, 400, _("The form could not be read. Go back, reload the page and try again."));
                return;
        }
        wr->sent = f;

        /* The fields as text; what is no text, or too long, is refused here
         * and left out of what the ingest's rules check. */
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                const char *name = canonical_field_names[fields[i]], *s;
                size_t len;

                switch (form_text(f, name, false, false, FIELD_MAX, &s, &len)) {
                case FORM_NOT_TEXT:
                        form_errors_add(&wr->errors, name, _("Write plain text only (no control characters)."));
                        continue;
                case FORM_TOO_LONG:
                        form_errors_add(&wr->errors, name, _("This is longer than the field takes."));
                        continue;
                case FORM_MISSING:
                case FORM_OK:
                        break;
                }
                if (signal_row_set(&row, fields[i], s, s ? len : 0) < 0)
                        goto fail;
        }
        if (day == DAY_NONE)
                goto fail;
        k = notice_check(&row, day, &problems, &n_problems);
        if (k < 0)
                goto fail;
        if (k > 0 || wr->errors.n > 0) {
                add_problems(wr, problems, n_problems);
                notice_problems_free(problems, n_problems);
                signal_row_done(&row);
                wr->failed_form = "notice";
                render_form(wr, 422);
                return;
        }

        json_writer_init(&w, &json);
        notice_write_json(&row, &w);
        signal_row_done(&row);
        if (json_writer_finish(&w) < 0) {
                buf_free(&json);
                web_fail(wr, NULL);
                return;
        }
        params[0] = json.data;
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_REGISTER, 1, params) < 0) {
                buf_free(&json);
                web_fail(wr, NULL);
                return;
        }
        buf_free(&json);
        web_submit(wr, TAKE_PTR(b), on_register);
        return;
fail:
        notice_problems_free(problems, n_problems);
        signal_row_done(&row);
        web_fail(wr, NULL);
}
