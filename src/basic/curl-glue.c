/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libcurl multi socket interface driven by sd-event. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>

#include "bokvar-build.h"
#include "bokvar/basic/curl-glue.h"
#include "bokvar/basic/duration.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"

struct curl_glue {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        sd_event_source *now;      /* libcurl's "at once": a defer source, no timerfd */
        /* Easy handles given back, reset, for the next transfers: a new
         * handle for every transfer cost more CPU than the transfer. */
        CURL **pool;
        size_t n_pool, n_pool_allocated, pool_max;
        size_t kept;               /* curl_glue_keep_connections()'s n, or SIZE_MAX */
};

/* Easy handles kept for reuse until curl_glue_keep_connections() says how
 * many transfers run at once. */
#define POOL_DEFAULT 16

/* What a transfer's CURLOPT_PRIVATE points at. */
struct transfer {
        curl_glue_done_fn done;
        void *userdata;
};

static void check_finished(struct curl_glue *g) {
        CURLMsg *msg;
        int left;

        while ((msg = curl_multi_info_read(g->multi, &left))) {
                struct transfer *t = NULL;
                CURL *easy = msg->easy_handle;
                CURLcode result = msg->data.result;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
                curl_multi_remove_handle(g->multi, easy);
                (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
                if (t) {
                        curl_glue_done_fn done = t->done;
                        void *ud = t->userdata;

                        free(t);
                        done(easy, result, ud);
                }
        }
}

static int on_io(sd_event_source *s _unused_, int fd, uint32_t revents, void *userdata) {
        struct curl_glue *g = userdata;
        int action = 0, running;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        if (curl_multi_socket_action(g->multi, fd, action, &running) != CURLM_OK)
                log_warning("libcurl failed to handle I/O on socket %d.", fd);
        check_finished(g);
        return 0;
}

/* libcurl says what it wants to know about a socket. */
static int socket_cb(CURL *easy _unused_, curl_socket_t fd, int what, void *userdata, void *socketp) {
        struct curl_glue *g = userdata;
        sd_event_source *io = socketp;
        uint32_t events = 0;

        if (what == CURL_POLL_REMOVE) {
                if (io) {
                        sd_event_source_disable_unref(io);
                        (void) curl_multi_assign(g->multi, fd, NULL);
                }
                return 0;
        }
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (io) {
                if (sd_event_source_set_io_events(io, events) < 0 || sd_event_source_set_enabled(io, SD_EVENT_ON) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_io(g->event, &io, fd, events, on_io, g) < 0)
                return -1;
        (void) sd_event_source_set_description(io, "curl-io");
        if (curl_multi_assign(g->multi, fd, io) != CURLM_OK) {
                sd_event_source_disable_unref(io);
                return -1;
        }
        return 0;
}

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        struct curl_glue *g = userdata;
        int running;

        if (curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running) != CURLM_OK)
                log_warning("libcurl failed to handle a timeout.");
        check_finished(g);
        return 0;
}

static int on_now(sd_event_source *s, void *userdata) {
        return on_timer(s, 0, userdata);
}

/* How late a timeout of timeout_ms may fire: a sixteenth of it, at most
 * 250 ms. libcurl's long timeouts are limits (a transfer's 30 s), where a
 * little late does no harm, and a coarse accuracy lets sd-event keep its
 * timerfd as it is when libcurl moves the timeout by a few milliseconds, as
 * it does for every transfer started or finished. Short ones stay close;
 * never 0, which would mean sd-event's default of 250 ms. */
static usec_t timer_accuracy(long timeout_ms) {
        return MAX(MIN((usec_t) timeout_ms * USEC_PER_MSEC / 16, 250 * USEC_PER_MSEC), (usec_t) 1);
}

/* libcurl wants to be called after timeout_ms (-1: never, 0: at once). */
static int timer_cb(CURLM *multi _unused_, long timeout_ms, void *userdata) {
        struct curl_glue *g = userdata;
        uint64_t now;

        if (timeout_ms < 0)
                return g->timer && sd_event_source_set_enabled(g->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (timeout_ms == 0) {
                /* Every transfer added asks for this: on the next iteration
                 * of the loop, without arming and reading the timerfd. The
                 * timer stays as it is; libcurl asks again after. */
                if (!g->now) {
                        if (sd_event_add_defer(g->event, &g->now, on_now, g) < 0)
                                return -1;
                        (void) sd_event_source_set_description(g->now, "curl-now");
                }
                return sd_event_source_set_enabled(g->now, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
        }
        if (sd_event_now(g->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        /* Round up, so that the timer never fires before libcurl expects. */
        now += (uint64_t) timeout_ms * USEC_PER_MSEC + USEC_PER_MSEC - 1;
        if (g->timer) {
                if (sd_event_source_set_time(g->timer, now) < 0 ||
                    sd_event_source_set_time_accuracy(g->timer, timer_accuracy(timeout_ms)) < 0 ||
                    sd_event_source_set_enabled(g->timer, SD_EVENT_ONESHOT) < 0)
                        return -1;
                return 0;
        }
        if (sd_event_add_time(g->event, &g->timer, CLOCK_MONOTONIC, now, timer_accuracy(timeout_ms), on_timer, g) < 0)
                return -1;
        (void) sd_event_source_set_description(g->timer, "curl-timer");
        return 0;
}

int curl_glue_new(sd_event *event, struct curl_glue **ret) {
        struct curl_glue *g = calloc(1, sizeof *g);

        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(event);
        g->multi = curl_multi_init();
        if (!g->multi) {
                curl_glue_free(g);
                return -ENOMEM;
        }
        if (curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK) {
                curl_glue_free(g);
                return -EINVAL;
        }
        g->pool_max = POOL_DEFAULT;
        g->kept = SIZE_MAX;
        *ret = g;
        return 0;
}

void curl_glue_keep_connections(struct curl_glue *g, size_t n) {
        /* Called before every round of sends: only a change is passed on. */
        if (n == g->kept)
                return;
        g->kept = n;
        /* And room for the feeds', which share the multi handle. */
        (void) curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long) MIN(n + 16, (size_t) LONG_MAX));
        g->pool_max = n;
        while (g->n_pool > g->pool_max)
                curl_easy_cleanup(g->pool[--g->n_pool]);
}

struct curl_glue *curl_glue_free(struct curl_glue *g) {
        if (!g)
                return NULL;
        /* Easy handles before the multi handle, as libcurl asks. */
        while (g->n_pool > 0)
                curl_easy_cleanup(g->pool[--g->n_pool]);
        free(g->pool);
        if (g->multi)
                curl_multi_cleanup(g->multi);
        sd_event_source_disable_unref(g->timer);
        sd_event_source_disable_unref(g->now);
        sd_event_unref(g->event);
        return mfree(g);
}

int curl_glue_add(struct curl_glue *g, CURL *easy, curl_glue_done_fn done, void *userdata) {
        struct transfer *t = malloc(sizeof *t);

        if (!t)
                return -ENOMEM;
        *t = (struct transfer){ .done = done, .userdata = userdata };
        if (curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK ||
            curl_multi_add_handle(g->multi, easy) != CURLM_OK) {
                free(t);
                return -EIO;
        }
        return 0;
}

void curl_glue_remove(struct curl_glue *g, CURL *easy) {
        struct transfer *t = NULL;

        if (!easy)
                return;
        (void) curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **) &t);
        curl_multi_remove_handle(g->multi, easy);
        (void) curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
}

/* What every transfer has, on a new or a reset handle. */
static int easy_setup(CURL *e, const char *url, usec_t timeout, usec_t connect_timeout, const char *ca_file) {
        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK)
                return -EINVAL;
        (void) curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        (void) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) (timeout / USEC_PER_MSEC));
        (void) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) (connect_timeout / USEC_PER_MSEC));
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        (void) curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        (void) curl_easy_setopt(e, CURLOPT_USERAGENT, "bokvar/" BOKVAR_VERSION);
        /* HTTP/2 where the server offers it over TLS, and then one
         * connection for many transfers: a new transfer waits to learn
         * whether it can share one rather than opening its own. */
        (void) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_2TLS);
        (void) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
        if (ca_file)
                (void) curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
        return 0;
}

int curl_glue_easy_new(const char *url, usec_t timeout, usec_t connect_timeout, const char *ca_file, CURL **ret) {
        CURL *e = curl_easy_init();
        int r;

        if (!e)
                return -ENOMEM;
        r = easy_setup(e, url, timeout, connect_timeout, ca_file);
        if (r < 0) {
                curl_easy_cleanup(e);
                return r;
        }
        *ret = e;
        return 0;
}

int curl_glue_easy_get(struct curl_glue *g, const char *url, usec_t timeout, usec_t connect_timeout,
                       const char *ca_file, CURL **ret) {
        CURL *e;
        int r;

        if (g->n_pool == 0)
                return curl_glue_easy_new(url, timeout, connect_timeout, ca_file, ret);
        e = g->pool[--g->n_pool];
        r = easy_setup(e, url, timeout, connect_timeout, ca_file);
        if (r < 0) {
                curl_glue_easy_put(g, e);
                return r;
        }
        *ret = e;
        return 0;
}

void curl_glue_easy_put(struct curl_glue *g, CURL *easy) {
        if (!easy)
                return;
        /* Every option back to its default (the header list, the body, the
         * error buffer, the callbacks, the credentials): the next transfer
         * sets its own. What stays is what libcurl keeps for the next
         * transfer anyway (its DNS and TLS session caches); connections
         * are the multi handle's. */
        curl_easy_reset(easy);
        if (g->n_pool >= g->pool_max || !GREEDY_REALLOC(g->pool, g->n_pool_allocated, g->n_pool + 1)) {
                curl_easy_cleanup(easy);
                return;
        }
        g->pool[g->n_pool++] = easy;
}
