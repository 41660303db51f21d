/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libcurl's multi socket interface on sd-event: one I/O source per socket
 * libcurl asks about, one one-shot timer for its timeouts. Transfers run in
 * parallel, and one slow transfer never holds up the others. */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/duration.h"
#include "bokvar/basic/macro.h"

struct curl_glue;

/* Called once a transfer is complete; result is CURLE_OK or why it failed.
 * The handle has been removed from the multi handle by then. */
typedef void (*curl_glue_done_fn)(CURL *easy, CURLcode result, void *userdata);

/* A new easy handle for url with what every bokvar transfer has: TLS peers
 * and host names verified (against ca_file, when not NULL, else the system's
 * CAs), the total and the connect timeout, no signals, bokvar's user agent.
 * -EINVAL when libcurl refuses the URL. */
int curl_glue_easy_new(const char *url, usec_t timeout, usec_t connect_timeout, const char *ca_file, CURL **ret);

/* The same from g's pool of handles given back, or new when the pool is
 * empty. A handle from the pool has nothing of its last transfer: every
 * option but those above is libcurl's default again. */
int curl_glue_easy_get(struct curl_glue *g, const char *url, usec_t timeout, usec_t connect_timeout,
                       const char *ca_file, CURL **ret);
/* Gives a handle back to g's pool (or frees it, when the pool is full).
 * It must not be in a transfer (curl_glue_remove() first), and what it
 * pointed into (header lists, bodies, error buffers) may be freed after. */
void curl_glue_easy_put(struct curl_glue *g, CURL *easy);

int curl_glue_new(sd_event *event, struct curl_glue **ret);
struct curl_glue *curl_glue_free(struct curl_glue *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_glue *, curl_glue_free);

/* Keeps up to n idle connections open for reuse (at least libcurl's
 * default of 4 per transfer running, which closes connections whenever
 * fewer transfers run for a moment and opens them again after), and as
 * many easy handles in the pool. */
void curl_glue_keep_connections(struct curl_glue *g, size_t n);

/* Starts a transfer. The easy handle's CURLOPT_PRIVATE is taken for the
 * callback; done is called from the event loop, never from inside this call. */
int curl_glue_add(struct curl_glue *g, CURL *easy, curl_glue_done_fn done, void *userdata);
/* Stops a transfer without calling done (the handle stays the caller's). */
void curl_glue_remove(struct curl_glue *g, CURL *easy);
