/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a caseworker does with a task (acknowledge, record a contact, set a
 * follow-up date, reassign, hand over, close) or a household (correct the
 * number of children): each a form on the household page, checked here
 * field by field, all at once, then done by one SQL function as the
 * person. Done: 303 back to the page (POST-redirect-GET). Refused: the
 * household page again, 422, with what was typed and what is wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/web/actions.h"
#include "bokvar/web/household.h"
#include "bokvar/web/page.h"
#include "bokvar/web/teams.h"
#include "bokvar/web/web.h"

#define NOTE_MAX 2000

struct action {
        const char *name;          /* the form, and the path's last part */
        const char *sql;           /* $1 the task (the household for children) */
};

static const struct action actions[] = {
        { "ack", "SELECT id FROM bokvar.task_ack($1::bigint)" },
        { "contact", "SELECT id FROM bokvar.task_contact($1::bigint, $2::bokvar.contact_channel, $3::boolean, $4)" },
        { "follow-up", "SELECT id FROM bokvar.task_follow_up($1::bigint, $2::date, $3)" },
        { "reassign", "SELECT id FROM bokvar.task_reassign($1::bigint, $2, $3)" },
        { "hand-over", "SELECT id FROM bokvar.task_hand_over($1::bigint, $2, $3)" },
        { "close", "SELECT id FROM bokvar.task_close($1::bigint, $2::bokvar.task_outcome, $3)" },
        { "children", "SELECT bokvar.household_children_correct($1::bigint, $2::integer, $3)" },
};

/* What a field the database refused needs, by action and field. */
static const struct {
        const char *action, *field, *message;
} refusals[] = {
        { "follow-up", "date", N_("Choose a date from today up to a year ahead.") },
        { "reassign", "assignee", N_("Choose a caseworker of the task's team.") },
        { "hand-over", "team", N_("Choose another team than the task's own.") },
        { "hand-over", "reason", N_("Write why the task is handed over.") },
        { "children", "children", N_("Write the number of children as a whole number from 0 to 30.") },
};

bool action_known(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(actions[i].name, name) && !streq(name, "children"))
                        return true;
        return false;
}

/* The values an action sends, kept until its batch is built. */
struct action_values {
        char id[24];
        const char *params[4];
        size_t n;
        char *owned[4];            /* texts made here (notes without carriage returns) */
};

static void values_done(struct action_values *v) {
        for (size_t i = 0; i < ELEMENTSOF(v->owned); i++)
                free(v->owned[i]);
}

/* A note or reason: text, at most NOTE_MAX characters, line breaks as the
 * database keeps them (browsers send CR LF). NULL when left empty. */
static void note(const struct form *f, const char *field, bool required, struct form_errors *fe,
                 struct action_values *v) {
        const char *s;
        size_t n;
        char *copy, *o;

        switch (form_text(f, field, required, true, NOTE_MAX, &s, &n)) {
        case FORM_MISSING:
                form_errors_add(fe, field, _("Write a reason."));
                return;
        case FORM_NOT_TEXT:
                form_errors_add(fe, field, _("Write plain text only (no control characters)."));
                return;
        case FORM_TOO_LONG:
                form_errors_add(fe, field, _("Write at most 2000 characters."));
                return;
        case FORM_OK:
                break;
        }
        if (!s) {
                v->params[v->n++] = NULL;
                return;
        }
        copy = o = malloc(n + 1);
        if (!copy) {
                form_errors_add(fe, NULL, _("Something went wrong on our side; it has been logged. Try again later."));
                return;
        }
        for (size_t i = 0; i < n; i++)
                if (s[i] != '\r')
                        *o++ = s[i];
        *o = 0;
        v->owned[v->n] = copy;
        v->params[v->n++] = copy;
}

/* One of the words of a vocabulary, or the mistake. */
static void word(const struct form *f, const char *field, const char *const *words, const char *message,
                 struct form_errors *fe, struct action_values *v) {
        const char *s = form_get(f, field, NULL);

        for (size_t i = 0; s && words[i]; i++)
                if (streq(s, words[i])) {
                        v->params[v->n++] = words[i];
                        return;
                }
        form_errors_add(fe, field, message);
}

/* A YYYY-MM-DD date (the database checks that it exists and fits). */
static void date(const struct form *f, const char *field, struct form_errors *fe, struct action_values *v) {
        const char *s;
        size_t n;

        if (form_text(f, field, true, false, 10, &s, &n) != FORM_OK || n != 10 ||
            strspn(s, "0123456789") != 4 || s[4] != '-' || strspn(s + 5, "0123456789") != 2 || s[7] != '-' ||
            strspn(s + 8, "0123456789") != 2) {
                form_errors_add(fe, field, _("Write the date as YYYY-MM-DD."));
                return;
        }
        v->params[v->n++] = s;
}

static bool check(const char *action, const struct form *f, struct form_errors *fe, struct action_values *v) {
        static const char *const yes_no[] = { "yes", "no", NULL };
        static const char *const true_false[] = { "true", "false" };
        const char *s;
        size_t n;

        if (streq(action, "contact")) {
                word(f, "channel", contact_channel_names, _("Choose how you tried to reach the household."), fe, v);
                word(f, "reached", yes_no, _("Say whether you reached them."), fe, v);
                if (v->n == 3)
                        v->params[2] = streq(v->params[2], "yes") ? true_false[0] : true_false[1];
                note(f, "note", false, fe, v);
        } else if (streq(action, "follow-up")) {
                date(f, "date", fe, v);
                note(f, "note", false, fe, v);
        } else if (streq(action, "reassign")) {
                s = form_get(f, "assignee", &n);
                if (!s || strlen(s) != n || !web_login_valid(s))
                        form_errors_add(fe, "assignee", _("Choose a caseworker."));
                else
                        v->params[v->n++] = s;
                note(f, "reason", false, fe, v);
        } else if (streq(action, "hand-over")) {
                s = form_get(f, "team", &n);
                if (!s || n == 0 || n > 64 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
                        form_errors_add(fe, "team", _("Choose a team."));
                else
                        v->params[v->n++] = s;
                note(f, "reason", true, fe, v);
        } else if (streq(action, "close")) {
                word(f, "outcome", task_outcome_names, _("Choose the outcome."), fe, v);
                note(f, "note", false, fe, v);
        } else if (streq(action, "children")) {
                if (form_text(f, "children", true, false, 2, &s, &n) != FORM_OK || strspn(s, "0123456789") != n ||
                    atoi(s) > 30)
                        form_errors_add(fe, "children",
                                        _("Write the number of children as a whole number from 0 to 30."));
                else
                        v->params[v->n++] = s;
                note(f, "note", false, fe, v);
        }
        return fe->n == 0;
}

/* The household the form came from (a hidden field): where to go back to. */
static long long form_household(const struct web_request *wr, const struct form *f) {
        const char *s = form_get(f, "household", NULL);
        char *end;
        long long id;

        if (streq(wr->action, "children"))
                return wr->id;
        if (!s || !*s || strlen(s) > 18 || strspn(s, "0123456789") != strlen(s))
                return 0;
        id = strtoll(s, &end, 10);
        return id;
}

static void refused(struct web_request *wr, long long household) {
        /* From the coordinators' hand-over page: that page again. */
        if (streq(wr->action, "hand-over") && streq_ptr(form_get(wr->sent, "from", NULL), "hand-over")) {
                hand_over_page(wr);
                return;
        }
        if (household <= 0) {
                web_error(wr, 400, _("The form could not be read. Go back, reload the page and try again."));
                return;
        }
        household_show(wr, household);
}

static void on_action(struct web_request *wr, PGresult *const *r, size_t n) {
        const struct form *f = wr->sent;
        const char *state, *column;
        long long household = form_household(wr, f);
        char location[128];

        if (n == 1 && web_result_ok(r[0])) {
                if (streq(wr->action, "hand-over"))
                        (void) snprintf(location, sizeof location, "/?done=handed_over");
                else if (streq(wr->action, "children"))
                        (void) snprintf(location, sizeof location, "/household/%lld?done=children", household);
                else
                        (void) snprintf(location, sizeof location, "/household/%lld?done=%s#task-%lld", household,
                                        wr->action, wr->id);
                web_redirect(wr, location);
                return;
        }
        state = n == 1 ? PQresultErrorField(r[0], PG_DIAG_SQLSTATE) : NULL;
        /* A task of another team is no task to this person: as for reading it, 403. */
        if (streq_ptr(state, "P0002") || streq_ptr(state, "42501")) {
                web_error(wr, 403, _("You may not see this. Households and tasks are shown to the caseworkers of "
                                     "their team."));
                return;
        }
        if (!streq_ptr(state, "22023")) {
                web_fail(wr, n == 1 ? r[0] : NULL);
                return;
        }
        /* Refused by the database: a field of the form, or the task itself. */
        column = PQresultErrorField(r[0], PG_DIAG_COLUMN_NAME);
        for (size_t i = 0; column && i < ELEMENTSOF(refusals); i++)
                if (streq(refusals[i].action, wr->action) && streq(refusals[i].field, column))
                        form_errors_add(&wr->errors, refusals[i].field, _(refusals[i].message));
        if (wr->errors.n == 0)
                form_errors_add(&wr->errors, NULL,
                                _("The task is no longer open: it may have been closed meanwhile. Reload the page."));
        wr->failed_form = wr->action;
        refused(wr, household);
}

void action_post(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        struct action_values v = {};
        const struct action *a = NULL;
        const struct form *f;
        long long household;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++)
                if (streq(actions[i].name, wr->action))
                        a = &actions[i];
        if (!a || request_form(wr->rq, &f) < 0) {
                web_error(wr, 404, _("There is no such page. Use the menu to find your way."));
                return;
        }
        wr->sent = f;
        household = form_household(wr, f);
        (void) snprintf(v.id, sizeof v.id, "%lld", wr->id);
        v.params[v.n++] = v.id;
        if (!check(a->name, f, &wr->errors, &v)) {
                values_done(&v);
                wr->failed_form = a->name;
                refused(wr, household);
                return;
        }
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, a->sql, v.n, v.params) < 0) {
                values_done(&v);
                web_fail(wr, NULL);
                return;
        }
        values_done(&v);
        web_submit(wr, TAKE_PTR(b), on_action);
}
