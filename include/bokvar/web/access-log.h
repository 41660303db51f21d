/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The access log searched, and the purge records: for auditors.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /access-log: the access log searched, and the purge records, for
 * auditors; GET /access-log.csv: the search's reads as CSV. */
void access_log_page(struct web_request *wr);
void access_log_csv(struct web_request *wr);
