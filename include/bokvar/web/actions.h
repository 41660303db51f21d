/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A caseworker's and a coordinator's actions on a task or a household.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

#include <stdbool.h>

struct web_request;

/* POST /task/ID/ACTION and /household/ID/children: a caseworker's action. */
void action_post(struct web_request *wr);
/* Whether ACTION names one (ack, contact, follow-up, reassign, close). */
bool action_known(const char *action);
