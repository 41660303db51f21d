/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sync jobs: teams and channels, people and retention, rules,
 * rescores and the daily purge, on a connection of their own. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ingest/mapping.h"
#include "bokvar/config/rules.h"
#include "bokvar/daemon/sync.h"
#include "bokvar/db/db.h"
#include "bokvar/db/pgconn.h"
#include "bokvar/db/progress.h"

#define DAILY_CHECK (60 * USEC_PER_MINUTE)
#define RETRY_MIN (30 * USEC_PER_SEC)
#define RETRY_MAX (10 * USEC_PER_MINUTE)

struct syncer {
        sd_event *event;
        struct config *config;
        struct pgconn *pg;
        sd_event_source *timer;
        sd_event_source *retry;    /* a failed job, again */
        usec_t retry_delay;
        bool retry_failed;
        syncer_done_fn done;
        syncer_progress_fn progress_fn;
        void *userdata;
        struct progress progress;  /* of the rescore running */
        /* A full rescore's scores, computed in two halves of the household
         * ids at once: the pass's connection takes the first, a second
         * connection (part) the second (bokvar.rescore_begin). */
        struct pgconn *part;
        char *run, *first_id, *middle_id, *last_id, *today, *query;
        bool mine_done;            /* the pass's connection is idle */
        enum { OTHER_RUNNING, OTHER_DONE, OTHER_FAILED, OTHER_MINE } other;

        bool busy;
        /* waiting jobs */
        char *rules_json;          /* rules to load */
        char *rules_text, *rules_file;
        char *config_json;         /* teams, channels, task settings to sync */
        bool rescore;              /* a full rescore, forced */
        bool daily;                /* the daily rescore and purge */
        /* the running job */
        bool job_rescore, job_force, job_rules, job_daily;
        char *job_json, *job_text, *job_file, *job_config;
        int version;
        bool version_new;
        char summary[256];
};

static void next_job(struct syncer *s);
static void on_notice(struct pgconn *c, const char *message, void *userdata);

/* A failed job's work waits again, unless newer work replaced it. */
static void requeue(struct syncer *s) {
        if (s->job_config && !s->config_json)
                s->config_json = TAKE_PTR(s->job_config);
        if (s->job_rules && !s->rules_json) {
                s->rules_json = TAKE_PTR(s->job_json);
                free(s->rules_text);
                free(s->rules_file);
                s->rules_text = TAKE_PTR(s->job_text);
                s->rules_file = TAKE_PTR(s->job_file);
        }
        if (s->job_rescore && s->job_force)
                s->rescore = true;
        if (s->job_daily)
                s->daily = true;
}

/* Forgets the full rescore's halves and closes its second connection. */
static void split_free(struct syncer *s) {
        s->part = pgconn_free(s->part);
        s->run = mfree(s->run);
        s->first_id = mfree(s->first_id);
        s->middle_id = mfree(s->middle_id);
        s->last_id = mfree(s->last_id);
        s->today = mfree(s->today);
        s->query = mfree(s->query);
}

static void finish(struct syncer *s, bool ok, const char *what) {
        s->busy = false;
        split_free(s);
        if (!ok)
                s->pg = pgconn_free(s->pg);   /* a fresh connection for the next job */
        if (!ok && s->retry_failed) {
                requeue(s);
                (void) sd_event_source_set_time_relative(s->retry, s->retry_delay);
                (void) sd_event_source_set_enabled(s->retry, SD_EVENT_ONESHOT);
                s->retry_delay = MIN(s->retry_delay * 2, RETRY_MAX);
        } else if (ok)
                s->retry_delay = RETRY_MIN;
        if (s->done)
                s->done(ok, what, s->userdata);
        /* After a failure, the retry timer runs the next job. */
        if (ok || !s->retry_failed)
                next_job(s);
}

static bool ok_or_finish(struct syncer *s, PGresult *res, const char *step) {
        char line[256], msg[400];

        if (res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK))
                return true;
        if (res)
                (void) db_error_line(NULL, res, line, sizeof line);
        (void) snprintf(msg, sizeof msg, "%s failed: %s", step, res ? line : pgconn_error(s->pg));
        finish(s, false, msg);
        return false;
}

static void on_purged(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;
        size_t l = strlen(s->summary);

        if (!ok_or_finish(s, res, "the daily purge"))
                return;
        if (!PQgetisnull(res, 0, 0))
                (void) snprintf(s->summary + l, sizeof s->summary - l,
                                "%spurged %s households without a task, %s with tasks, %s quarantined rows, %s access "
                                "and %s audit log entries", l ? "; " : "", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                                PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
        finish(s, true, s->summary);
}

static void on_committed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "the commit of the scores"))
                return;
        /* Retention, once a day whatever the number of daemons: in a
         * transaction of its own, after the day's scores are in. */
        if (s->job_daily) {
                if (pgconn_query(s->pg,
                                 "SELECT p->>'households_without_task', p->>'households_with_tasks', p->>'quarantine', "
                                 "p->>'access_log', p->>'audit_log' FROM bokvar.purge_daily() p",
                                 0, NULL, on_purged, s) < 0)
                        finish(s, false, "cannot start the daily purge");
                return;
        }
        finish(s, true, s->summary);
}

static void on_rescored(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;
        size_t l = strlen(s->summary);

        if (!ok_or_finish(s, res, "the rescore"))
                return;
        split_free(s);     /* the commit and the purge need no second connection */
        if (PQgetisnull(res, 0, 0))
                l += (size_t) snprintf(s->summary + l, sizeof s->summary - l, "%sscores are up to date for today",
                                       l ? "; " : "");
        else
                l += (size_t) snprintf(s->summary + l, sizeof s->summary - l, "%severy household rescored, %s changed",
                                       l ? "; " : "", PQgetvalue(res, 0, 0));
        if (l < sizeof s->summary && !streq(PQgetvalue(res, 0, 1), "0"))
                (void) snprintf(s->summary + l, sizeof s->summary - l, "; %s task%s overdue", PQgetvalue(res, 0, 1),
                                streq(PQgetvalue(res, 0, 1), "1") ? "" : "s");
        if (pgconn_query(s->pg, "COMMIT", 0, NULL, on_committed, s) < 0)
                finish(s, false, "cannot commit the scores");
}

static void on_part_computed(struct pgconn *c, PGresult *res, void *userdata);

/* Sends the query over the lower half of the ids (first to middle) or the
 * upper (after the middle to last) on c. */
static int compute_half(struct syncer *s, struct pgconn *c, bool upper, pgconn_result_fn done) {
        const char *p[6] = { s->run, s->query, upper ? s->middle_id : s->first_id, upper ? "1" : "0",
                             upper ? s->last_id : s->middle_id, s->today };

        return pgconn_query(c, "SELECT bokvar.score_part_compute($1::bigint, $2, $3::bigint + $4::integer, "
                            "$5::bigint, $6::date)", 6, p, done, s);
}

/* Once both halves are in score_part the scores are applied (the daily
 * pass also notes the tasks that fell overdue); if the second connection
 * failed, this one computes its half first. */
static void split_next(struct syncer *s) {
        if (!s->mine_done || s->other == OTHER_RUNNING)
                return;
        if (s->other == OTHER_FAILED) {
                s->other = OTHER_MINE;
                s->mine_done = false;
                if (compute_half(s, s->pg, true, on_part_computed) < 0)
                        finish(s, false, "cannot compute the scores");
                return;
        }
        const char *p[2] = { s->run, s->today };
        if (pgconn_query(s->pg, "SELECT bokvar.rescore_finish($1::bigint, $2::date), bokvar.tasks_overdue()", 2, p,
                         on_rescored, s) < 0)
                finish(s, false, "cannot apply the scores");
}

/* The pass's connection computed its half (or the other's). */
static void on_part_computed(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "computing the scores"))
                return;
        s->mine_done = true;
        split_next(s);
}

/* The second connection computed its half, committed, or failed. */
static void on_other_computed(struct pgconn *c, PGresult *res, void *userdata) {
        struct syncer *s = userdata;
        char line[256];

        if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
                s->other = OTHER_DONE;
        else {
                if (res)
                        (void) db_error_line(NULL, res, line, sizeof line);
                log_warning("Scoring: the second connection failed (%s); the first computes every score.",
                            res ? line : pgconn_error(c));
                s->other = OTHER_FAILED;
        }
        split_next(s);
}

/* The second connection is open: it computes the upper half. */
static void on_other_connected(struct pgconn *c, int error, void *userdata) {
        struct syncer *s = userdata;

        /* Its statement starts after rescore_begin() took the ingest's
         * lock: both halves read the same signals. */
        if (error >= 0 && compute_half(s, c, true, on_other_computed) >= 0)
                return;
        log_warning("Scoring: cannot use a second connection (%s); the first computes every score.",
                    pgconn_error(c));
        s->other = OTHER_FAILED;
        split_next(s);
}

/* rescore_begin() holds the ingest's lock and gave the query and the
 * range: each connection computes half of it. */
static void on_rescore_begun(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "the rescore"))
                return;
        if (PQntuples(res) == 0) {
                /* Today's is done: only the overdue tasks. */
                if (pgconn_query(s->pg, "SELECT NULL::integer, bokvar.tasks_overdue()", 0, NULL, on_rescored, s) < 0)
                        finish(s, false, "cannot note the overdue tasks");
                return;
        }
        char **values[] = { &s->run, &s->first_id, &s->middle_id, &s->last_id, &s->today, &s->query };
        for (int i = 0; i < (int) ELEMENTSOF(values); i++)
                if (!(*values[i] = db_value_or_null(res, 0, i)) && !PQgetisnull(res, 0, i)) {
                        finish(s, false, "out of memory");
                        return;
                }
        if (!s->query) {               /* no ruleset: nothing to compute */
                s->mine_done = true;
                s->other = OTHER_DONE;
                split_next(s);
                return;
        }
        s->mine_done = false;
        s->other = OTHER_RUNNING;
        if (compute_half(s, s->pg, false, on_part_computed) < 0) {
                finish(s, false, "cannot compute the scores");
                return;
        }
        log_info("Scoring: computing the scores on two connections.");
        if (s->progress_fn)
                s->progress_fn("computing the scores", s->userdata);
        if (pgconn_new(s->event, s->config, "bokvard scoring", &s->part) < 0 ||
            pgconn_connect(s->part, on_other_connected, s) < 0) {
                log_warning("Scoring: cannot open a second connection (%s); the first computes every score.",
                            s->part ? pgconn_error(s->part) : "out of memory");
                s->other = OTHER_FAILED;
        }
}

/* A full rescore: rescore_begin(), the halves, rescore_finish(). */
static void rescore(struct syncer *s) {
        const char *p[1] = { s->job_force ? "t" : "f" };

        s->progress = (struct progress){};
        if (pgconn_query(s->pg, "SELECT run, first_id, middle_id, last_id, today, query "
                         "FROM bokvar.rescore_begin($1::boolean)", 1, p, on_rescore_begun, s) < 0)
                finish(s, false, "cannot start the rescore");
}

static void on_rules_loaded(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "loading the rules"))
                return;
        s->version = atoi(PQgetvalue(res, 0, 0));
        s->version_new = streq(PQgetvalue(res, 0, 1), "t");
        (void) snprintf(s->summary, sizeof s->summary, s->version_new ? "rules version %d loaded"
                                                                       : "rules unchanged (version %d)",
                        s->version);
        if (s->version_new) {
                log_full_errno(LOG_NOTICE, 0, LOG_FIELDS({ "RULESET_VERSION", PQgetvalue(res, 0, 0) }),
                               "Rules from %s loaded as version %d; rescoring every household.", s->job_file,
                               s->version);
                s->job_force = true;
                s->job_rescore = true;
        }
        if (s->job_rescore)
                rescore(s);
        else if (pgconn_query(s->pg, "COMMIT", 0, NULL, on_committed, s) < 0)
                finish(s, false, "cannot commit the rules");
}

static const char *actor(void) {
        const struct passwd *pw = getpwuid(getuid());

        return pw ? pw->pw_name : "bokvard";
}

static void load_rules(struct syncer *s) {
        if (s->job_rules) {
                const char *p[4] = { s->job_json, s->job_text, s->job_file, actor() };

                if (pgconn_query(s->pg, "SELECT version, new FROM bokvar.ruleset_load($1::jsonb, $2, $3, $4)", 4, p,
                                 on_rules_loaded, s) < 0)
                        finish(s, false, "cannot send the rules");
                return;
        }
        if (s->job_rescore)
                rescore(s);
        else if (pgconn_query(s->pg, "COMMIT", 0, NULL, on_committed, s) < 0)
                finish(s, false, "cannot commit the configuration");
}

static void on_config_synced(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "storing teams, channels and people"))
                return;
        /* Actors whose logins cannot connect: the configuration is stored
         * all the same, and they see nothing until a role is fixed. */
        for (int i = 0; i < PQntuples(res); i++)
                log_warning("bokvar.yaml: %s.", PQgetvalue(res, i, 0));
        (void) snprintf(s->summary, sizeof s->summary, "teams, channels and people stored");
        load_rules(s);
}

static void on_begun(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "BEGIN"))
                return;
        s->summary[0] = 0;
        if (s->job_config) {
                const char *p[1] = { s->job_config };

                if (pgconn_query(s->pg, "SELECT unnest(bokvar.config_sync($1::jsonb))", 1, p, on_config_synced, s) < 0)
                        finish(s, false, "cannot send teams, channels and people");
                return;
        }
        load_rules(s);
}

static void on_session(struct pgconn *c _unused_, PGresult *res, void *userdata) {
        struct syncer *s = userdata;

        if (!ok_or_finish(s, res, "the session set-up"))
                return;
        if (pgconn_query(s->pg, "BEGIN", 0, NULL, on_begun, s) < 0)
                finish(s, false, "cannot begin");
}

static void on_connected(struct pgconn *c, int error, void *userdata) {
        struct syncer *s = userdata;
        char msg[400];

        if (error < 0) {
                (void) snprintf(msg, sizeof msg, "cannot connect to the database: %s", pgconn_error(c));
                finish(s, false, msg);
                return;
        }
        if (pgconn_query(s->pg, "SELECT set_config('work_mem', '256MB', false)", 0, NULL, on_session, s) < 0)
                finish(s, false, "cannot set up the session");
}

static void next_job(struct syncer *s) {
        if (s->busy || (!s->rules_json && !s->config_json && !s->rescore && !s->daily))
                return;
        s->busy = true;
        free(s->job_config);
        s->job_config = TAKE_PTR(s->config_json);
        s->job_rules = s->rules_json != NULL;
        s->job_rescore = s->rescore || s->daily;
        s->job_force = s->rescore;
        s->job_daily = s->daily;
        s->rescore = s->daily = false;
        if (s->job_rules) {
                /* The rules move into the job; newer ones may queue meanwhile. */
                free(s->job_json);
                free(s->job_text);
                free(s->job_file);
                s->job_json = TAKE_PTR(s->rules_json);
                s->job_text = TAKE_PTR(s->rules_text);
                s->job_file = TAKE_PTR(s->rules_file);
        }
        if (s->pg && pgconn_ready(s->pg)) {
                if (pgconn_query(s->pg, "BEGIN", 0, NULL, on_begun, s) < 0)
                        finish(s, false, "cannot begin");
                return;
        }
        s->pg = pgconn_free(s->pg);
        if (pgconn_new(s->event, s->config, "bokvard", &s->pg) >= 0)
                pgconn_on_notice(s->pg, on_notice, s);
        if (!s->pg || pgconn_connect(s->pg, on_connected, s) < 0) {
                char msg[400];

                (void) snprintf(msg, sizeof msg, "cannot connect to the database: %s",
                                s->pg ? pgconn_error(s->pg) : "out of memory");
                finish(s, false, msg);
        }
}

/* A rescore of many households says how far it got (bokvar.score_apply):
 * a journal line every few seconds, with the time left, and STATUS=. */
static void on_notice(struct pgconn *c _unused_, const char *message, void *userdata) {
        struct syncer *s = userdata;
        struct timespec ts;
        char line[128];
        usec_t now;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
        if (!progress_note(&s->progress, message, now))
                return;
        progress_format(&s->progress, now, line, sizeof line);
        log_info("Scoring: %s.", line);
        if (s->progress_fn)
                s->progress_fn(line, s->userdata);
}

static int on_timer(sd_event_source *src _unused_, uint64_t usec _unused_, void *userdata) {
        struct syncer *s = userdata;
        uint64_t now;

        syncer_daily(s);
        if (sd_event_now(s->event, CLOCK_MONOTONIC, &now) >= 0)
                (void) sd_event_source_set_time(s->timer, now + DAILY_CHECK);
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        return 0;
}

static int on_retry(sd_event_source *src _unused_, uint64_t usec _unused_, void *userdata) {
        next_job(userdata);
        return 0;
}

void syncer_on_progress(struct syncer *s, syncer_progress_fn fn) {
        s->progress_fn = fn;
}

int syncer_new(sd_event *event, struct config *config, syncer_done_fn done, void *userdata, struct syncer **ret) {
        _cleanup_(syncer_freep) struct syncer *s = NULL;
        uint64_t now;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->config = config_ref(config);
        s->done = done;
        s->userdata = userdata;
        r = sd_event_now(event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        /* Checked hourly; the database knows whether today's is done. */
        r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, now + DAILY_CHECK, USEC_PER_MINUTE, on_timer, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->timer, "daily-rescore");
        r = sd_event_add_time_relative(event, &s->retry, CLOCK_MONOTONIC, RETRY_MIN, USEC_PER_SEC, on_retry, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(s->retry, SD_EVENT_OFF);
        (void) sd_event_source_set_description(s->retry, "scoring-retry");
        s->retry_delay = RETRY_MIN;
        *ret = TAKE_PTR(s);
        return 0;
}

struct syncer *syncer_free(struct syncer *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->retry);
        split_free(s);
        pgconn_free(s->pg);
        config_unref(s->config);
        free(s->rules_json);
        free(s->rules_text);
        free(s->rules_file);
        free(s->job_json);
        free(s->job_text);
        free(s->job_file);
        free(s->config_json);
        free(s->job_config);
        sd_event_unref(s->event);
        return mfree(s);
}

/* What bokvar.config_sync() takes: teams, channels and task settings,
 * people and retention, and each feed's mapping (to mask quarantined rows
 * by). */
static int config_sync_json(const struct config *c, struct buf *out) {
        struct json_writer w;

        json_writer_init(&w, out);
        json_object_begin(&w);
        outreach_write_json(&c->outreach, &w);
        access_write_json(&c->access, &w);
        json_key(&w, "feeds");
        json_object_begin(&w);
        for (size_t i = 0; i < c->n_feeds; i++) {
                json_key(&w, c->feeds[i].name);
                mapping_write_json(&w, &c->feeds[i]);
        }
        json_object_end(&w);
        json_object_end(&w);
        return json_writer_finish(&w);
}

void syncer_apply(struct syncer *s, struct config *config, bool force_rescore) {
        struct buf json = {};

        if (s->config != config) {
                config_unref(s->config);
                s->config = config_ref(config);
        }
        if (config_sync_json(config, &json) < 0) {
                buf_free(&json);
                log_oom();
                return;
        }
        free(s->config_json);
        s->config_json = buf_steal(&json);
        if (!config->rules) {
                if (force_rescore)
                        s->rescore = true;
                next_job(s);
                return;
        }
        if (rules_to_json(config->rules, &json) < 0) {
                buf_free(&json);
                log_oom();
                return;
        }
        free(s->rules_json);
        free(s->rules_text);
        free(s->rules_file);
        s->rules_json = buf_steal(&json);
        s->rules_text = strdup(config->rules->text);
        s->rules_file = strdup(config->rules->path);
        if (force_rescore)
                s->rescore = true;
        next_job(s);
}

void syncer_retry_failed(struct syncer *s, bool retry) {
        s->retry_failed = retry;
}

void syncer_daily(struct syncer *s) {
        s->daily = true;
        next_job(s);
}

bool syncer_idle(const struct syncer *s) {
        return !s->busy && !s->rules_json && !s->config_json && !s->rescore && !s->daily;
}
