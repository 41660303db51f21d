/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Session ids and CSRF tokens. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "bokvar/basic/util.h"
#include "bokvar/web/csrf.h"

static void base64url(const unsigned char *in, size_t n, char *out) {
        static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        size_t o = 0, i = 0;

        for (; i + 2 < n; i += 3) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];

                out[o++] = abc[v >> 18 & 63];
                out[o++] = abc[v >> 12 & 63];
                out[o++] = abc[v >> 6 & 63];
                out[o++] = abc[v & 63];
        }
        if (n - i == 2) {
                uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;

                out[o++] = abc[v >> 18 & 63];
                out[o++] = abc[v >> 12 & 63];
                out[o++] = abc[v >> 6 & 63];
        } else if (n - i == 1) {
                uint32_t v = (uint32_t) in[i] << 16;

                out[o++] = abc[v >> 18 & 63];
                out[o++] = abc[v >> 12 & 63];
        }
        out[o] = 0;
}

static int random_bytes(void *p, size_t n) {
        ssize_t k = getrandom(p, n, 0);

        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

int csrf_key_init(struct csrf_key *k, const void *secret, size_t size) {
        unsigned int len = 0;
        int r;

        *k = (struct csrf_key){};
        if (!secret)
                r = random_bytes(k->key, sizeof k->key);
        else
                r = EVP_Digest(secret, size, k->key, &len, EVP_sha256(), NULL) && len == sizeof k->key ? 0 : -EIO;
        if (r >= 0)
                r = hmac_sha256_key(k->key, sizeof k->key, &k->mac);
        if (r < 0)
                csrf_key_done(k);
        return r;
}

void csrf_key_done(struct csrf_key *k) {
        EVP_MAC_CTX_free(k->mac);
        explicit_bzero(k, sizeof *k);
}

int session_new(char ret[static CSRF_TOKEN_SIZE]) {
        unsigned char b[32];
        int r = random_bytes(b, sizeof b);

        if (r < 0)
                return r;
        base64url(b, sizeof b, ret);
        return 0;
}

bool session_valid(const char *s) {
        return s && strlen(s) == CSRF_TOKEN_SIZE - 1 &&
               strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == CSRF_TOKEN_SIZE - 1;
}

int session_cookie(const char *s, char **ret) {
        /* No Max-Age: the cookie lasts as long as the browser session, and
         * means nothing without the person the proxy signs on. */
        if (asprintf(ret, SESSION_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", s) < 0)
                return -ENOMEM;
        return 0;
}

void csrf_token(const struct csrf_key *k, const char *session, const char *login, char ret[static CSRF_TOKEN_SIZE]) {
        unsigned char mac[HMAC_SHA256_SIZE];

        /* session and login cannot contain NUL: it separates them. */
        if (!k->mac || hmac_sha256(k->mac,
                                   (const struct iovec[]){
                                           { .iov_base = (void *) session, .iov_len = strlen(session) },
                                           { .iov_base = (void *) "", .iov_len = 1 },
                                           { .iov_base = (void *) login, .iov_len = strlen(login) },
                                   },
                                   3, mac) < 0) {
                /* A token nothing matches: the form is refused, never accepted. */
                memset(ret, '!', CSRF_TOKEN_SIZE - 1);
                ret[CSRF_TOKEN_SIZE - 1] = 0;
        } else
                base64url(mac, sizeof mac, ret);
        explicit_bzero(mac, sizeof mac);
}

bool csrf_check(const struct csrf_key *k, const char *session, const char *login, const char *token) {
        char want[CSRF_TOKEN_SIZE];

        if (!session_valid(session) || !login || !token || strlen(token) != CSRF_TOKEN_SIZE - 1)
                return false;
        csrf_token(k, session, login, want);
        if (want[0] == '!')
                return false;
        return CRYPTO_memcmp(want, token, CSRF_TOKEN_SIZE - 1) == 0;
}
