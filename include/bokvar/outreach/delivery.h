/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What goes on the wire for an outbox row, and what an answer means: the
 * Standard Webhooks signature, the e-mail message, delivered/retry/dead;
 * and struct delivery, one send of one row through libcurl. */
#pragma once

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bokvar/basic/curl-glue.h"
#include "bokvar/basic/hmac.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/config.h"

/* "v1," and base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")), into out
 * (at least WEBHOOK_SIGNATURE_MAX bytes); keyed is the channel's key made
 * by hmac_sha256_key() (struct channel_config's signer), left unchanged. */
#define WEBHOOK_SIGNATURE_MAX 64
int webhook_signature(const EVP_MAC_CTX *keyed, const char *id, int64_t timestamp, const char *body, size_t body_len,
                      char out[static WEBHOOK_SIGNATURE_MAX]);

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

/* One send of one claimed outbox row on one channel.
 *
 * What it owns: the libcurl easy handle (taken from glue's pool, and given
 * back, reset, by delivery_free()) and everything the handle points
 * into (the header and recipient lists, the body, the error buffer, the
 * answer kept for the operator), and a reference on the configuration the
 * channel belongs to, so that a reload during the send frees nothing it
 * uses. It takes nothing from its caller: what delivery_new() is given is
 * copied.
 *
 * What its caller may rely on: everything here runs on the event loop's
 * thread. done is called from the event loop (from curl_glue), never from
 * inside delivery_start(), and at most once; by then the transfer is over
 * and done may free the delivery. delivery_free() on a delivery in flight
 * stops the transfer first, and done is then never called; so the glue a
 * delivery was made on must outlive it. */
struct delivery;

/* A claimed outbox row, as far as a send needs it; borrowed. */
struct delivery_request {
        int64_t outbox_id;
        int attempt;                  /* this one, counted from 1 */
        const char *event_id;         /* webhook-id; the Message-ID's local part */
        const char *body;             /* webhook: the payload as the database wrote it (these
                                       * bytes are signed); SMTP: the mail's text */
        size_t body_len;
        const char *recipient;        /* SMTP only */
        const char *subject;          /* SMTP only */
};

/* What a send came to. Pointers are valid during the done callback only. */
struct delivery_outcome {
        int64_t outbox_id;
        const char *event_id;
        const char *channel;          /* the channel's name */
        enum delivery_verdict verdict;
        long status;                  /* HTTP status or SMTP reply code; 0 without an answer */
        long retry_after;             /* seconds the receiver asked to wait (retries only; at most a day) */
        const char *error;            /* why it was not delivered, printable ASCII; NULL when delivered */
};

typedef void (*delivery_done_fn)(struct delivery *dl, const struct delivery_outcome *outcome, void *userdata);

/* Writes the request for channel ch (one of config's), to be sent on glue:
 * a webhook is signed now,
 * with this attempt's time; an e-mail is written now, with this date.
 * -ENOKEY: the channel's webhook key is not loaded; -EINVAL: the request
 * cannot be written (the URL, or a header value); -ENOMEM; -EIO. */
int delivery_new(struct curl_glue *glue, struct config *config, const struct channel_config *ch,
                 const struct delivery_request *req, struct delivery **ret);
/* Starts the transfer on delivery_new()'s glue; done tells how it ended. The verdict is
 * delivery_verdict_http() or _smtp()'s, except that a retry on the last
 * attempt allowed (tasks.max_attempts) is dead, as the database records it.
 * Nothing is in flight when this fails. */
int delivery_start(struct delivery *dl, delivery_done_fn done, void *userdata);
struct delivery *delivery_free(struct delivery *dl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct delivery *, delivery_free);
