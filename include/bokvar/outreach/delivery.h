/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What goes on the wire for an outbox row, and what an answer means: the
 * Standard Webhooks signature, the e-mail message, delivered/retry/dead. */
#pragma once

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bokvar/basic/util.h"

/* "v1," and base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), into out
 * (at least WEBHOOK_SIGNATURE_MAX bytes). */
#define WEBHOOK_SIGNATURE_MAX 64
int webhook_signature(const unsigned char *key, size_t key_size, const char *id, int64_t timestamp, const char *body,
                      size_t body_len, char out[static WEBHOOK_SIGNATURE_MAX]);

/* A plain text e-mail (RFC 5322, CRLF line ends): Message-ID
 * <event_id@domain of from>, so a resent event is recognisably the same. */
int mail_message(const char *from, const char *to, const char *subject, const char *event_id, const char *text,
                 time_t date, struct buf *out);

enum delivery_verdict {
        DELIVERY_OK,
        DELIVERY_RETRY,   /* try again later, with backoff */
        DELIVERY_DEAD,    /* trying again cannot help: a dead letter */
};

/* HTTP: 2xx delivered; 408, 429, 5xx, timeouts and connection errors
 * retry; other answers are dead letters. */
enum delivery_verdict delivery_verdict_http(CURLcode result, long status);
/* SMTP: accepted is delivered; a permanent (5xx) refusal of the message is
 * a dead letter, except refused logins, which an operator can fix. */
enum delivery_verdict delivery_verdict_smtp(CURLcode result, long code);
