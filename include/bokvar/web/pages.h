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
/* GET /notice: the form for a notice that came by letter or e-mail. */
void notice_page(struct web_request *wr);
/* POST /notice: registers it, or shows the form again with what is wrong. */
void notice_register(struct web_request *wr);
