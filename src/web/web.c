/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What every request goes through before its page: the stylesheet, who
 * signed on, the session and the CSRF token, the route; and the database
 * batch every page starts with the person it acts for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"
#include "bokvar/web/pages.h"
#include "bokvar/web/web.h"

/* The stylesheet, compiled in (src/embed.py). */
extern const unsigned char web_css[];
extern const size_t web_css_size;

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
        explicit_bzero(&w->key, sizeof w->key);
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

/* An error page for a request that never became a web_request. */
static void plain_error(struct request *rq, unsigned status, const char *message) {
        struct html h;

        html_init(&h);
        page_error(&h, status, NULL, NULL, message);
        request_respond_html(rq, status, &h);
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

/* ---- routes ---- */

/* "/household/12" with prefix "/household/": 12 and what follows it. */
static bool path_id(const char *path, const char *prefix, long long *ret_id, const char **ret_rest) {
        const char *p = startswith(path, prefix);
        size_t n;
        char *end;

        if (!p)
                return false;
        n = strspn(p, "0123456789");
        if (n == 0 || n > 18 || p[0] == '0')
                return false;
        *ret_id = strtoll(p, &end, 10);
        *ret_rest = end;
        return true;
}

/* POSTs come from our own pages, with the token of the session they were
 * shown in and of the person signed on now. */
static bool post_allowed(struct web_request *wr, bool had_session) {
        const char *site = request_header(wr->rq, "Sec-Fetch-Site");
        const struct form *f;
        const char *token;

        if (site && !streq(site, "same-origin") && !streq(site, "none"))
                return false;
        if (!had_session || request_form(wr->rq, &f) < 0)
                return false;
        token = form_get(f, "csrf", NULL);
        return csrf_check(&wr->web->key, wr->session, wr->login, token);
}

static void route(struct web_request *wr, bool had_session) {
        const char *path = request_path(wr->rq), *rest = NULL;
        enum http_method m = request_method(wr->rq);
        const struct form *f;

        if (m == HTTP_POST) {
                if (request_form(wr->rq, &f) < 0) {
                        web_error(wr, 400, _("The form could not be read. Go back, reload the page and try again."));
                        return;
                }
                if (!post_allowed(wr, had_session)) {
                        log_full_errno(LOG_NOTICE, 0, LOG_FIELDS({ "LOGIN", wr->login }),
                                       "Refused a form to %s: no valid CSRF token.", path);
                        web_error(wr, 403, _("The form was not sent from this page, or it has expired. Go back, "
                                             "reload the page and send it again."));
                        return;
                }
        }

        if (streq(path, "/")) {
                if (m == HTTP_GET) {
                        worklist_page(wr);
                        return;
                }
        } else if (streq(path, "/teams")) {
                if (m == HTTP_GET) {
                        teams_page(wr);
                        return;
                }
        } else if (streq(path, "/feeds")) {
                if (m == HTTP_GET) {
                        feeds_page(wr);
                        return;
                }
        } else if (streq(path, "/outbox/retry")) {
                if (m == HTTP_POST) {
                        outbox_retry_post(wr);
                        return;
                }
        } else if (path_id(path, "/outbox/", &wr->id, &rest)) {
                if (m == HTTP_POST && streq(rest, "/retry")) {
                        outbox_retry_post(wr);
                        return;
                }
        } else if (streq(path, "/access-log")) {
                if (m == HTTP_GET) {
                        access_log_page(wr);
                        return;
                }
        } else if (streq(path, "/access-log.csv")) {
                if (m == HTTP_GET) {
                        access_log_csv(wr);
                        return;
                }
        } else if (streq(path, "/report")) {
                if (m == HTTP_GET) {
                        report_page(wr);
                        return;
                }
        } else if (streq(path, "/report.csv")) {
                if (m == HTTP_GET) {
                        report_csv(wr);
                        return;
                }
        } else if (streq(path, "/settings")) {
                if (m == HTTP_GET) {
                        settings_page(wr);
                        return;
                }
                if (m == HTTP_POST) {
                        settings_save(wr);
                        return;
                }
        } else if (streq(path, "/notice")) {
                if (m == HTTP_GET) {
                        notice_page(wr);
                        return;
                }
                if (m == HTTP_POST) {
                        notice_register(wr);
                        return;
                }
        } else if (path_id(path, "/household/", &wr->id, &rest)) {
                if (m == HTTP_GET && streq(rest, "")) {
                        household_page(wr);
                        return;
                }
                if (m == HTTP_POST && streq(rest, "/children")) {
                        wr->action = "children";
                        action_post(wr);
                        return;
                }
        } else if (path_id(path, "/task/", &wr->id, &rest)) {
                if (m == HTTP_GET && streq(rest, "")) {
                        task_page(wr);
                        return;
                }
                if (m == HTTP_GET && streq(rest, "/hand-over")) {
                        hand_over_page(wr);
                        return;
                }
                if (m == HTTP_POST && rest[0] == '/' && action_known(rest + 1)) {
                        wr->action = rest + 1;
                        action_post(wr);
                        return;
                }
        } else {
                web_error(wr, 404, _("There is no such page. Use the menu to find your way."));
                return;
        }
        web_error(wr, m == HTTP_POST || m == HTTP_GET ? 404 : 405,
                  _("There is no such page. Use the menu to find your way."));
}

void web_handle(struct request *rq, void *userdata) {
        struct web *w = userdata;
        _cleanup_free_ char *cookie = NULL;
        struct web_request *wr;
        enum request_identity problem;
        const char *login, *session;
        const struct catalog *catalog;
        bool had_session;

        /* The browser's language until the person's own is known. */
        catalog = l10n_find(l10n_negotiate(request_header(rq, "Accept-Language")));
        if (!catalog)
                catalog = w->catalog;
        l10n_use(catalog);
        if (streq(request_path(rq), "/bokvar.css") && request_method(rq) == HTTP_GET) {
                request_respond_static(rq, "text/css; charset=utf-8", web_css, web_css_size,
                                       "public, max-age=3600");
                return;
        }

        login = request_login(rq, &problem);
        if (problem == REQUEST_NO_IDENTITY) {
                plain_error(rq, 401, _("Nobody is signed in. Open bokvar through your municipality's sign-in."));
                return;
        }
        if (problem == REQUEST_BAD_IDENTITY) {
                log_notice("Refused a request whose identity header is not one login name.");
                plain_error(rq, 403, _("Your sign-in did not give a login name bokvar can use."));
                return;
        }

        wr = calloc(1, sizeof *wr);
        if (!wr) {
                plain_error(rq, 500, _("Something went wrong on our side; it has been logged. Try again later."));
                return;
        }
        wr->web = w;
        wr->rq = rq;
        wr->catalog = catalog;
        wr->login = login;
        session = request_cookie(rq, SESSION_COOKIE);
        had_session = session_valid(session);
        if (had_session)
                memcpy(wr->session, session, CSRF_TOKEN_SIZE);
        else if (session_new(wr->session) < 0 || session_cookie(wr->session, &cookie) < 0 ||
                 request_set_cookie(rq, cookie) < 0) {
                web_error(wr, 500, _("Something went wrong on our side; it has been logged. Try again later."));
                return;
        }
        csrf_token(&w->key, wr->session, wr->login, wr->csrf);
        route(wr, had_session);
}
