/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The household page: who lives there, the signals, the score, the task; every read logged.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /household/ID: who lives there, the signals, the score, the task. */
void household_page(struct web_request *wr);
/* The household page, for GET, and again with a refused action's form
 * (wr->failed_form set): answered 200, or 422 with the form's mistakes. */
void household_show(struct web_request *wr, long long household);
/* GET /task/ID: to the household page of the task, at the task. */
void task_page(struct web_request *wr);
