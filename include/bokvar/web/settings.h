/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The person's own settings (their language).
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /settings: the person's language; POST /settings: saves it. */
void settings_page(struct web_request *wr);
void settings_save(struct web_request *wr);
