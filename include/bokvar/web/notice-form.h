/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A notice that came by letter or e-mail, registered by hand.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /notice: the form for a notice that came by letter or e-mail. */
void notice_page(struct web_request *wr);
/* POST /notice: registers it, or shows the form again with what is wrong. */
void notice_register(struct web_request *wr);
