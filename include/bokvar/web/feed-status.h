/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The feeds and the dead letters: for coordinators and operators.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /feeds: the feeds and the dead letters, for coordinators and
 * operators; POST /outbox/ID/retry and /outbox/retry (wr->id 0): a dead
 * letter, or all of them, sent again. */
void feeds_page(struct web_request *wr);
void outbox_retry_post(struct web_request *wr);
