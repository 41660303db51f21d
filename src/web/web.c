/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the pages share: a request's answer (a page, a download, a
 * redirect, an error), the database batch every page starts with the
 * person it acts for, and reading its results. The router (router.c)
 * makes the web_request the pages are given. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"
#include "bokvar/web/web.h"

int web_new(sd_event *event, struct config *config, struct web **ret) {
        _cleanup_(web_freep) struct web *w = calloc(1, sizeof *w);
        int r;

        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->config = config_ref(config);
        r = csrf_key_init(&w->key, config->web.key.value, config->web.key.size);
        if (r < 0)
                return log_error_errno(r, "Cannot make the key for the forms' tokens: %m");
        if (!config->web.key.value)
                log_info("No web.key_credential: forms opened before bokvar-web restarts are refused once and "
                         "sent again.");
        r = db_pool_new(event, config, config->web.connections, &w->pool);
        if (r < 0)
                return r;
        /* The installation's language: what people read unless they or
         * their browser ask for another (config_load checked it is built in). */
        w->catalog = l10n_find(config->language);
        if (!w->catalog)
                return log_error_errno(ENOENT, "The catalogue of language %s is not built into bokvar-web.",
                                       config->language);
        *ret = TAKE_PTR(w);
        return 0;
}

struct web *web_free(struct web *w) {
        if (!w)
                return NULL;
        db_pool_free(w->pool);
        config_unref(w->config);
        sd_event_unref(w->event);
        csrf_key_done(&w->key);
        return mfree(w);
}

static struct web_request *web_request_free(struct web_request *wr) {
        if (!wr)
                return NULL;
        free(wr->function);
        strv_free(wr->teams);
        return mfree(wr);
}

void web_respond(struct web_request *wr, unsigned status, struct html *h) {
        request_respond_html(wr->rq, status, h);
        web_request_free(wr);
}

void web_download(struct web_request *wr, const char *content_type, const char *filename, struct buf *body) {
        request_respond_download(wr->rq, content_type, filename, body);
        web_request_free(wr);
}

void web_redirect(struct web_request *wr, const char *location) {
        request_redirect(wr->rq, location);
        web_request_free(wr);
}

void web_error(struct web_request *wr, unsigned status, const char *message) {
        struct html h;

        html_init(&h);
        page_error(&h, status, wr->login, wr->function, message);
        web_respond(wr, status, &h);
}

/* ---- database results ---- */

bool web_login_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 63 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

const PGresult *web_first_failure(PGresult *const *results, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!web_result_ok(results[i]))
                        return results[i];
        return NULL;
}

void web_fail_page(struct web_request *wr, const PGresult *res, const char *forbidden) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (streq_ptr(state, "42501")) {
                web_error(wr, 403, forbidden);
                return;
        }
        web_fail(wr, res);
}

void web_fail(struct web_request *wr, const PGresult *res) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (streq_ptr(state, "42501")) {
                web_error(wr, 403, _("You may not see this. Households and tasks are shown to the caseworkers of "
                                     "their team."));
                return;
        }
        if (streq_ptr(state, "P0002")) {
                web_error(wr, 404, _("There is no such page. Use the menu to find your way."));
                return;
        }
        if (res) {
                /* The server's message may quote what was typed: the state and
                 * where it came from are logged, never the message. */
                const char *where = PQresultErrorField(res, PG_DIAG_CONTEXT);

                log_error("A statement of %s failed with SQLSTATE %s%s%.*s.", request_path(wr->rq),
                          state ? state : "?", where ? " in " : "", where ? (int) strcspn(where, "\n") : 0,
                          where ? where : "");
        } else
                log_error("Could not make the page for %s.", request_path(wr->rq));
        web_error(wr, 500, _("Something went wrong on our side; it has been logged. Try again later."));
}

bool web_result_ok(const PGresult *res) {
        ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

        return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

const char *web_value(const PGresult *res, int row, const char *column) {
        int c = PQfnumber(res, column);

        if (c < 0 || row >= PQntuples(res) || PQgetisnull(res, row, c))
                return NULL;
        return PQgetvalue(res, row, c);
}

long long web_value_ll(const PGresult *res, int row, const char *column) {
        const char *v = web_value(res, row, column);

        return v ? strtoll(v, NULL, 10) : 0;
}

bool web_value_bool(const PGresult *res, int row, const char *column) {
        const char *v = web_value(res, row, column);

        return v && v[0] == 't';
}

/* ---- the batch every page starts with ---- */

/* Whom bokvar-web acts for in this transaction, what they are, and the
 * language they chose. */
static const char SQL_ACTOR[] = "SELECT function, teams, language FROM bokvar.web_person($1)";

int web_batch_new(struct web_request *wr, struct db_batch **ret) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        const char *params[] = { wr->login };
        int r;

        r = db_batch_new(&b);
        if (r >= 0)
                r = db_batch_add(b, SQL_ACTOR, 1, params);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

struct page_call {
        struct web_request *wr;
        web_page_fn done;
};

static int split_teams(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        const char *p = s;

        if (!l)
                return -ENOMEM;
        while (p && *p) {
                size_t n = strcspn(p, ",");
                _cleanup_free_ char *t = strndup(p, n);

                if (!t || strv_extend(&l, t) < 0)
                        return -ENOMEM;
                p += n;
                if (*p == ',')
                        p++;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static void on_batch(PGresult *const *results, size_t n, void *userdata) {
        struct page_call *pc = userdata;
        struct web_request *wr = pc->wr;
        web_page_fn done = pc->done;
        const PGresult *actor;
        const char *state;

        free(pc);
        l10n_use(wr->catalog);
        if (!results) {
                web_error(wr, 503, _("The database cannot be reached just now. Try again in a minute."));
                return;
        }
        actor = results[0];
        if (!web_result_ok(actor)) {
                state = PQresultErrorField(actor, PG_DIAG_SQLSTATE);
                if (streq_ptr(state, "42501")) {
                        log_full_errno(LOG_NOTICE, 0, LOG_FIELDS({ "LOGIN", wr->login }),
                                       "Refused %s: not a person bokvar knows.", wr->login);
                        web_error(wr, 403, _("Your login is not one bokvar knows. Ask whoever administers bokvar "
                                             "to add you to a team."));
                        return;
                }
                web_fail(wr, actor);
                return;
        }
        /* A request may make a second batch (a refused form's page again). */
        wr->function = mfree(wr->function);
        wr->teams = strv_free(wr->teams);
        if (PQntuples(actor) != 1 || strdup_or_null(web_value(actor, 0, "function"), &wr->function) < 0 ||
            split_teams(web_value(actor, 0, "teams"), &wr->teams) < 0) {
                web_error(wr, 500, _("Something went wrong on our side; it has been logged. Try again later."));
                return;
        }
        /* Their own choice, if bokvar-web still has that language. */
        if (l10n_find(web_value(actor, 0, "language"))) {
                wr->catalog = l10n_find(web_value(actor, 0, "language"));
                wr->language_chosen = true;
                l10n_use(wr->catalog);
        }
        done(wr, results + 1, n - 1);
}

void web_submit(struct web_request *wr, struct db_batch *b, web_page_fn done) {
        struct page_call *pc = calloc(1, sizeof *pc);
        int r;

        if (!pc) {
                db_batch_free(b);
                web_error(wr, 500, _("Something went wrong on our side; it has been logged. Try again later."));
                return;
        }
        *pc = (struct page_call){ wr, done };
        request_suspend(wr->rq);
        r = db_pool_submit(wr->web->pool, b, on_batch, pc);
        if (r < 0) {
                free(pc);
                web_error(wr, 503, _("bokvar is busy just now. Try again in a minute."));
        }
}
