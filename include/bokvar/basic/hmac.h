/* SPDX-License-Identifier: GPL-3.0-or-later */
/* HMAC-SHA256 with OpenSSL 3's EVP_MAC: a key is made into a keyed context
 * once, and each message is signed on a copy of it. OpenSSL's one-shot
 * HMAC() looks the MAC and the digest up by name, under its locks, on
 * every call; a keyed context has done that, and the key's inner and outer
 * pads, already. */
#pragma once

#include <openssl/evp.h>
#include <stddef.h>
#include <sys/uio.h>

#include "bokvar/basic/macro.h"

#define HMAC_SHA256_SIZE 32

/* A context keyed with key (size bytes) for HMAC-SHA256; the caller frees it
 * with EVP_MAC_CTX_free(). It holds its own copy of the key. -ENOMEM, or
 * -EIO when libcrypto refuses. */
int hmac_sha256_key(const void *key, size_t size, EVP_MAC_CTX **ret);

/* HMAC-SHA256 of the concatenation of the n parts, under keyed's key. keyed
 * is not changed (a copy signs), so one keyed context serves every message;
 * not from two threads at once, as no libcrypto object is. -ENOMEM, -EIO. */
int hmac_sha256(const EVP_MAC_CTX *keyed, const struct iovec *parts, size_t n, unsigned char ret[static HMAC_SHA256_SIZE]);

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MAC_CTX *, EVP_MAC_CTX_free);
