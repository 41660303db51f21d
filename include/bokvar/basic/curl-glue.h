/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libcurl's multi socket interface on sd-event: one I/O source per socket
 * libcurl asks about, one one-shot timer for its timeouts. Transfers run in
 * parallel, and one slow transfer never holds up the others. */
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/macro.h"

struct curl_glue;

/* Called once a transfer is complete; result is CURLE_OK or why it failed.
 * The handle has been removed from the multi handle by then. */
typedef void (*curl_glue_done_fn)(CURL *easy, CURLcode result, void *userdata);

int curl_glue_new(sd_event *event, struct curl_glue **ret);
struct curl_glue *curl_glue_free(struct curl_glue *g);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct curl_glue *, curl_glue_free);

/* Starts a transfer. The easy handle's CURLOPT_PRIVATE is taken for the
 * callback; done is called from the event loop, never from inside this call. */
int curl_glue_add(struct curl_glue *g, CURL *easy, curl_glue_done_fn done, void *userdata);
/* Stops a transfer without calling done (the handle stays the caller's). */
void curl_glue_remove(struct curl_glue *g, CURL *easy);
