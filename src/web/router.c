/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What every request goes through before its page: the stylesheet, who
 * signed on (the identity header), the session and the CSRF token, the
 * language, and the route from method and path to the page's handler. */
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/access-log.h"
#include "bokvar/web/actions.h"
#include "bokvar/web/feed-status.h"
#include "bokvar/web/household.h"
#include "bokvar/web/notice-form.h"
#include "bokvar/web/page.h"
#include "bokvar/web/router.h"
#include "bokvar/web/settings.h"
#include "bokvar/web/teams.h"
#include "bokvar/web/web.h"
#include "bokvar/web/worklist.h"
#include "bokvar/web/yearly-report.h"

/* The stylesheet, compiled in (src/embed.py). */
extern const unsigned char web_css[];
extern const size_t web_css_size;

/* An error page for a request that never became a web_request. */
static void plain_error(struct request *rq, unsigned status, const char *message) {
        struct html h;

        html_init(&h);
        page_error(&h, status, NULL, NULL, message);
        request_respond_html(rq, status, &h);
}

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

void router_handle(struct request *rq, void *userdata) {
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
