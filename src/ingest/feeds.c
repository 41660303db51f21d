/* SPDX-License-Identifier: GPL-3.0-or-later */
/* When each feed is fetched: one runner per configured feed, with its own
 * timer (the feed's interval after a round that went well, a backoff after
 * one that failed), at most max_parallel_fetches rounds under way (the rest
 * queue for a free slot), a new configuration taken without stopping a
 * round under way, and with --once one round per feed and a report when all
 * are done. What a round does is in fetch.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ingest/feeds.h"

#define BACKOFF_FIRST (30 * USEC_PER_SEC)

struct feeds {
        sd_event *event;
        struct curl_glue *glue;
        struct config *config;
        bool once;
        struct feeds_callbacks cb;
        struct runner **runners;
        size_t n_runners;
        unsigned running;
        unsigned waiting;          /* rounds queued behind max_parallel_fetches */
        bool all_ok;
        bool all_done_reported;
};

struct runner {
        struct feeds *feeds;
        char *name;
        sd_event_source *timer;
        bool busy;                 /* a round is under way */
        bool queued;               /* waiting for a free slot */
        bool removed;              /* gone from the configuration */
        bool finished_once;
        unsigned local_failures;   /* rounds that could not even reach the database */
        struct round round;
};

static void round_start(struct runner *r);
static void on_page_committed(const struct fetch_result *res, void *userdata);
static void on_round_finished(const struct fetch_result *res, enum round_end end, void *userdata);
static usec_t on_backoff(int failures, void *userdata);

static const struct round_ops round_ops = {
        .page_committed = on_page_committed,
        .finished = on_round_finished,
        .backoff = on_backoff,
};

static const struct feed_config *find_feed(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_feeds; i++)
                if (streq(c->feeds[i].name, name))
                        return &c->feeds[i];
        return NULL;
}

/* ---- runners ---- */

static int runner_new(struct feeds *f, const char *name, struct runner **ret) {
        struct runner *r = calloc(1, sizeof *r);

        if (!r || !(r->name = strdup(name))) {
                free(r);
                return -ENOMEM;
        }
        r->feeds = f;
        fetch_round_init(&r->round, f->event, f->glue, r->name, f->once, &round_ops, r);
        *ret = r;
        return 0;
}

/* Frees the runner and everything it holds, a round under way included. */
static struct runner *runner_free(struct runner *r) {
        if (!r)
                return NULL;
        fetch_round_reset(&r->round);
        sd_event_source_disable_unref(r->timer);
        free(r->name);
        return mfree(r);
}

/* ---- timers ---- */

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        round_start(userdata);
        return 0;
}

static void schedule(struct runner *r, usec_t delay) {
        uint64_t now;

        if (r->feeds->once)
                return;
        if (sd_event_now(r->feeds->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        if (!r->timer) {
                if (sd_event_add_time(r->feeds->event, &r->timer, CLOCK_MONOTONIC, now + delay, USEC_PER_SEC, on_timer,
                                      r) < 0) {
                        log_error("Feed %s: cannot set a timer; it will not be polled.", r->name);
                        return;
                }
                (void) sd_event_source_set_description(r->timer, "feed-timer");
                return;
        }
        (void) sd_event_source_set_time(r->timer, now + delay);
        (void) sd_event_source_set_enabled(r->timer, SD_EVENT_ONESHOT);
}

/* Exponential backoff with jitter, never longer than the feed's interval. */
static usec_t backoff(usec_t interval, int failures) {
        usec_t d = BACKOFF_FIRST;

        for (int i = 1; i < failures && d < interval; i++)
                d *= 2;
        d = MIN(d, interval);
        /* ±20%, so that daemons and feeds that failed together drift apart. */
        return d * (80 + (usec_t) (random() % 41)) / 100;
}

/* ---- rounds ---- */

/* A round now, or as soon as a slot is free. */
static void round_start(struct runner *r) {
        struct feeds *f = r->feeds;
        const struct feed_config *cfg;

        if (r->busy)
                return;
        if (f->running >= f->config->max_parallel_fetches) {
                if (!r->queued) {
                        r->queued = true;
                        f->waiting++;
                }
                return;
        }
        if (r->queued) {
                r->queued = false;
                f->waiting--;
        }
        cfg = find_feed(f->config, r->name);
        if (!cfg)
                return;
        r->busy = true;
        f->running++;
        fetch_round_start(&r->round, f->config, cfg);
}

static void on_page_committed(const struct fetch_result *res, void *userdata) {
        struct runner *r = userdata;
        struct feeds *f = r->feeds;

        r->local_failures = 0;
        if (f->cb.fetched)
                f->cb.fetched(res, f->cb.userdata);
}

static usec_t on_backoff(int failures, void *userdata) {
        struct runner *r = userdata;

        return backoff(r->round.cfg->interval, failures);
}

static void maybe_all_done(struct feeds *f) {
        if (!f->once || f->all_done_reported)
                return;
        for (size_t i = 0; i < f->n_runners; i++)
                if (!f->runners[i]->finished_once)
                        return;
        f->all_done_reported = true;
        if (f->cb.all_done)
                f->cb.all_done(f->all_ok, f->cb.userdata);
}

/* Starts rounds that waited for a free slot. */
static void start_waiting(struct feeds *f) {
        for (size_t i = 0; i < f->n_runners && f->waiting > 0 && f->running < f->config->max_parallel_fetches; i++)
                if (f->runners[i]->queued)
                        round_start(f->runners[i]);
}

static void on_round_finished(const struct fetch_result *res, enum round_end end, void *userdata) {
        struct runner *r = userdata;
        struct feeds *f = r->feeds;
        usec_t interval = r->round.cfg->interval, next;

        struct fetch_result report = *res;

        if (end == ROUND_ABORTED)
                r->local_failures++;
        else if (end == ROUND_COMMITTED)
                r->local_failures = 0;
        /* A round that could not record its failure in the database counts
         * its own. */
        if (!report.ok)
                report.failures = MAX(report.failures, (int) r->local_failures);
        /* res may point into the round's state: report before resetting it. */
        if (!res->skipped && f->cb.fetched)
                f->cb.fetched(&report, f->cb.userdata);
        if (!res->ok)
                f->all_ok = false;

        /* The next round: after the interval, or after a backoff. */
        if (res->ok)
                next = interval;
        else
                next = backoff(interval, MAX(r->round.failures + 1, (int) r->local_failures));
        fetch_round_reset(&r->round);
        schedule(r, next);

        r->busy = false;
        f->running--;
        r->finished_once = true;
        if (r->removed) {
                for (size_t i = 0; i < f->n_runners; i++)
                        if (f->runners[i] == r) {
                                f->runners[i] = f->runners[--f->n_runners];
                                break;
                        }
                runner_free(r);
        }
        start_waiting(f);
        maybe_all_done(f);
}

/* ---- the set of feeds ---- */

int feeds_new(sd_event *event, struct curl_glue *glue, struct config *config, bool once,
              const struct feeds_callbacks *cb, struct feeds **ret) {
        _cleanup_(feeds_freep) struct feeds *f = NULL;
        int k;

        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(event);
        f->glue = glue;
        f->once = once;
        f->cb = *cb;
        f->all_ok = true;
        f->config = config_ref(config);
        k = feeds_reconfigure(f, config);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(f);
        return 0;
}

int feeds_reconfigure(struct feeds *f, struct config *config) {
        if (f->config != config) {
                config_unref(f->config);
                f->config = config_ref(config);
        }
        /* Feeds no longer configured stop after any round under way. */
        for (size_t i = 0; i < f->n_runners;) {
                struct runner *r = f->runners[i];

                if (find_feed(config, r->name)) {
                        i++;
                        continue;
                }
                if (r->queued) {
                        r->queued = false;
                        f->waiting--;
                }
                if (r->busy) {
                        r->removed = true;
                        i++;
                        continue;
                }
                f->runners[i] = f->runners[--f->n_runners];
                runner_free(r);
        }
        /* New feeds start now; known ones go on with their timers. */
        for (size_t i = 0; i < config->n_feeds; i++) {
                const char *name = config->feeds[i].name;
                struct runner *r = NULL, **grown;
                bool known = false;

                for (size_t j = 0; j < f->n_runners; j++)
                        if (streq(f->runners[j]->name, name)) {
                                f->runners[j]->removed = false;
                                known = true;
                        }
                if (known)
                        continue;
                grown = reallocarray(f->runners, f->n_runners + 1, sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                f->runners = grown;
                if (runner_new(f, name, &r) < 0)
                        return -ENOMEM;
                f->runners[f->n_runners++] = r;
                if (f->once)
                        round_start(r);
                else
                        schedule(r, 0);
        }
        maybe_all_done(f);
        return 0;
}

struct feeds *feeds_free(struct feeds *f) {
        if (!f)
                return NULL;
        for (size_t i = 0; i < f->n_runners; i++)
                runner_free(f->runners[i]);
        free(f->runners);
        config_unref(f->config);
        sd_event_unref(f->event);
        return mfree(f);
}
