/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The dispatcher: sends the outbox to the channels. It listens for
 * bokvar_outbox notifications on a connection of its own, claims due rows
 * under a lease (FOR UPDATE SKIP LOCKED, so several daemons share one
 * outbox), sends them concurrently through libcurl's multi interface,
 * and records each outcome with the next claim, in one round trip. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/config/config.h"

struct dispatcher;

struct dispatch_stats {
        uint64_t delivered, retried, dead;
};

/* With drain: called once nothing is due, nothing is in flight and every
 * outcome is recorded (bokvard --once). ok when no database error
 * stopped it. */
typedef void (*dispatch_drained_fn)(bool ok, const struct dispatch_stats *stats, void *userdata);
typedef void (*dispatch_stopped_fn)(void *userdata);

int dispatcher_new(sd_event *event, struct curl_glue *glue, struct config *config, struct dispatcher **ret);
struct dispatcher *dispatcher_free(struct dispatcher *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct dispatcher *, dispatcher_free);

/* Starts listening and sending, for good. */
int dispatcher_start(struct dispatcher *d);
/* Sends what is due now, then calls done (no listening, no timers). */
int dispatcher_drain(struct dispatcher *d, dispatch_drained_fn done, void *userdata);
/* Stops claiming and gives back the rows claimed but not sent; waits a
 * little for the sends in flight; records every outcome; then calls done.
 * What cannot be recorded goes out again when its lease ends. */
void dispatcher_stop(struct dispatcher *d, dispatch_stopped_fn done, void *userdata);
/* New channels and settings; deliveries in flight finish with the old. */
void dispatcher_reconfigure(struct dispatcher *d, struct config *config);
