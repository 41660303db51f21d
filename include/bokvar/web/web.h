/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What bokvar-web's pages share: who is asking (the identity header, the
 * session, the CSRF token, as the router (router.h) found them), the
 * database, the language, and the ways to answer. Each page module
 * (worklist, household, actions, teams, feeds, access-log,
 * yearly-report, settings, notice) exports its handlers taking a struct
 * web_request.
 *
 * A page's database work is one batch (dbpool.h): its first statement
 * states whom bokvar-web acts for (bokvar.web_person), so that row-level
 * security answers as it would answer that person; a person the database
 * does not know gets 403, logged with the login name only.
 *
 * The language: the one the person chose (bokvar.actor_setting, read by
 * that first statement), else the best the browser accepts
 * (Accept-Language), else the installation's (language:). Pages write with
 * _() in whatever l10n_use() set; every callback that writes a page sets
 * wr->catalog first (web_submit's does). */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/config/config.h"
#include "bokvar/web/csrf.h"
#include "bokvar/web/dbpool.h"
#include "bokvar/web/server.h"

struct web {
        sd_event *event;
        struct config *config;
        struct db_pool *pool;
        struct csrf_key key;
        const struct catalog *catalog;   /* the installation's language (language:) */
};

/* One request that reached a page: who asks, and the language chosen. */
struct web_request {
        struct web *web;
        struct request *rq;
        const struct catalog *catalog;    /* the page's language: the person's, the browser's or the installation's */
        bool language_chosen;             /* the person chose it (else Accept-Language or the default did) */
        const char *login;                /* checked: a login name */
        char session[CSRF_TOKEN_SIZE];    /* the browser's session id (new if it had none) */
        char csrf[CSRF_TOKEN_SIZE];       /* the token this page's forms carry */
        long long id;                     /* the id in the path (/household/ID), or 0 */
        const char *action;               /* the path's last part for actions (/task/ID/ACTION) */
        /* From the batch's first statement: who the person is. */
        char *function;                   /* caseworker, coordinator, ... */
        char **teams;                     /* a caseworker's teams */
        /* A form that was refused, shown again on its page. */
        const char *failed_form;          /* its name (an action, "notice"), or NULL */
        const struct form *sent;          /* what was typed */
        struct form_errors errors;
};

int web_new(sd_event *event, struct config *config, struct web **ret);
struct web *web_free(struct web *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct web *, web_free);

/* For page handlers. A new batch whose first statement is the actor's. */
int web_batch_new(struct web_request *wr, struct db_batch **ret);
/* Submits the batch; done gets the results of the statements the page
 * added (the actor's already read into wr) or, when the database failed,
 * has been answered for (403, 503, 500) and gets NULL. */
typedef void (*web_page_fn)(struct web_request *wr, PGresult *const *results, size_t n);
void web_submit(struct web_request *wr, struct db_batch *b, web_page_fn done);

/* Answers and frees wr. */
void web_respond(struct web_request *wr, unsigned status, struct html *h);
void web_redirect(struct web_request *wr, const char *location);
/* A file to save (request_respond_download); body's text is taken. */
void web_download(struct web_request *wr, const char *content_type, const char *filename, struct buf *body);
void web_error(struct web_request *wr, unsigned status, const char *message);

/* Answers for a statement that failed (res NULL: something else did):
 * 403 when the database refused the person (42501), 404 for what is not
 * there (P0002), 500 otherwise, logged. */
void web_fail(struct web_request *wr, const PGresult *res);
/* The same for a page of some functions of person only: a refusal (42501)
 * says forbidden, a translated sentence on who the page is for. */
void web_fail_page(struct web_request *wr, const PGresult *res, const char *forbidden);
/* The first failed result of a batch's, or NULL when all succeeded. */
const PGresult *web_first_failure(PGresult *const *results, size_t n);

/* Whether s is a login name as bokvar takes them (1 to 63 of A-Z a-z 0-9
 * . _ @ -). */
bool web_login_valid(const char *s);

/* Whether a result is one row set (logs the server's message otherwise). */
bool web_result_ok(const PGresult *res);
/* A column of row r, by name: NULL for SQL NULL. */
const char *web_value(const PGresult *res, int row, const char *column);
long long web_value_ll(const PGresult *res, int row, const char *column);
bool web_value_bool(const PGresult *res, int row, const char *column);
