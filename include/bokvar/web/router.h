/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The server's handler for every request from a trusted peer: the
 * stylesheet, or who signed on, their session, CSRF token and language,
 * and then the page the method and path name (or 401, 403, 404, 405). */
#pragma once

struct request;

/* userdata: the struct web (web.h) the pages share. */
void router_handle(struct request *rq, void *userdata);
