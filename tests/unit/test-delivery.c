/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What goes on the wire: the Standard Webhooks signature against the
 * convention's published example, the e-mail's headers, and which answers
 * are delivered, retried or dead. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/outreach/delivery.h"

static void test_signature_matches_the_convention(void **state) {
        /* whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, decoded. */
        static const unsigned char key[] = { 0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f, 0x08, 0xd4,
                                             0x3c, 0x3f, 0x08, 0x2c, 0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0 };
        static const char body[] = "{\"test\": 2432232314}";
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *keyed = NULL;
        char sig[WEBHOOK_SIGNATURE_MAX];

        (void) state;
        assert_int_equal(hmac_sha256_key(key, sizeof key, &keyed), 0);
        assert_int_equal(webhook_signature(keyed, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                           strlen(body), sig),
                         0);
        assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        /* Any change of id, time or body changes it. */
        assert_int_equal(webhook_signature(keyed, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body,
                                           strlen(body), sig),
                         0);
        assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        /* The keyed context is left as it was: the first message again. */
        assert_int_equal(webhook_signature(keyed, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig),
                         0);
        assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_mail_message(void **state) {
        struct buf m = {};

        (void) state;
        assert_int_equal(mail_message("bokvar@kommun.example", "norr@kommun.example", "bokvar: task 7 opened",
                                      "evt_0123", "Line one\n.dot line\n", 0, &m),
                         0);
        assert_string_equal(m.data, "From: bokvar <bokvar@kommun.example>\r\n"
                                    "To: <norr@kommun.example>\r\n"
                                    "Subject: bokvar: task 7 opened\r\n"
                                    "Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"
                                    "Message-ID: <evt_0123@kommun.example>\r\n"
                                    "MIME-Version: 1.0\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Transfer-Encoding: 8bit\r\n"
                                    "Auto-Submitted: auto-generated\r\n"
                                    "\r\n"
                                    "Line one\r\n"
                                    ".dot line\r\n"
                                    "\r\n");
        buf_free(&m);
        /* Nothing can add a header. */
        assert_int_equal(mail_message("a@b.example", "c@d.example", "x\r\nBcc: e@f.example", "evt_1", "", 0, &m),
                         -EINVAL);
        assert_int_equal(mail_message("a@b.example", "c@d.example\nBcc: e@f.example", "x", "evt_1", "", 0, &m),
                         -EINVAL);
        assert_int_equal(mail_message("a@b.example", "c@d.example", "x", "evt>1", "", 0, &m), -EINVAL);
        buf_free(&m);

        /* A subject in Swedish or Norwegian: RFC 2047 encoded-words of whole
         * characters, folded, none longer than 75. */
        assert_int_equal(mail_message("a@b.example", "c@d.example",
                                      "bokvar: uppgift 7 öppnad (Akut, team norr) – Åsa Öberg Ånge Ödeshög Älmhult",
                                      "evt_1", "", 0, &m),
                         0);
        assert_non_null(strstr(m.data, "Subject: =?UTF-8?B?Ym9rdmFyOiB1cHBnaWZ0IDcgw7ZwcG5hZCAoQWt1dCwgdGVhbSBub3JyKSA=?=\r\n"
                                       " =?UTF-8?B?4oCTIMOFc2Egw5ZiZXJnIMOFbmdlIMOWZGVzaMO2ZyDDhGxtaHVsdA==?=\r\n"
                                       "Date: "));
        buf_free(&m);
}

static void test_http_verdicts(void **state) {
        (void) state;
        assert_int_equal(delivery_verdict_http(CURLE_OK, 200), DELIVERY_OK);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 204), DELIVERY_OK);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 408), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 429), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 500), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 503), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 400), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 401), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 404), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 410), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_http(CURLE_OK, 301), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_http(CURLE_COULDNT_CONNECT, 0), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_OPERATION_TIMEDOUT, 0), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_PEER_FAILED_VERIFICATION, 0), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_http(CURLE_UNSUPPORTED_PROTOCOL, 0), DELIVERY_DEAD);
}

static void test_smtp_verdicts(void **state) {
        (void) state;
        assert_int_equal(delivery_verdict_smtp(CURLE_OK, 250), DELIVERY_OK);
        assert_int_equal(delivery_verdict_smtp(CURLE_WEIRD_SERVER_REPLY, 451), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_smtp(CURLE_SEND_ERROR, 550), DELIVERY_DEAD);
        assert_int_equal(delivery_verdict_smtp(CURLE_LOGIN_DENIED, 535), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_smtp(CURLE_USE_SSL_FAILED, 0), DELIVERY_RETRY);
        assert_int_equal(delivery_verdict_smtp(CURLE_COULDNT_CONNECT, 0), DELIVERY_RETRY);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_signature_matches_the_convention),
                cmocka_unit_test(test_mail_message),
                cmocka_unit_test(test_http_verdicts),
                cmocka_unit_test(test_smtp_verdicts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
