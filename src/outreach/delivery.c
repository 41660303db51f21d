/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Signing webhooks, writing e-mails, judging answers. */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>

#include "bokvar/outreach/delivery.h"

int webhook_signature(const unsigned char *key, size_t key_size, const char *id, int64_t timestamp, const char *body,
                      size_t body_len, char out[static WEBHOOK_SIGNATURE_MAX]) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        struct buf msg = {};
        int r = -ENOMEM;

        if (buf_printf(&msg, "%s.%" PRId64 ".", id, timestamp) < 0 || buf_put(&msg, body, body_len) < 0)
                goto out;
        r = -EIO;
        if (!HMAC(EVP_sha256(), key, (int) key_size, (const unsigned char *) msg.data, msg.len, mac, &mac_len) ||
            mac_len != 32)
                goto out;
        /* 32 bytes are 44 characters of base64. */
        memcpy(out, "v1,", 3);
        if (EVP_EncodeBlock((unsigned char *) out + 3, mac, (int) mac_len) != 44)
                goto out;
        r = 0;
out:
        if (msg.data)
                explicit_bzero(msg.data, msg.cap);
        buf_free(&msg);
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
                       "Subject: %s\r\n"
                       "Date: %s\r\n"
                       "Message-ID: <%s@%s>\r\n"
                       "MIME-Version: 1.0\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: 8bit\r\n"
                       "Auto-Submitted: auto-generated\r\n"
                       "\r\n",
                       from, to, subject, when, event_id, domain ? domain + 1 : "bokvar.invalid") < 0 ||
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
