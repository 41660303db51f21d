/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Signing webhooks, writing e-mails, judging answers; one send of one
 * outbox row through libcurl. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bokvar/outreach/delivery.h"

#define ANSWER_KEEP 200   /* bytes of a refusal kept for the operator */

int webhook_signature(const EVP_MAC_CTX *keyed, const char *id, int64_t timestamp, const char *body, size_t body_len,
                      char out[static WEBHOOK_SIGNATURE_MAX]) {
        unsigned char mac[HMAC_SHA256_SIZE];
        char ts[32];
        int n, r;

        n = snprintf(ts, sizeof ts, ".%" PRId64 ".", timestamp);
        assert(n > 0 && (size_t) n < sizeof ts);
        /* The message is signed in its pieces, as it is: no copy of it. */
        r = hmac_sha256(keyed,
                        (const struct iovec[]){
                                { .iov_base = (void *) id, .iov_len = strlen(id) },
                                { .iov_base = ts, .iov_len = (size_t) n },
                                { .iov_base = (void *) body, .iov_len = body_len },
                        },
                        3, mac);
        if (r >= 0) {
                /* 32 bytes are 44 characters of base64. */
                memcpy(out, "v1,", 3);
                if (EVP_EncodeBlock((unsigned char *) out + 3, mac, sizeof mac) != 44)
                        r = -EIO;
        }
        explicit_bzero(mac, sizeof mac);
        return r;
}

/* Lines end in CRLF on the wire, whatever the text has. */
static int put_crlf_text(struct buf *out, const char *text) {
        for (const char *p = text; *p; p++) {
                if (*p == '\r')
                        continue;
                if (*p == '\n' ? buf_puts(out, "\r\n") < 0 : buf_putc(out, *p) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A header's text: as it is when it is ASCII, else as RFC 2047
 * encoded-words (UTF-8, base64), each at most 75 characters and whole
 * characters, on lines folded with a space. */
static int put_header_text(struct buf *out, const char *s) {
        size_t n = strlen(s), at = 0;
        bool ascii = true;

        for (size_t i = 0; i < n; i++)
                ascii = ascii && (unsigned char) s[i] < 0x80;
        if (ascii)
                return buf_puts(out, s);
        while (at < n) {
                /* 45 bytes are 60 characters of base64, 72 with "=?UTF-8?B?" and "?=". */
                size_t chunk = MIN((size_t) 45, n - at);
                unsigned char b64[64];

                while (at + chunk < n && ((unsigned char) s[at + chunk] & 0xc0) == 0x80)
                        chunk--;
                if (EVP_EncodeBlock(b64, (const unsigned char *) s + at, (int) chunk) <= 0)
                        return -EINVAL;
                if (buf_printf(out, "%s=?UTF-8?B?%s?=", at > 0 ? "\r\n " : "", (const char *) b64) < 0)
                        return -ENOMEM;
                at += chunk;
        }
        return 0;
}

int mail_message(const char *from, const char *to, const char *subject, const char *event_id, const char *text,
                 time_t date, struct buf *out) {
        const char *domain = strrchr(from, '@');
        char when[64];
        struct tm tm;

        if (!gmtime_r(&date, &tm) || strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
                return -EINVAL;
        /* Header values come from the configuration and from the database's
         * own words; none may break the header. */
        if (strpbrk(from, "\r\n") || strpbrk(to, "\r\n") || strpbrk(subject, "\r\n") || strpbrk(event_id, "\r\n<>@"))
                return -EINVAL;
        if (buf_printf(out,
                       "From: bokvar <%s>\r\n"
                       "To: <%s>\r\n"
                       "Subject: ",
                       from, to) < 0 ||
            put_header_text(out, subject) < 0 ||
            buf_printf(out,
                       "\r\n"
                       "Date: %s\r\n"
                       "Message-ID: <%s@%s>\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n"
                       "Auto-Submitted: auto-generated\r\n"
                       "\r\n",
                       when, event_id, domain ? domain + 1 : "bokvar.invalid") < 0 ||
            put_crlf_text(out, text) < 0 || buf_puts(out, "\r\n") < 0)
                return -ENOMEM;
        return 0;
}

enum delivery_verdict delivery_verdict_http(CURLcode result, long status) {
        switch (result) {
        case CURLE_OK:
                break;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
                return DELIVERY_DEAD;
        default:
                /* Timeouts, refused and reset connections, TLS trouble: the
                 * receiver may be back later. */
                return DELIVERY_RETRY;
        }
        if (status >= 200 && status < 300)
                return DELIVERY_OK;
        if (status == 408 || status == 429 || (status >= 500 && status < 600))
                return DELIVERY_RETRY;
        return DELIVERY_DEAD;
}

enum delivery_verdict delivery_verdict_smtp(CURLcode result, long code) {
        if (result == CURLE_OK)
                return DELIVERY_OK;
        if (result == CURLE_LOGIN_DENIED || code == 530 || code == 534 || code == 535)
                return DELIVERY_RETRY;
        if (result == CURLE_UNSUPPORTED_PROTOCOL || result == CURLE_URL_MALFORMAT)
                return DELIVERY_DEAD;
        if (code >= 500 && code < 600)
                return DELIVERY_DEAD;
        return DELIVERY_RETRY;
}

struct delivery {
        struct config *config;           /* holds the channel */
        const struct channel_config *channel;
        int64_t id;
        int attempt;
        char *event_id;
        CURL *easy;
        /* What the easy handle points into: freed after it. */
        struct curl_slist *headers, *rcpt;
        struct buf body;                 /* the JSON, or the whole e-mail */
        size_t sent;
        struct buf answer;
        char error[CURL_ERROR_SIZE];
        struct curl_glue *glue;          /* the easy handle's pool */
        /* While in flight: */
        bool started;
        delivery_done_fn done;
        void *userdata;
};

struct delivery *delivery_free(struct delivery *dl) {
        if (!dl)
                return NULL;
        /* Out of the multi handle first: libcurl must not touch the handle,
         * or what it points into, once they are freed. */
        if (dl->started)
                curl_glue_remove(dl->glue, dl->easy);
        curl_glue_easy_put(dl->glue, dl->easy);
        curl_slist_free_all(dl->headers);
        curl_slist_free_all(dl->rcpt);
        config_unref(dl->config);
        free(dl->event_id);
        buf_free(&dl->body);
        buf_free(&dl->answer);
        return mfree(dl);
}

static size_t on_answer(char *p, size_t size, size_t n, void *userdata) {
        struct delivery *dl = userdata;
        size_t len = size * n;

        if (dl->answer.len < ANSWER_KEEP)
                (void) buf_put(&dl->answer, p, MIN(len, ANSWER_KEEP - dl->answer.len));
        return len;
}

static size_t on_upload(char *p, size_t size, size_t n, void *userdata) {
        struct delivery *dl = userdata;
        size_t len = MIN(size * n, dl->body.len - dl->sent);

        memcpy(p, dl->body.data + dl->sent, len);
        dl->sent += len;
        return len;
}

static int add_header(struct curl_slist **l, const char *line) {
        struct curl_slist *n = curl_slist_append(*l, line);

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

static int setup_webhook(struct delivery *dl) {
        const struct channel_config *ch = dl->channel;
        char sig[WEBHOOK_SIGNATURE_MAX], line[WEBHOOK_SIGNATURE_MAX + 64];
        int64_t ts = (int64_t) time(NULL);
        CURL *e = dl->easy;
        int r;

        if (!ch->signer)
                return -ENOKEY;
        /* Signed now, with the time of this attempt: receivers refuse old
         * timestamps, and the key never leaves this process. */
        r = webhook_signature(ch->signer, dl->event_id, ts, dl->body.data, dl->body.len, sig);
        if (r < 0)
                return r;
        (void) snprintf(line, sizeof line, "webhook-id: %s", dl->event_id);
        r = add_header(&dl->headers, line);
        (void) snprintf(line, sizeof line, "webhook-timestamp: %" PRId64, ts);
        r = r < 0 ? r : add_header(&dl->headers, line);
        (void) snprintf(line, sizeof line, "webhook-signature: %s", sig);
        r = r < 0 ? r : add_header(&dl->headers, line);
        r = r < 0 ? r : add_header(&dl->headers, "Content-Type: application/json");
        /* Neither libcurl's "Expect: 100-continue" (a round trip before a
         * large body) nor its Accept of any type (what no Accept means
         * anyway): a receiver parses every header of every event. */
        r = r < 0 ? r : add_header(&dl->headers, "Expect:");
        r = r < 0 ? r : add_header(&dl->headers, "Accept:");
        explicit_bzero(sig, sizeof sig);
        explicit_bzero(line, sizeof line);
        if (r < 0)
                return r;
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, ch->plain_http ? "http" : "https");
        (void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, dl->headers);
        (void) curl_easy_setopt(e, CURLOPT_POSTFIELDS, dl->body.data);
        (void) curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) dl->body.len);
        (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_answer);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, dl);
        return 0;
}

static int setup_smtp(struct delivery *dl, const char *recipient, const char *subject, const char *text) {
        const struct channel_config *ch = dl->channel;
        CURL *e = dl->easy;
        char addr[512];
        int r;

        r = mail_message(ch->from, recipient, subject, dl->event_id, text, time(NULL), &dl->body);
        if (r < 0)
                return r;
        (void) snprintf(addr, sizeof addr, "<%s>", recipient);
        r = add_header(&dl->rcpt, addr);
        if (r < 0)
                return r;
        (void) snprintf(addr, sizeof addr, "<%s>", ch->from);
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        /* TLS from the start (smtps://) or by STARTTLS; never in the clear. */
        (void) curl_easy_setopt(e, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
        (void) curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr);
        (void) curl_easy_setopt(e, CURLOPT_MAIL_RCPT, dl->rcpt);
        (void) curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        (void) curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
        (void) curl_easy_setopt(e, CURLOPT_READDATA, dl);
        (void) curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) dl->body.len);
        if (ch->username.value) {
                (void) curl_easy_setopt(e, CURLOPT_USERNAME, ch->username.value);
                (void) curl_easy_setopt(e, CURLOPT_PASSWORD, ch->password.value);
        }
        return 0;
}

int delivery_new(struct curl_glue *glue, struct config *config, const struct channel_config *ch,
                 const struct delivery_request *req, struct delivery **ret) {
        _cleanup_(delivery_freep) struct delivery *dl = NULL;
        int r;

        dl = calloc(1, sizeof *dl);
        if (!dl)
                return -ENOMEM;
        dl->glue = glue;
        dl->config = config_ref(config);
        dl->channel = ch;
        dl->id = req->outbox_id;
        dl->attempt = req->attempt;
        dl->event_id = strdup(req->event_id);
        if (!dl->event_id)
                return -ENOMEM;
        r = curl_glue_easy_get(glue, ch->url, ch->timeout, MIN(ch->timeout, 10 * USEC_PER_SEC), ch->ca_file,
                               &dl->easy);
        if (r < 0)
                return r;
        (void) curl_easy_setopt(dl->easy, CURLOPT_ERRORBUFFER, dl->error);
        if (ch->type == CHANNEL_WEBHOOK) {
                /* The payload as the database wrote it: these bytes are signed. */
                if (buf_put(&dl->body, req->body, req->body_len) < 0)
                        return -ENOMEM;
                r = setup_webhook(dl);
        } else
                r = setup_smtp(dl, req->recipient, req->subject, req->body);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(dl);
        return 0;
}

static void on_done(CURL *easy, CURLcode result, void *userdata);

int delivery_start(struct delivery *dl, delivery_done_fn done, void *userdata) {
        int r;

        dl->done = done;
        dl->userdata = userdata;
        r = curl_glue_add(dl->glue, dl->easy, on_done, dl);
        if (r < 0)
                return r;
        dl->started = true;
        return 0;
}

/* Printable ASCII only: an answer or error goes into JSON and the journal. */
static void sanitize(char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        *s = ' ';
}

static void on_done(CURL *easy, CURLcode result, void *userdata) {
        struct delivery *dl = userdata;
        bool smtp = dl->channel->type == CHANNEL_SMTP;
        char error[CURL_ERROR_SIZE + ANSWER_KEEP + 64];
        enum delivery_verdict v;
        curl_off_t retry_after = 0;
        long status = 0;
        size_t l;

        /* curl_glue took the handle out of the multi handle already. */
        dl->started = false;
        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        v = smtp ? delivery_verdict_smtp(result, status) : delivery_verdict_http(result, status);
        if (v == DELIVERY_OK)
                error[0] = 0;
        else if (result != CURLE_OK)
                (void) snprintf(error, sizeof error, "%s", dl->error[0] ? dl->error : curl_easy_strerror(result));
        else
                (void) snprintf(error, sizeof error, "HTTP %ld%s%.*s", status, dl->answer.len ? ": " : "",
                                (int) MIN(dl->answer.len, (size_t) ANSWER_KEEP), dl->answer.data ? dl->answer.data : "");
        sanitize(error);
        /* The last attempt allowed: the database makes it a dead letter. */
        if (v == DELIVERY_RETRY && dl->attempt >= (int) dl->config->outreach.max_attempts) {
                v = DELIVERY_DEAD;
                l = strlen(error);
                (void) snprintf(error + l, sizeof error - l, " (attempt %d of %u)", dl->attempt,
                                dl->config->outreach.max_attempts);
        }
        if (v == DELIVERY_RETRY && curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
                retry_after = 0;
        /* done may free the delivery: nothing here touches it afterwards. */
        dl->done(dl,
                 &(const struct delivery_outcome){
                         .outbox_id = dl->id,
                         .event_id = dl->event_id,
                         .channel = dl->channel->name,
                         .verdict = v,
                         .status = status,
                         .retry_after = (long) MIN(retry_after, (curl_off_t) 86400),
                         .error = v == DELIVERY_OK ? NULL : error,
                 },
                 dl->userdata);
}
