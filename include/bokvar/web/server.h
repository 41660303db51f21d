/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvar-web's HTTP server: libmicrohttpd driven by sd-event, without
 * threads of its own (its epoll descriptor is one sd-event I/O source, its
 * timeouts one timer). A request's handler answers at once, or suspends
 * the request while the database works and answers from the callback;
 * other connections are served meanwhile. Nothing here blocks.
 *
 * Whom it believes: the identity header (who signed on at the proxy) is
 * read only from a trusted peer: over a Unix socket, a process whose user
 * is listed as trusted (SO_PEERCRED), or anyone the socket's permissions
 * admit when none is listed; over TCP, loopback addresses only. Requests
 * from other peers are answered 403 before any handler sees them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/duration.h"
#include "bokvar/basic/macro.h"
#include "bokvar/web/form.h"
#include "bokvar/web/html.h"

struct web_server;
struct request;

typedef void (*web_handler_fn)(struct request *rq, void *userdata);
typedef void (*web_idle_fn)(void *userdata);

struct web_server_options {
        const char *identity_header;
        const uid_t *trusted_uids;      /* Unix socket peers believed; none: whoever the socket admits */
        size_t n_trusted_uids;
        usec_t idle_exit;               /* no request and no connection for this long: idle() (0: never) */
        size_t max_body;                /* larger request bodies get 413 */
        web_idle_fn idle;               /* called when idle for idle_exit, after accepting stopped */
        void *idle_userdata;
};

/* Serves on each listening socket (the server owns them). handler gets
 * every request from a trusted peer. */
int web_server_new(sd_event *event, const struct web_server_options *o, const int *listen_fds, size_t n_fds,
                   web_handler_fn handler, void *userdata, struct web_server **ret);
struct web_server *web_server_free(struct web_server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct web_server *, web_server_free);
/* Stops accepting connections (systemd keeps the socket; the next start
 * takes what waits there). done is called, from the event loop, once no
 * request is being answered. */
void web_server_stop(struct web_server *s, void (*done)(void *userdata), void *userdata);

/* Listening sockets from systemd (LISTEN_FDS), or, with listen given, one
 * made here: a path (a Unix socket, created anew) or HOST:PORT. */
int web_listen(const char *listen, int **ret_fds, size_t *ret_n);

enum http_method {
        HTTP_GET,          /* and HEAD: the server leaves the body out */
        HTTP_POST,
        HTTP_OTHER,
};

enum http_method request_method(const struct request *rq);
/* The path, without the query. */
const char *request_path(const struct request *rq);
/* A query parameter, decoded (any bytes; check before use), or NULL. */
const char *request_query(const struct request *rq, const char *name);
/* A request header, or NULL. */
const char *request_header(const struct request *rq, const char *name);
/* A cookie, or NULL. */
const char *request_cookie(const struct request *rq, const char *name);

/* Who signed on, as the identity header says: NULL with ret_problem
 * REQUEST_NO_IDENTITY when the header is absent or empty, REQUEST_BAD_IDENTITY
 * when it is there twice or is not a login name (1 to 63 of A-Z a-z 0-9 . _
 * @ -, the characters a PostgreSQL login made from a user name carries). */
enum request_identity {
        REQUEST_IDENTITY_OK,
        REQUEST_NO_IDENTITY,
        REQUEST_BAD_IDENTITY,
};
const char *request_login(const struct request *rq, enum request_identity *ret_problem);

/* The POST body's fields. -EBADMSG for a body that is not a form
 * (another content type, a broken escape), -E2BIG for too many fields. */
int request_form(struct request *rq, const struct form **ret);

/* While the database works: the connection waits, others go on. */
void request_suspend(struct request *rq);

/* Answers. Each request is answered once; these may be called from any
 * event-loop callback (a suspended request is resumed). Every answer
 * carries the security headers (CSP, nosniff, no-referrer, no framing) and
 * Cache-Control: no-store unless said otherwise. */
void request_respond_html(struct request *rq, unsigned status, struct html *body);
/* Static data (not copied: it must live as long as the process). */
void request_respond_static(struct request *rq, const char *content_type, const void *data, size_t size,
                            const char *cache_control);
/* A file to save (Content-Disposition: attachment): body's text is taken,
 * whatever happens; filename is ours (letters, digits, '-', '.'). */
void request_respond_download(struct request *rq, const char *content_type, const char *filename, struct buf *body);
/* 303 See Other to a path of this site (POST-redirect-GET). */
void request_redirect(struct request *rq, const char *location);
/* A Set-Cookie to send with the answer (the value is sent as it is:
 * the caller makes it of safe characters). */
int request_set_cookie(struct request *rq, const char *cookie);
