/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Sessions and CSRF tokens. The session is only what ties a form to the
 * browser that was given it: who is signed on comes from the proxy on
 * every request. A session id is 32 random bytes in a cookie the page's
 * scripts cannot read and other sites do not send (__Host-, Secure,
 * HttpOnly, SameSite=Strict); each form carries
 * HMAC-SHA256(key, session id, login) and a POST is refused unless the
 * token matches the cookie and the person signed on now. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/hmac.h"

#define SESSION_COOKIE "__Host-bokvar"
/* Base64url of 32 bytes, without padding, and the NUL. */
#define CSRF_TOKEN_SIZE 44

struct csrf_key {
        unsigned char key[32];
        EVP_MAC_CTX *mac;         /* keyed with key once (basic/hmac.h); each token signed on a copy */
};

/* The key from a secret (a credential, hashed), or random when secret is
 * NULL: forms opened before a restart are then refused once, and sent again.
 * csrf_key_done() frees what it holds. */
int csrf_key_init(struct csrf_key *k, const void *secret, size_t size);
/* Wipes the key and frees its context; k is empty afterwards. */
void csrf_key_done(struct csrf_key *k);

/* A new session id. */
int session_new(char ret[static CSRF_TOKEN_SIZE]);
/* Whether s looks like a session id this server makes. */
bool session_valid(const char *s);
/* The Set-Cookie value for session id s. */
int session_cookie(const char *s, char **ret);

void csrf_token(const struct csrf_key *k, const char *session, const char *login, char ret[static CSRF_TOKEN_SIZE]);
/* Compared in constant time. */
bool csrf_check(const struct csrf_key *k, const char *session, const char *login, const char *token);
