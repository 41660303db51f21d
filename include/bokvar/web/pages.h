/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The pages, one handler each, called by the router (web.c) once the
 * request's person, session and CSRF token are known. Each answers the
 * request (web_respond and friends), at once or from its database
 * callback, exactly once. */
#pragma once

#include <stdbool.h>

struct web_request;

/* GET /: the worklist. */
void worklist_page(struct web_request *wr);
/* GET /household/ID: who lives there, the signals, the score, the task. */
void household_page(struct web_request *wr);
/* The household page, for GET, and again with a refused action's form
 * (wr->failed_form set): answered 200, or 422 with the form's mistakes. */
void household_show(struct web_request *wr, long long household);
/* GET /task/ID: to the household page of the task, at the task. */
void task_page(struct web_request *wr);
/* POST /task/ID/ACTION and /household/ID/children: a caseworker's action. */
void action_post(struct web_request *wr);
/* Whether ACTION names one (ack, contact, follow-up, reassign, close). */
bool action_known(const char *action);
/* GET /teams: every team's open tasks, for coordinators. */
void teams_page(struct web_request *wr);
/* GET /task/ID/hand-over: the task's facts and the form to hand it over
 * to another team (POSTed to action_post); shown again with a refused
 * form's mistakes (wr->failed_form "hand-over"). */
void hand_over_page(struct web_request *wr);
/* GET /feeds: the feeds and the dead letters, for coordinators and
 * operators; POST /outbox/ID/retry and /outbox/retry (wr->id 0): a dead
 * letter, or all of them, sent again. */
void feeds_page(struct web_request *wr);
void outbox_retry_post(struct web_request *wr);
/* GET /access-log: the access log searched, and the purge records, for
 * auditors; GET /access-log.csv: the search's reads as CSV. */
void access_log_page(struct web_request *wr);
void access_log_csv(struct web_request *wr);
/* GET /report?year=Y: the yearly report with its charts, for coordinators
 * and auditors; GET /report.csv?year=Y: its figures as CSV. */
void report_page(struct web_request *wr);
void report_csv(struct web_request *wr);
/* GET /settings: the person's language; POST /settings: saves it. */
void settings_page(struct web_request *wr);
void settings_save(struct web_request *wr);
/* GET /notice: the form for a notice that came by letter or e-mail. */
void notice_page(struct web_request *wr);
/* POST /notice: registers it, or shows the form again with what is wrong. */
void notice_register(struct web_request *wr);
