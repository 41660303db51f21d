/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The worklist: a caseworker's tasks and their team's, in the one order.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /: the worklist. */
void worklist_page(struct web_request *wr);
