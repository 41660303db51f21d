/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libmicrohttpd on sd-event. Each listening socket gets an MHD daemon in
 * epoll mode with no thread of its own: its epoll descriptor is watched by
 * sd-event, MHD_run() does the work that is ready, and one timer per daemon
 * follows MHD_get_timeout(). A handler that waits for the database
 * suspends the connection; resuming wakes MHD's epoll descriptor through
 * its inter-thread channel (MHD_ALLOW_SUSPEND_RESUME), so the answer goes
 * out on the next turn of the loop. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/server.h"

/* The browser never needs to run or fetch anything but our own stylesheet. */
#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
            "base-uri 'none'"

struct mhd {
        struct web_server *server;
        struct MHD_Daemon *daemon;
        sd_event_source *io;
        sd_event_source *timer;
};

struct web_server {
        sd_event *event;
        struct mhd *daemons;
        size_t n_daemons;
        char *identity_header;
        uid_t *trusted_uids;
        size_t n_trusted_uids;
        usec_t idle_exit;
        size_t max_body;
        web_handler_fn handler;
        web_idle_fn idle;
        void *idle_userdata;
        void *userdata;

        unsigned connections;      /* open, over all daemons */
        unsigned in_flight;        /* requests begun and not yet answered */
        usec_t last_activity;
        sd_event_source *idle_timer;
        bool stopping;
        void (*stopped)(void *userdata);
        void *stopped_userdata;
        sd_event_source *stopped_defer;
};

struct request {
        struct web_server *server;
        struct MHD_Connection *connection;
        enum http_method method;
        char *path;
        struct buf body;
        bool body_too_large;
        bool form_parsed;
        int form_error;
        struct form form;
        bool started;              /* the handler has seen it */
        bool suspended;
        bool answered;             /* counted out of in_flight */
        struct MHD_Response *response;
        unsigned status;
        char *cookie;              /* Set-Cookie to add */
        usec_t started_at;
};

static usec_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

/* ---- the event loop's side ---- */

static void mhd_schedule(struct mhd *m) {
        MHD_UNSIGNED_LONG_LONG timeout_ms;
        int r;

        if (!m->daemon)
                return;
        if (MHD_get_timeout(m->daemon, &timeout_ms) == MHD_NO) {
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
                return;
        }
        r = sd_event_source_set_time(m->timer, now_usec() + (usec_t) timeout_ms * USEC_PER_MSEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot set the HTTP server's timer: %m");
}

static void mhd_run(struct mhd *m) {
        if (!m->daemon)
                return;
        if (MHD_run(m->daemon) == MHD_NO)
                log_warning("The HTTP server could not process its connections; will try again.");
        mhd_schedule(m);
}

static int on_mhd_io(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata) {
        mhd_run(userdata);
        return 0;
}

static int on_mhd_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        mhd_run(userdata);
        return 0;
}

static void server_check_stopped(struct web_server *s);

/* After a connection is resumed outside MHD's own callbacks: MHD picks
 * resumed connections up when it runs next, but with libmicrohttpd 0.9.75
 * in external epoll mode the resume alone did not make its epoll
 * descriptor readable (the answer waited for the next request), so every
 * daemon runs on the next turn of the loop. */
static void server_kick(struct web_server *s) {
        for (size_t i = 0; i < s->n_daemons; i++) {
                struct mhd *m = &s->daemons[i];

                if (sd_event_source_set_time(m->timer, 0) < 0 ||
                    sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT) < 0)
                        log_warning("Cannot wake the HTTP server; the answer waits for its next timeout.");
        }
}

static int on_idle_timer(sd_event_source *src, uint64_t usec _unused_, void *userdata) {
        struct web_server *s = userdata;
        usec_t now = now_usec();

        if (s->connections == 0 && s->in_flight == 0 && !s->stopping && now - s->last_activity >= s->idle_exit) {
                log_info("No request for %llu s; exiting (systemd starts bokvar-web again on the next one).",
                         (unsigned long long) (s->idle_exit / USEC_PER_SEC));
                /* Nothing more is accepted: what arrives now waits in the
                 * socket for the next start. */
                for (size_t i = 0; i < s->n_daemons; i++)
                        if (s->daemons[i].daemon)
                                (void) MHD_quiesce_daemon(s->daemons[i].daemon);
                s->stopping = true;
                if (s->idle)
                        s->idle(s->idle_userdata);
                return 0;
        }
        (void) sd_event_source_set_time(src, MAX(s->last_activity + s->idle_exit, now + USEC_PER_SEC));
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

/* ---- trust ---- */

static bool address_is_loopback(const struct sockaddr_storage *a) {
        if (a->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) a;

                return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        }
        if (a->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) a;
                const uint8_t *b = in6->sin6_addr.s6_addr;

                if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
        }
        return false;
}

/* Whether the peer on the connection may tell us who signed on. */
static bool peer_trusted(struct web_server *s, struct MHD_Connection *c, char *what, size_t what_size) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct sockaddr_storage local = {}, peer = {};
        socklen_t len = sizeof local;
        char addr[INET6_ADDRSTRLEN] = "?";

        if (!info || getsockname(info->connect_fd, (struct sockaddr *) &local, &len) < 0) {
                (void) snprintf(what, what_size, "unknown");
                return false;
        }
        if (local.ss_family == AF_UNIX) {
                struct ucred cred;
                socklen_t cl = sizeof cred;

                if (getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0) {
                        (void) snprintf(what, what_size, "a Unix socket peer of unknown user");
                        return false;
                }
                (void) snprintf(what, what_size, "a Unix socket peer with uid %u", (unsigned) cred.uid);
                if (s->n_trusted_uids == 0)
                        return true;
                for (size_t i = 0; i < s->n_trusted_uids; i++)
                        if (s->trusted_uids[i] == cred.uid)
                                return true;
                return false;
        }
        len = sizeof peer;
        if (getpeername(info->connect_fd, (struct sockaddr *) &peer, &len) < 0) {
                (void) snprintf(what, what_size, "an unknown peer");
                return false;
        }
        if (peer.ss_family == AF_INET)
                (void) inet_ntop(AF_INET, &((struct sockaddr_in *) &peer)->sin_addr, addr, sizeof addr);
        else if (peer.ss_family == AF_INET6)
                (void) inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &peer)->sin6_addr, addr, sizeof addr);
        (void) snprintf(what, what_size, "%s", addr);
        return address_is_loopback(&peer);
}

/* ---- requests ---- */

static struct request *request_free(struct request *rq) {
        if (!rq)
                return NULL;
        free(rq->path);
        buf_free(&rq->body);
        form_done(&rq->form);
        if (rq->response)
                MHD_destroy_response(rq->response);
        free(rq->cookie);
        return mfree(rq);
}

static void request_done(struct request *rq) {
        struct web_server *s = rq->server;

        if (!rq->answered && rq->started) {
                rq->answered = true;
                s->in_flight--;
        }
        s->last_activity = now_usec();
        server_check_stopped(s);
}

enum http_method request_method(const struct request *rq) {
        return rq->method;
}

const char *request_path(const struct request *rq) {
        return rq->path;
}

const char *request_query(const struct request *rq, const char *name) {
        return MHD_lookup_connection_value(rq->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *request_header(const struct request *rq, const char *name) {
        return MHD_lookup_connection_value(rq->connection, MHD_HEADER_KIND, name);
}

const char *request_cookie(const struct request *rq, const char *name) {
        return MHD_lookup_connection_value(rq->connection, MHD_COOKIE_KIND, name);
}

struct header_count {
        const char *name;
        unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind _unused_, const char *key,
                                    const char *value _unused_) {
        struct header_count *hc = cls;

        if (strcasecmp(key, hc->name) == 0)
                hc->n++;
        return MHD_YES;
}

const char *request_login(const struct request *rq, enum request_identity *ret_problem) {
        struct header_count hc = { rq->server->identity_header, 0 };
        const char *v;
        size_t n;

        (void) MHD_get_connection_values(rq->connection, MHD_HEADER_KIND, count_header, &hc);
        v = request_header(rq, rq->server->identity_header);
        if (hc.n == 0 || isempty(v)) {
                *ret_problem = REQUEST_NO_IDENTITY;
                return NULL;
        }
        n = strlen(v);
        if (hc.n > 1 || n > 63 ||
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") != n) {
                *ret_problem = REQUEST_BAD_IDENTITY;
                return NULL;
        }
        *ret_problem = REQUEST_IDENTITY_OK;
        return v;
}

int request_form(struct request *rq, const struct form **ret) {
        const char *type;

        if (!rq->form_parsed) {
                rq->form_parsed = true;
                type = request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
                if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0 ||
                    (type[33] && type[33] != ';'))
                        rq->form_error = -EBADMSG;
                else
                        rq->form_error = form_parse(rq->body.data ? rq->body.data : "", rq->body.len, &rq->form);
        }
        if (rq->form_error < 0)
                return rq->form_error;
        *ret = &rq->form;
        return 0;
}

void request_suspend(struct request *rq) {
        if (rq->suspended || rq->response)
                return;
        MHD_suspend_connection(rq->connection);
        rq->suspended = true;
}

int request_set_cookie(struct request *rq, const char *cookie) {
        char *c = strdup(cookie);

        if (!c)
                return -ENOMEM;
        free(rq->cookie);
        rq->cookie = c;
        return 0;
}

static void add_security_headers(struct MHD_Response *resp, const char *cache_control) {
        (void) MHD_add_response_header(resp, "Content-Security-Policy", CSP);
        (void) MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        (void) MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        (void) MHD_add_response_header(resp, "X-Frame-Options", "DENY");
        (void) MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
        (void) MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache_control ? cache_control : "no-store");
}

/* Keeps the answer; a suspended request is resumed to send it. */
static void request_answer(struct request *rq, unsigned status, struct MHD_Response *resp) {
        if (rq->response) {
                /* Answered twice: a programming error; the first answer stands. */
                MHD_destroy_response(resp);
                return;
        }
        if (!resp) {
                log_oom();
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
                if (!resp)
                        return;   /* MHD closes the connection when the handler queues nothing */
        }
        if (rq->cookie)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rq->cookie);
        rq->response = resp;
        rq->status = status;
        if (rq->suspended) {
                rq->suspended = false;
                MHD_resume_connection(rq->connection);
                server_kick(rq->server);
        }
}

/* A response of data (taken: freed with the response, or here when
 * there is none), with the security headers and its type; NULL when data
 * is NULL or no response could be made (request_answer() then closes the
 * connection). */
static struct MHD_Response *response_owned(char *data, size_t len, const char *content_type) {
        struct MHD_Response *resp;

        if (!data)
                return NULL;
        resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(data);
                return NULL;
        }
        add_security_headers(resp, NULL);
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        return resp;
}

void request_respond_html(struct request *rq, unsigned status, struct html *body) {
        char *data = NULL;
        size_t len = 0;

        if (html_steal(body, &data, &len) < 0) {
                log_error("Cannot write the page for %s; answering 500.", rq->path);
                status = MHD_HTTP_INTERNAL_SERVER_ERROR;
                data = strdup("<!DOCTYPE html><title>500</title><p>500");
                len = data ? strlen(data) : 0;
        }
        request_answer(rq, status, response_owned(data, len, "text/html; charset=utf-8"));
}

void request_respond_static(struct request *rq, const char *content_type, const void *data, size_t size,
                            const char *cache_control) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(size, (void *) data, MHD_RESPMEM_PERSISTENT);

        if (resp) {
                add_security_headers(resp, cache_control);
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        }
        request_answer(rq, MHD_HTTP_OK, resp);
}

void request_respond_download(struct request *rq, const char *content_type, const char *filename, struct buf *body) {
        struct MHD_Response *resp = NULL;
        size_t len = body->len;
        char *data = buf_steal(body), disposition[128];

        assert(strspn(filename, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == strlen(filename));
        if (!data)
                data = strdup("");
        resp = response_owned(data, len, content_type);
        if (resp) {
                (void) snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disposition);
        }
        request_answer(rq, MHD_HTTP_OK, resp);
}

void request_redirect(struct request *rq, const char *location) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);

        if (resp) {
                add_security_headers(resp, NULL);
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
        }
        request_answer(rq, MHD_HTTP_SEE_OTHER, resp);
}

/* A plain answer the server gives before any handler: status and one line. */
static void respond_plain(struct request *rq, unsigned status, const char *line) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(line), (void *) line,
                                                                    MHD_RESPMEM_PERSISTENT);

        if (resp) {
                add_security_headers(resp, NULL);
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        }
        request_answer(rq, status, resp);
}

static enum MHD_Result queue_answer(struct request *rq) {
        enum MHD_Result ok;

        ok = MHD_queue_response(rq->connection, rq->status, rq->response);
        log_full_errno(LOG_DEBUG, 0, NULL, "%s %u %.1f ms", rq->path, rq->status,
                       (double) (now_usec() - rq->started_at) / 1000.0);
        request_done(rq);
        return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                  const char *version _unused_, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        struct web_server *s = cls;
        struct request *rq = *con_cls;
        char peer[128];

        if (!rq) {
                rq = calloc(1, sizeof *rq);
                if (!rq)
                        return MHD_NO;
                rq->server = s;
                rq->connection = connection;
                rq->started_at = now_usec();
                rq->method = streq(method, MHD_HTTP_METHOD_GET) || streq(method, MHD_HTTP_METHOD_HEAD) ? HTTP_GET
                             : streq(method, MHD_HTTP_METHOD_POST)                                  ? HTTP_POST
                                                                                                    : HTTP_OTHER;
                rq->path = strndup(url, strcspn(url, "?"));
                if (!rq->path) {
                        free(rq);
                        return MHD_NO;
                }
                s->last_activity = rq->started_at;
                *con_cls = rq;
                return MHD_YES;
        }

        /* The body arrives in pieces; more than a form needs is not kept. */
        if (*upload_data_size > 0) {
                if (!rq->body_too_large && rq->body.len + *upload_data_size <= s->max_body) {
                        if (buf_put(&rq->body, upload_data, *upload_data_size) < 0)
                                return MHD_NO;
                } else
                        rq->body_too_large = true;
                *upload_data_size = 0;
                return MHD_YES;
        }

        if (rq->response)
                return queue_answer(rq);
        if (rq->started)
                return MHD_YES;     /* resumed without an answer: cannot happen; wait */
        rq->started = true;
        s->in_flight++;

        if (!peer_trusted(s, connection, peer, sizeof peer)) {
                log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "PEER", peer }),
                               "Refused a request from %s: the identity header is believed only from the proxy's "
                               "own socket or loopback.", peer);
                respond_plain(rq, MHD_HTTP_FORBIDDEN, "Forbidden: requests come through the sign-on proxy.\n");
        } else if (rq->body_too_large)
                respond_plain(rq, MHD_HTTP_CONTENT_TOO_LARGE, "Content Too Large\n");
        else if (rq->method == HTTP_OTHER)
                respond_plain(rq, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
        else
                s->handler(rq, s->userdata);

        if (rq->response)
                return queue_answer(rq);
        if (!rq->suspended) {
                log_error("No answer for %s; answering 500.", rq->path);
                respond_plain(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error\n");
                return queue_answer(rq);
        }
        return MHD_YES;
}

static void on_completed(void *cls _unused_, struct MHD_Connection *connection _unused_, void **con_cls,
                         enum MHD_RequestTerminationCode toe _unused_) {
        struct request *rq = *con_cls;

        if (!rq)
                return;
        request_done(rq);
        request_free(rq);
        *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *connection _unused_, void **socket_context _unused_,
                          enum MHD_ConnectionNotificationCode toe) {
        struct web_server *s = cls;

        if (toe == MHD_CONNECTION_NOTIFY_STARTED)
                s->connections++;
        else if (s->connections > 0)
                s->connections--;
        s->last_activity = now_usec();
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) _printf_(2, 0);
static void on_mhd_log(void *cls _unused_, const char *fmt, va_list ap) {
        char line[512];
        size_t n;

        (void) vsnprintf(line, sizeof line, fmt, ap);
        n = strlen(line);
        while (n > 0 && line[n - 1] == '\n')
                line[--n] = 0;
        log_debug("libmicrohttpd: %s", line);
}

/* ---- the server ---- */

static int mhd_start(struct web_server *s, struct mhd *m, int fd) {
        const union MHD_DaemonInfo *info;
        int r;

        m->server = s;
        m->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                     on_request, s,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                                     MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
                                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 60,
                                     MHD_OPTION_CONNECTION_LIMIT, (unsigned) 512,
                                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) 64 * 1024,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                     MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                                     MHD_OPTION_STRICT_FOR_CLIENT, (int) 1,
                                     MHD_OPTION_END);
        if (!m->daemon)
                return log_error_errno(EINVAL, "Cannot start the HTTP server on descriptor %d.", fd);
        info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        if (!info)
                return log_error_errno(EINVAL, "The HTTP server has no epoll descriptor.");
        r = sd_event_add_io(s->event, &m->io, info->epoll_fd, EPOLLIN, on_mhd_io, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the HTTP server: %m");
        (void) sd_event_source_set_description(m->io, "mhd");
        r = sd_event_add_time(s->event, &m->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_mhd_timer, m);
        if (r < 0)
                return log_error_errno(r, "Cannot add the HTTP server's timer: %m");
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        mhd_schedule(m);
        return 0;
}

int web_server_new(sd_event *event, const struct web_server_options *o, const int *listen_fds, size_t n_fds,
                   web_handler_fn handler, void *userdata, struct web_server **ret) {
        _cleanup_(web_server_freep) struct web_server *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->identity_header = strdup(o->identity_header);
        s->daemons = calloc(n_fds, sizeof *s->daemons);
        if (!s->identity_header || !s->daemons)
                return -ENOMEM;
        if (o->n_trusted_uids > 0) {
                s->trusted_uids = calloc(o->n_trusted_uids, sizeof *s->trusted_uids);
                if (!s->trusted_uids)
                        return -ENOMEM;
                memcpy(s->trusted_uids, o->trusted_uids, o->n_trusted_uids * sizeof *s->trusted_uids);
                s->n_trusted_uids = o->n_trusted_uids;
        }
        s->idle_exit = o->idle_exit;
        s->max_body = o->max_body;
        s->handler = handler;
        s->idle = o->idle;
        s->idle_userdata = o->idle_userdata;
        s->userdata = userdata;
        s->last_activity = now_usec();
        for (size_t i = 0; i < n_fds; i++) {
                r = mhd_start(s, &s->daemons[i], listen_fds[i]);
                s->n_daemons = i + 1;
                if (r < 0)
                        return r;
        }
        if (s->idle_exit > 0) {
                r = sd_event_add_time(event, &s->idle_timer, CLOCK_MONOTONIC, s->last_activity + s->idle_exit,
                                      USEC_PER_SEC, on_idle_timer, s);
                if (r < 0)
                        return log_error_errno(r, "Cannot add the idle timer: %m");
        }
        *ret = TAKE_PTR(s);
        return 0;
}

struct web_server *web_server_free(struct web_server *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_daemons; i++) {
                struct mhd *m = &s->daemons[i];

                sd_event_source_disable_unref(m->io);
                sd_event_source_disable_unref(m->timer);
                if (m->daemon)
                        MHD_stop_daemon(m->daemon);
        }
        free(s->daemons);
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->stopped_defer);
        free(s->identity_header);
        free(s->trusted_uids);
        sd_event_unref(s->event);
        return mfree(s);
}

static int on_stopped(sd_event_source *src _unused_, void *userdata) {
        struct web_server *s = userdata;
        void (*done)(void *) = s->stopped;

        s->stopped = NULL;
        if (done)
                done(s->stopped_userdata);
        return 0;
}

static void server_check_stopped(struct web_server *s) {
        if (!s->stopping || !s->stopped || s->in_flight > 0 || s->stopped_defer)
                return;
        if (sd_event_add_defer(s->event, &s->stopped_defer, on_stopped, s) < 0)
                on_stopped(NULL, s);
}

void web_server_stop(struct web_server *s, void (*done)(void *userdata), void *userdata) {
        for (size_t i = 0; i < s->n_daemons; i++)
                if (s->daemons[i].daemon)
                        (void) MHD_quiesce_daemon(s->daemons[i].daemon);
        s->stopping = true;
        s->stopped = done;
        s->stopped_userdata = userdata;
        server_check_stopped(s);
}

/* ---- listening sockets ---- */

static int listen_unix(const char *path, int *ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(path) >= sizeof sa.sun_path)
                return log_error_errno(ENAMETOOLONG, "Socket path %s is too long.", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a Unix socket: %m");
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(errno, "Cannot bind %s: %m", path);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Cannot listen on %s: %m", path);
        *ret = fd;
        fd = -1;
        return 0;
}

static int listen_inet(const char *spec, int *ret) {
        struct sockaddr_storage ss = {};
        _cleanup_free_ char *host = NULL;
        _cleanup_close_ int fd = -1;
        const char *colon = strrchr(spec, ':');
        socklen_t len;
        char *end;
        long port;
        int one = 1;

        if (!colon)
                return log_error_errno(EINVAL, "--listen %s: expected a socket path or HOST:PORT.", spec);
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535 || colon[1] == 0)
                return log_error_errno(EINVAL, "--listen %s: bad port.", spec);
        if (spec[0] == '[' && colon > spec && colon[-1] == ']')
                host = strndup(spec + 1, (size_t) (colon - spec - 2));
        else
                host = strndup(spec, (size_t) (colon - spec));
        if (!host)
                return -ENOMEM;
        if (inet_pton(AF_INET, host, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
                ((struct sockaddr_in *) &ss)->sin_family = AF_INET;
                ((struct sockaddr_in *) &ss)->sin_port = htons((uint16_t) port);
                len = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
                ((struct sockaddr_in6 *) &ss)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *) &ss)->sin6_port = htons((uint16_t) port);
                len = sizeof(struct sockaddr_in6);
        } else
                return log_error_errno(EINVAL, "--listen %s: '%s' is not an IP address.", spec, host);
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "Cannot create a socket: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                return log_error_errno(errno, "Cannot bind %s: %m", spec);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Cannot listen on %s: %m", spec);
        *ret = fd;
        fd = -1;
        return 0;
}

int web_listen(const char *listen, int **ret_fds, size_t *ret_n) {
        _cleanup_free_ int *fds = NULL;
        int n, r;

        if (listen) {
                fds = calloc(1, sizeof *fds);
                if (!fds)
                        return -ENOMEM;
                r = strchr(listen, '/') ? listen_unix(listen, &fds[0]) : listen_inet(listen, &fds[0]);
                if (r < 0)
                        return r;
                *ret_fds = TAKE_PTR(fds);
                *ret_n = 1;
                return 0;
        }
        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Cannot take the sockets systemd passed: %m");
        if (n == 0)
                return log_error_errno(EINVAL, "No socket to serve on: start bokvar-web through bokvar-web.socket, "
                                               "or give --listen PATH|HOST:PORT.");
        fds = calloc((size_t) n, sizeof *fds);
        if (!fds)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;

                if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
                        return log_error_errno(EINVAL, "Descriptor %d from systemd is not a listening stream "
                                                       "socket (ListenStream= only).", fd);
                fds[i] = fd;
        }
        *ret_fds = TAKE_PTR(fds);
        *ret_n = (size_t) n;
        return 0;
}
