/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sending the outbox: claim ahead, send concurrently, record, claim again.
 * What a send puts on the wire and what its answer means is delivery.c's;
 * this file holds the rows: the claim and its lease, the queue, the
 * outcomes recorded with the next claim, LISTEN/NOTIFY, stop and drain. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/db/db.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/outreach/delivery.h"
#include "bokvar/outreach/dispatch.h"
#include "bokvar/outreach/mail.h"

#define RECONNECT_MIN (1 * USEC_PER_SEC)
/* However long the database was away, delivery resumes within seconds of
 * its return: tasks wait on it, and a connection attempt costs little. */
#define RECONNECT_MAX (5 * USEC_PER_SEC)
/* Looks at the outbox at least this often, should a notification be lost. */
#define POLL_MAX (60 * USEC_PER_SEC)
/* Rows claimed ahead of the sends, in multiples of the concurrency: a
 * round trip claims many rows at once, and sends never wait for one. A
 * claim goes out once room for CLAIM_MIN rounds is free, so the rows still
 * waiting then (AHEAD - CLAIM_MIN - 1 rounds) outlast its round trip. */
#define AHEAD 12
#define CLAIM_MIN 4
/* A lease covers this many rounds of the slowest sends: a row that waited
 * longer behind sends that slow is given back, not sent (start_queued). */
#define LEASE_ROUNDS 4
#define DEAD_LOG_PER_MINUTE 10
/* How long a stop waits for the sends in flight. */
#define STOP_GRACE (10 * USEC_PER_SEC)

/* A claimed row waiting for a free slot. */
struct claimed {
        struct claimed *next;
        int64_t id;
        int attempt;
        usec_t claimed_at;
        char *event_id, *channel, *recipient, *subject, *body;
        size_t body_len;
};

/* An outcome waiting to be recorded with the next claim. */
struct outcome {
        int64_t id;
        enum delivery_verdict verdict;
        long status;
        long retry_after;
        char *error;               /* NULL when delivered */
};

/* Whether a channel is failing, so that an outage is logged when it starts
 * and when it ends, not once per event. */
struct channel_state {
        char *name;
        bool failing;
};

struct dispatcher {
        sd_event *event;
        struct curl_glue *glue;
        struct config *config;
        struct pgconn *pg;
        sd_event_source *timer;    /* the next row due, or reconnecting */
        sd_event_source *kick;     /* a cycle from the loop, not from inside a callback */
        sd_event_source *grace;    /* stopping: the sends in flight had their time */
        char claimer[300];

        bool listening;            /* for good (dispatcher_start) */
        dispatch_drained_fn drained;   /* or until nothing is due */
        void *drained_userdata;
        dispatch_stopped_fn stopped;   /* stopping */
        void *stopped_userdata;

        bool ready;                /* connected (and listening) */
        bool maybe_due;            /* a claim may find rows */
        unsigned asked;            /* rows the running claim asked for */
        bool ask_next_due;
        usec_t reconnect_delay;

        struct delivery **inflight;
        unsigned n_inflight;
        size_t n_inflight_allocated;
        struct claimed *queue, *queue_tail;
        unsigned n_queued;
        struct outcome *outcomes;  /* not yet recorded, oldest first */
        size_t n_outcomes, n_outcomes_allocated;
        size_t n_outcomes_sending; /* the first ones, in the query running */
        int64_t *release;          /* claimed rows given back, not yet released */
        size_t n_release, n_release_allocated;
        size_t n_release_sending;  /* the first ones, in the query running */

        struct dispatch_stats stats;
        struct channel_state *channels;
        size_t n_channels;
        usec_t dead_window;
        unsigned dead_logged;
};

/* The steps below are written in the order they happen. */
static void connect_db(struct dispatcher *d);
static void on_connected(struct pgconn *c, int error, void *userdata);
static void on_listening(struct pgconn *c, PGresult *res, void *userdata);
static void on_notify(struct pgconn *c, const char *channel, const char *payload, void *userdata);
static void on_lost(struct pgconn *c, int error, void *userdata);
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);
static int on_kick(sd_event_source *s, void *userdata);
static void cycle(struct dispatcher *d);
static void on_claimed(struct pgconn *c, PGresult *res, void *userdata);
static void start_queued(struct dispatcher *d);
static void send_claimed(struct dispatcher *d, const struct claimed *cl);
static void on_delivery_done(struct delivery *dl, const struct delivery_outcome *o, void *userdata);
static void on_next_due(struct pgconn *c, PGresult *res, void *userdata);
static void db_failed(struct dispatcher *d, const char *what, PGresult *res);
static void finish_drain(struct dispatcher *d, bool ok);
static int on_grace(sd_event_source *s, uint64_t usec, void *userdata);
static void abandon(struct dispatcher *d);
static void finish_stop(struct dispatcher *d);

static usec_t now_usec(struct dispatcher *d) {
        uint64_t now = 0;

        (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
        return now;
}

static void arm_timer(struct dispatcher *d, usec_t delay) {
        (void) sd_event_source_set_time(d->timer, now_usec(d) + delay);
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
}

/* Runs a cycle from the event loop soon. */
static void kick(struct dispatcher *d) {
        (void) sd_event_source_set_enabled(d->kick, SD_EVENT_ONESHOT);
}

static usec_t longest_timeout(const struct config *c) {
        usec_t longest = USEC_PER_SEC;

        for (size_t i = 0; i < c->outreach.n_channels; i++)
                longest = MAX(longest, c->outreach.channels[i].timeout);
        return longest;
}

/* A lease outlasts LEASE_ROUNDS rounds of the slowest sends, with a
 * margin; sends as fast as usual empty the AHEAD rounds held long before. */
static unsigned lease_seconds(const struct config *c) {
        return (unsigned) (LEASE_ROUNDS * longest_timeout(c) / USEC_PER_SEC) + 10;
}

/* The queue of claimed rows. */

static struct claimed *claimed_free(struct claimed *cl) {
        if (!cl)
                return NULL;
        free(cl->event_id);
        free(cl->channel);
        free(cl->recipient);
        free(cl->subject);
        free(cl->body);
        return mfree(cl);
}

/* The claim's columns (bokvar.outbox_claim). */
enum {
        CLAIM_ID,
        CLAIM_EVENT_ID,
        CLAIM_CHANNEL,
        CLAIM_RECIPIENT,
        CLAIM_BODY,
        CLAIM_ATTEMPTS,
        CLAIM_KIND,
        CLAIM_TASK_ID,
        CLAIM_TEAM,
        CLAIM_CLASS,
        CLAIM_SCORE,
        CLAIM_DUE,
        CLAIM_DEADLINE,
        CLAIM_CHILDREN,
        CLAIM_ASSIGNEE,
        CLAIM_RULES,
};

static const char *claim_value(const PGresult *res, int row, int column) {
        return PQgetisnull(res, row, column) ? NULL : PQgetvalue(res, row, column);
}

/* An e-mail's subject and text, written now in its team's language. */
static int claimed_mail(struct dispatcher *d, const PGresult *res, int row, struct claimed *cl) {
        const char *team = claim_value(res, row, CLAIM_TEAM);
        const struct mail_event ev = {
                .event_id = cl->event_id,
                .kind = claim_value(res, row, CLAIM_KIND),
                .task_id = claim_value(res, row, CLAIM_TASK_ID),
                .team = team,
                .risk_class = claim_value(res, row, CLAIM_CLASS),
                .score = claim_value(res, row, CLAIM_SCORE),
                .due = claim_value(res, row, CLAIM_DUE),
                .deadline = claim_value(res, row, CLAIM_DEADLINE),
                .children = claim_value(res, row, CLAIM_CHILDREN),
                .assignee = claim_value(res, row, CLAIM_ASSIGNEE),
                .rules = claim_value(res, row, CLAIM_RULES),
        };
        char *text = NULL;
        int r;

        r = mail_write(&ev, outreach_team_language(&d->config->outreach, team, d->config->language), &cl->subject,
                       &text);
        if (r == -EINVAL)
                /* Not an event of a task: refused by send_claimed for want
                 * of a subject. */
                return 0;
        if (r < 0)
                return r;
        free(cl->body);
        cl->body = text;
        cl->body_len = strlen(text);
        return 0;
}

static int queue_push(struct dispatcher *d, PGresult *res, int row) {
        struct claimed *cl = calloc(1, sizeof *cl);

        if (!cl)
                return -ENOMEM;
        cl->id = strtoll(PQgetvalue(res, row, CLAIM_ID), NULL, 10);
        cl->attempt = atoi(PQgetvalue(res, row, CLAIM_ATTEMPTS));
        cl->claimed_at = now_usec(d);
        if (!(cl->event_id = strdup(PQgetvalue(res, row, CLAIM_EVENT_ID))) ||
            !(cl->channel = strdup(PQgetvalue(res, row, CLAIM_CHANNEL))) ||
            strdup_or_null(claim_value(res, row, CLAIM_RECIPIENT), &cl->recipient) < 0) {
                claimed_free(cl);
                return -ENOMEM;
        }
        cl->body_len = (size_t) PQgetlength(res, row, CLAIM_BODY);
        if (!(cl->body = malloc(cl->body_len + 1)) || (cl->recipient && claimed_mail(d, res, row, cl) < 0)) {
                claimed_free(cl);
                return -ENOMEM;
        }
        if (!cl->recipient || !cl->subject)
                memcpy(cl->body, PQgetvalue(res, row, CLAIM_BODY), cl->body_len + 1);
        if (d->queue_tail)
                d->queue_tail->next = cl;
        else
                d->queue = cl;
        d->queue_tail = cl;
        d->n_queued++;
        return 0;
}

static struct claimed *queue_pop(struct dispatcher *d) {
        struct claimed *cl = d->queue;

        if (!cl)
                return NULL;
        d->queue = cl->next;
        if (!d->queue)
                d->queue_tail = NULL;
        d->n_queued--;
        return cl;
}

/* A claimed row this dispatcher will not send: given back with the next
 * round trip, free at once for any dispatcher. */
static void give_back(struct dispatcher *d, int64_t id) {
        if (!GREEDY_REALLOC(d->release, d->n_release_allocated, d->n_release + 1)) {
                log_oom();   /* then its lease runs out instead */
                return;
        }
        d->release[d->n_release++] = id;
}

/* The sends in flight. */

static int inflight_reserve(struct dispatcher *d) {
        return GREEDY_REALLOC(d->inflight, d->n_inflight_allocated, (size_t) d->n_inflight + 1) ? 0 : -ENOMEM;
}

static void inflight_remove(struct dispatcher *d, struct delivery *dl) {
        for (unsigned i = 0; i < d->n_inflight; i++)
                if (d->inflight[i] == dl) {
                        d->inflight[i] = d->inflight[--d->n_inflight];
                        return;
                }
}

/* Outcomes, and what the operator is told of them. */

/* Queues an outcome for the next round trip. */
static void record(struct dispatcher *d, int64_t id, enum delivery_verdict v, long status, const char *error,
                   long retry_after) {
        char *e = NULL;

        if (!GREEDY_REALLOC(d->outcomes, d->n_outcomes_allocated, d->n_outcomes + 1) ||
            strdup_or_null(error, &e) < 0) {
                /* Unrecorded, the row is sent again when its lease runs out. */
                log_oom();
                return;
        }
        d->outcomes[d->n_outcomes++] = (struct outcome){
                .id = id, .verdict = v, .status = status, .retry_after = retry_after, .error = e
        };
        switch (v) {
        case DELIVERY_OK:
                d->stats.delivered++;
                break;
        case DELIVERY_RETRY:
                d->stats.retried++;
                break;
        case DELIVERY_DEAD:
                d->stats.dead++;
                break;
        }
}

static struct channel_state *channel_state(struct dispatcher *d, const char *name) {
        struct channel_state *l;
        char *n;

        for (size_t i = 0; i < d->n_channels; i++)
                if (streq(d->channels[i].name, name))
                        return &d->channels[i];
        n = strdup(name);
        l = n ? realloc(d->channels, (d->n_channels + 1) * sizeof *l) : NULL;
        if (!l) {
                free(n);
                return NULL;
        }
        d->channels = l;
        l[d->n_channels] = (struct channel_state){ .name = n };
        return &l[d->n_channels++];
}

static void log_dead(struct dispatcher *d, int64_t outbox_id, const char *event_id, const char *channel,
                     const char *error) {
        char id[21];

        if (now_usec(d) > d->dead_window + USEC_PER_MINUTE) {
                if (d->dead_logged > DEAD_LOG_PER_MINUTE)
                        log_warning("%u more dead letters in the last minute were not logged one by one; "
                                    "`bokvarctl outbox --dead` lists them.",
                                    d->dead_logged - DEAD_LOG_PER_MINUTE);
                d->dead_window = now_usec(d);
                d->dead_logged = 0;
        }
        if (d->dead_logged++ < DEAD_LOG_PER_MINUTE)
                log_full_errno(LOG_WARNING, 0,
                               LOG_FIELDS({ "CHANNEL", channel }, { "OUTBOX_ID", fmt_i64(id, outbox_id) },
                                          { "EVENT_ID", event_id }),
                               "Outbox row %s (%s) is a dead letter: %s. `bokvarctl outbox retry %s` sends it again.",
                               id, channel, error, id);
}

static void log_outcome(struct dispatcher *d, const struct delivery_outcome *o) {
        struct channel_state *st = channel_state(d, o->channel);

        if (o->verdict == DELIVERY_OK) {
                if (st && st->failing) {
                        log_full_errno(LOG_NOTICE, 0, LOG_FIELDS({ "CHANNEL", o->channel }),
                                       "Channel %s: delivering again.", o->channel);
                        st->failing = false;
                }
                return;
        }
        if (st && !st->failing) {
                log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "CHANNEL", o->channel }),
                               "Channel %s: delivery failed: %s; %s.", o->channel, o->error,
                               o->verdict == DELIVERY_RETRY ? "retrying with backoff" : "not retried");
                st->failing = true;
        }
        if (o->verdict == DELIVERY_DEAD)
                log_dead(d, o->outbox_id, o->event_id, o->channel, o->error);
}

/* A row that cannot be sent as it is: a dead letter, with the reason. */
static void unsendable(struct dispatcher *d, int64_t outbox_id, const char *event_id, const char *channel,
                       const char *error) {
        char id[21];

        log_full_errno(LOG_WARNING, 0,
                       LOG_FIELDS({ "CHANNEL", channel }, { "OUTBOX_ID", fmt_i64(id, outbox_id) },
                                  { "EVENT_ID", event_id }),
                       "Outbox row %s cannot be sent: %s; it is a dead letter.", id, error);
        record(d, outbox_id, DELIVERY_DEAD, 0, error, 0);
}

/* Starting: a connection of its own, LISTEN, the first cycle. */

int dispatcher_new(sd_event *event, struct curl_glue *glue, struct config *config, struct dispatcher **ret) {
        _cleanup_(dispatcher_freep) struct dispatcher *d = NULL;
        char host[256] = "localhost";
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        d->event = sd_event_ref(event);
        d->glue = glue;
        d->config = config_ref(config);
        d->reconnect_delay = RECONNECT_MIN;
        (void) gethostname(host, sizeof host - 1);
        (void) snprintf(d->claimer, sizeof d->claimer, "%s:%ld", host, (long) getpid());
        r = sd_event_add_time(event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX, 10 * USEC_PER_MSEC, on_timer, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(d->timer, "dispatch");
        r = sd_event_add_defer(event, &d->kick, on_kick, d);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(d->kick, SD_EVENT_OFF);
        (void) sd_event_source_set_description(d->kick, "dispatch-kick");
        *ret = TAKE_PTR(d);
        return 0;
}

int dispatcher_start(struct dispatcher *d) {
        d->listening = true;
        connect_db(d);
        return 0;
}

int dispatcher_drain(struct dispatcher *d, dispatch_drained_fn done, void *userdata) {
        d->drained = done;
        d->drained_userdata = userdata;
        d->stats = (struct dispatch_stats){};
        if (!d->pg)
                connect_db(d);
        else {
                d->maybe_due = true;
                kick(d);
        }
        return 0;
}

static void connect_db(struct dispatcher *d) {
        int r;

        d->pg = pgconn_free(d->pg);
        d->ready = false;
        r = pgconn_new(d->event, d->config, "bokvard-dispatch", &d->pg);
        if (r >= 0)
                r = pgconn_connect(d->pg, on_connected, d);
        if (r < 0)
                db_failed(d, "connecting to the database", NULL);
}

static void on_connected(struct pgconn *c _unused_, int error, void *userdata) {
        struct dispatcher *d = userdata;

        if (error < 0) {
                db_failed(d, "connecting to the database", NULL);
                return;
        }
        pgconn_on_notify(d->pg, on_notify, d);
        pgconn_on_lost(d->pg, on_lost, d);
        if (d->listening) {
                if (pgconn_query(d->pg, "LISTEN bokvar_outbox", 0, NULL, on_listening, d) < 0)
                        db_failed(d, "LISTEN", NULL);
                return;
        }
        d->ready = true;
        d->maybe_due = true;
        cycle(d);
}

static void on_listening(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct dispatcher *d = userdata;

        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
                db_failed(d, "LISTEN", res);
                return;
        }
        d->ready = true;
        d->maybe_due = true;
        cycle(d);
}

/* Called from inside pgconn's reading of the socket: nothing here may
 * start a query (which could fail and free the connection under it). */
static void on_notify(struct pgconn *c _unused_, const char *channel _unused_, const char *payload _unused_,
                      void *userdata) {
        struct dispatcher *d = userdata;

        d->maybe_due = true;
        kick(d);
}

static void on_lost(struct pgconn *c _unused_, int error _unused_, void *userdata) {
        db_failed(userdata, "the database connection", NULL);
}

/* The cycle: woken by a notification, the timer or a finished send. */

static int on_timer(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        struct dispatcher *d = userdata;

        if (!d->pg) {
                connect_db(d);
                return 0;
        }
        d->maybe_due = true;
        cycle(d);
        return 0;
}

static int on_kick(sd_event_source *s _unused_, void *userdata) {
        cycle(userdata);
        return 0;
}

/* What goes with a claim, in one document: the outcomes to record, as
 * bokvar.outbox_done() reads them, the channels this configuration sends
 * to, and the claimed rows given back: {"done": [{id, ok, retry, status,
 * retry_after, error}, ...], "channels": [name, ...], "release": [id, ...]}. */
static int claim_document(const struct dispatcher *d, struct buf *out) {
        const struct outreach_config *c = &d->config->outreach;
        struct json_writer w;

        json_writer_init(&w, out);
        json_object_begin(&w);
        json_key(&w, "done");
        json_array_begin(&w);
        for (size_t i = 0; i < d->n_outcomes; i++) {
                const struct outcome *o = &d->outcomes[i];

                json_object_begin(&w);
                json_key_int(&w, "id", o->id);
                json_key_bool(&w, "ok", o->verdict == DELIVERY_OK);
                json_key_bool(&w, "retry", o->verdict == DELIVERY_RETRY);
                json_key_int(&w, "status", o->status);
                json_key_int(&w, "retry_after", o->retry_after);
                json_key_string(&w, "error", o->error);
                json_object_end(&w);
        }
        json_array_end(&w);
        json_key(&w, "channels");
        json_array_begin(&w);
        for (size_t i = 0; i < c->n_channels; i++)
                json_string(&w, c->channels[i].name);
        json_array_end(&w);
        json_key(&w, "release");
        json_array_begin(&w);
        for (size_t i = 0; i < d->n_release; i++)
                json_int(&w, d->release[i]);
        json_array_end(&w);
        json_object_end(&w);
        return json_writer_finish(&w);
}

/* One step: give back, record outcomes and claim rows ahead, or ask when
 * to look again, or finish a drain or a stop. At most one query runs at a
 * time. Claims come in batches of CLAIM_MIN rounds of sends or more, up to
 * AHEAD rounds held in all; outcomes go along, or alone when many wait or
 * nothing else is left to do. */
static void cycle(struct dispatcher *d) {
        unsigned concurrency = d->config->outreach.concurrency;
        unsigned held = d->n_inflight + d->n_queued;
        unsigned room = held < AHEAD * concurrency ? AHEAD * concurrency - held : 0;
        bool claim = d->maybe_due && !d->stopped && room >= CLAIM_MIN * concurrency;
        bool idle = d->n_inflight == 0 && d->n_queued == 0;
        bool pending = d->n_outcomes > 0 || d->n_release > 0;

        if (!d->pg || !d->ready || !pgconn_ready(d->pg)) {
                if (d->stopped && !d->pg && idle)
                        finish_stop(d);
                return;
        }
        if (claim || (pending && (idle || d->n_outcomes >= AHEAD * concurrency))) {
                struct buf doc = {};
                char limit[16], lease[16];
                int k;

                (void) snprintf(limit, sizeof limit, "%u", claim ? room : 0);
                (void) snprintf(lease, sizeof lease, "%u", lease_seconds(d->config));
                k = claim_document(d, &doc);
                if (k < 0) {
                        buf_free(&doc);
                        log_oom();
                        return;
                }
                d->asked = claim ? room : 0;
                d->n_outcomes_sending = d->n_outcomes;
                d->n_release_sending = d->n_release;
                /* The document's arrays become the function's jsonb, text[]
                 * and bigint[] here. */
                k = pgconn_query(d->pg,
                                 "SELECT id, event_id, channel, recipient, body, attempts, kind, task_id, team, class, "
                                 "score, due, deadline, children, assignee, rules "
                                 "FROM bokvar.outbox_claim($1, $2::integer, $3::integer, $4::jsonb -> 'done', "
                                 "ARRAY(SELECT jsonb_array_elements_text($4::jsonb -> 'channels')), "
                                 "ARRAY(SELECT jsonb_array_elements_text($4::jsonb -> 'release')::bigint))",
                                 4, (const char *const[]){ d->claimer, limit, lease, doc.data }, on_claimed, d);
                buf_free(&doc);
                if (k < 0)
                        db_failed(d, "claiming from the outbox", NULL);
                return;
        }
        if (pending || !idle)
                return;
        if (d->stopped) {
                finish_stop(d);
                return;
        }
        if (d->drained) {
                finish_drain(d, true);
                return;
        }
        if (d->ask_next_due) {
                d->ask_next_due = false;
                if (pgconn_query(d->pg,
                                 "SELECT ceil(extract(epoch FROM bokvar.outbox_next_due() - clock_timestamp()) * 1000)"
                                 "::bigint",
                                 0, NULL, on_next_due, d) < 0)
                        db_failed(d, "looking for the next row due", NULL);
        }
}

/* What went with the claim is recorded, and what was given back released. */
static void drop_sent(struct dispatcher *d) {
        if (d->n_outcomes_sending > 0) {
                for (size_t i = 0; i < d->n_outcomes_sending; i++)
                        free(d->outcomes[i].error);
                d->n_outcomes -= d->n_outcomes_sending;
                memmove(d->outcomes, d->outcomes + d->n_outcomes_sending, d->n_outcomes * sizeof *d->outcomes);
                d->n_outcomes_sending = 0;
        }
        if (d->n_release_sending > 0) {
                d->n_release -= d->n_release_sending;
                memmove(d->release, d->release + d->n_release_sending, d->n_release * sizeof *d->release);
                d->n_release_sending = 0;
        }
}

static void on_claimed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct dispatcher *d = userdata;
        int n;

        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
                db_failed(d, "claiming from the outbox", res);
                return;
        }
        d->reconnect_delay = RECONNECT_MIN;
        drop_sent(d);
        n = PQntuples(res);
        /* Fewer than asked for: nothing more is due until told otherwise. */
        if ((unsigned) n < d->asked)
                d->maybe_due = false;
        d->ask_next_due = true;
        for (int i = 0; i < n; i++)
                if (queue_push(d, res, i) < 0) {
                        /* Unsent, the row goes out again when its lease ends. */
                        log_oom();
                        break;
                }
        start_queued(d);
        cycle(d);
}

/* Fills the free slots from the queue. A row that waited so long that its
 * lease could end during the send is given back instead: another claim
 * sends it, and no two dispatchers ever hold it at once. */
static void start_queued(struct dispatcher *d) {
        usec_t lease = lease_seconds(d->config) * USEC_PER_SEC, margin = longest_timeout(d->config) + 5 * USEC_PER_SEC;

        /* Every channel's connections stay open for the next sends, as many
         * as may be in flight to it (the configuration may have changed). */
        curl_glue_keep_connections(d->glue, d->config->outreach.concurrency *
                                                    MAX(d->config->outreach.n_channels, (size_t) 1));
        while (d->queue && (d->stopped || d->n_inflight < d->config->outreach.concurrency)) {
                struct claimed *cl = queue_pop(d);

                if (d->stopped || now_usec(d) - cl->claimed_at + margin > lease)
                        give_back(d, cl->id);
                else
                        send_claimed(d, cl);
                claimed_free(cl);
        }
}

/* Starts sending one claimed row; a row that cannot be sent is recorded. */
static void send_claimed(struct dispatcher *d, const struct claimed *cl) {
        const struct channel_config *ch = outreach_channel(&d->config->outreach, cl->channel);
        _cleanup_(delivery_freep) struct delivery *dl = NULL;
        char error[200], id[21];
        int r;

        if (!ch) {
                /* Claimed under an earlier configuration, reloaded since. */
                give_back(d, cl->id);
                return;
        }
        if (ch->type == CHANNEL_SMTP && (!cl->recipient || !cl->subject)) {
                unsendable(d, cl->id, cl->event_id, cl->channel, "an e-mail without a recipient (the team has no email)");
                return;
        }
        r = delivery_new(d->glue, d->config, ch,
                         &(const struct delivery_request){
                                 .outbox_id = cl->id,
                                 .attempt = cl->attempt,
                                 .event_id = cl->event_id,
                                 .body = cl->body,
                                 .body_len = cl->body_len,
                                 .recipient = cl->recipient,
                                 .subject = cl->subject,
                         },
                         &dl);
        if (r >= 0)
                r = inflight_reserve(d);
        if (r >= 0)
                r = delivery_start(dl, on_delivery_done, d);
        if (r >= 0) {
                d->inflight[d->n_inflight++] = TAKE_PTR(dl);
                return;
        }
        /* A message that cannot be written never will be; the rest (memory,
         * a key not loaded) may pass on another attempt. */
        (void) snprintf(error, sizeof error, "cannot prepare the delivery: %s",
                        r == -ENOKEY  ? "the channel's key was not loaded"
                        : r == -EINVAL ? "the message cannot be written (a header value is invalid)"
                                       : strerror(-r));
        if (r == -EINVAL) {
                unsendable(d, cl->id, cl->event_id, cl->channel, error);
                return;
        }
        log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "CHANNEL", cl->channel }, { "OUTBOX_ID", fmt_i64(id, cl->id) }),
                       "Outbox row %s: %s; it will be tried again.", id, error);
        record(d, cl->id, DELIVERY_RETRY, 0, error, 0);
}

/* Called from the event loop; the outcome lives no longer than dl. */
static void on_delivery_done(struct delivery *dl, const struct delivery_outcome *o, void *userdata) {
        struct dispatcher *d = userdata;

        log_debug("Outbox row %" PRId64 " on %s: %s%s%s.", o->outbox_id, o->channel,
                  o->verdict == DELIVERY_OK ? "delivered" : o->verdict == DELIVERY_RETRY ? "to retry" : "dead",
                  o->error ? ": " : "", o->error ? o->error : "");
        log_outcome(d, o);
        record(d, o->outbox_id, o->verdict, o->status, o->error, o->retry_after);
        inflight_remove(d, dl);
        delivery_free(dl);
        start_queued(d);
        cycle(d);
}

static void on_next_due(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct dispatcher *d = userdata;
        usec_t delay = POLL_MAX;

        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
                db_failed(d, "looking for the next row due", res);
                return;
        }
        if (!PQgetisnull(res, 0, 0)) {
                long long ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

                delay = ms <= 50 ? 50 * USEC_PER_MSEC : MIN((usec_t) ms * USEC_PER_MSEC, POLL_MAX);
        }
        arm_timer(d, delay);
        cycle(d);
}

/* The database went away: try again later; outcomes wait in memory. */
static void db_failed(struct dispatcher *d, const char *what, PGresult *res) {
        bool giving_up = d->drained || d->stopped;
        char line[256];

        if (res)
                (void) db_error_line(NULL, res, line, sizeof line);
        if (giving_up)
                log_full_errno(LOG_ERR, 0, LOG_FIELDS({ "DISPATCH_ERROR", "database" }),
                               "Dispatch: %s failed: %s; giving up (what was claimed goes out again when its lease "
                               "ends).",
                               what, res ? line : d->pg ? pgconn_error(d->pg) : "no connection");
        else
                log_full_errno(LOG_WARNING, 0, LOG_FIELDS({ "DISPATCH_ERROR", "database" }),
                               "Dispatch: %s failed: %s; trying again in %llus.", what,
                               res ? line : d->pg ? pgconn_error(d->pg) : "no connection",
                               (unsigned long long) (d->reconnect_delay / USEC_PER_SEC));
        d->pg = pgconn_free(d->pg);
        d->ready = false;
        /* What went with a failed claim goes with the next one. */
        d->n_outcomes_sending = 0;
        d->n_release_sending = 0;
        if (giving_up) {
                abandon(d);
                finish_drain(d, false);
                finish_stop(d);
                return;
        }
        arm_timer(d, d->reconnect_delay);
        d->reconnect_delay = MIN(d->reconnect_delay * 2, RECONNECT_MAX);
}

/* Ending: a drain once nothing is due, a stop, a new configuration. */

static void finish_drain(struct dispatcher *d, bool ok) {
        dispatch_drained_fn done = d->drained;

        if (!done)
                return;
        d->drained = NULL;
        done(ok, &d->stats, d->drained_userdata);
}

void dispatcher_stop(struct dispatcher *d, dispatch_stopped_fn done, void *userdata) {
        d->stopped = done;
        d->stopped_userdata = userdata;
        d->drained = NULL;
        /* Rows not yet sent go back for others; sends in flight get a moment
         * to finish, then every outcome is recorded in one last round trip. */
        start_queued(d);
        if (d->n_inflight > 0)
                (void) sd_event_add_time_relative(d->event, &d->grace, CLOCK_MONOTONIC, STOP_GRACE, USEC_PER_MSEC,
                                                  on_grace, d);
        if (!d->pg || !d->ready) {
                if (d->n_inflight == 0)
                        finish_stop(d);
                return;
        }
        cycle(d);
}

static int on_grace(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata) {
        struct dispatcher *d = userdata;

        log_warning("Dispatch: %u send%s still in flight after %llus; leaving %s to go out again when %s lease ends.",
                    d->n_inflight, d->n_inflight == 1 ? "" : "s", (unsigned long long) (STOP_GRACE / USEC_PER_SEC),
                    d->n_inflight == 1 ? "it" : "them", d->n_inflight == 1 ? "its" : "their");
        abandon(d);
        cycle(d);
        if (d->stopped && (!d->pg || !d->ready))
                finish_stop(d);
        return 0;
}

/* Everything held in memory is given up: what was claimed goes out again
 * when its lease ends. */
static void abandon(struct dispatcher *d) {
        /* Freeing a delivery stops its transfer first. */
        while (d->n_inflight > 0)
                delivery_free(d->inflight[--d->n_inflight]);
        while (d->queue)
                claimed_free(queue_pop(d));
}

static void finish_stop(struct dispatcher *d) {
        dispatch_stopped_fn done = d->stopped;

        if (!done)
                return;
        d->stopped = NULL;
        d->grace = sd_event_source_disable_unref(d->grace);
        done(d->stopped_userdata);
}

void dispatcher_reconfigure(struct dispatcher *d, struct config *config) {
        config_unref(d->config);
        d->config = config_ref(config);
        d->maybe_due = true;
        kick(d);
}

struct dispatcher *dispatcher_free(struct dispatcher *d) {
        if (!d)
                return NULL;
        abandon(d);
        sd_event_source_disable_unref(d->timer);
        sd_event_source_disable_unref(d->kick);
        sd_event_source_disable_unref(d->grace);
        pgconn_free(d->pg);
        config_unref(d->config);
        free(d->inflight);
        for (size_t i = 0; i < d->n_outcomes; i++)
                free(d->outcomes[i].error);
        free(d->outcomes);
        free(d->release);
        for (size_t i = 0; i < d->n_channels; i++)
                free(d->channels[i].name);
        free(d->channels);
        sd_event_unref(d->event);
        return mfree(d);
}
