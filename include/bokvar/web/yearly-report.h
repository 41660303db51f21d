/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The yearly report with its charts: for coordinators and auditors.
 * Called by the router (router.c) once the request's person, session and
 * CSRF token are known; each answers the request (web_respond and
 * friends), at once or from its database callback, exactly once. */
#pragma once

struct web_request;

/* GET /report?year=Y: the yearly report with its charts, for coordinators
 * and auditors; GET /report.csv?year=Y: its figures as CSV. */
void report_page(struct web_request *wr);
void report_csv(struct web_request *wr);
