/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every team's open tasks, and a task handed over to another team: for coordinators.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /teams: every team's open tasks, for coordinators. */
void teams_page(struct web_request *wr);
/* GET /task/ID/hand-over: the task's facts and the form to hand it over
 * to another team (POSTed to action_post); shown again with a refused
 * form's mistakes (wr->failed_form "hand-over"). */
void hand_over_page(struct web_request *wr);
