/* SPDX-License-Identifier: GPL-3.0-or-later */
/* HMAC-SHA256 on keyed EVP_MAC contexts. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

#include "bokvar/basic/hmac.h"

int hmac_sha256_key(const void *key, size_t size, EVP_MAC_CTX **ret) {
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx;

        if (!mac)
                return -EIO;
        /* The context holds a reference on the MAC of its own. */
        ctx = EVP_MAC_CTX_new(mac);
        EVP_MAC_free(mac);
        if (!ctx)
                return -ENOMEM;
        if (!EVP_MAC_init(ctx, key, size, params) || EVP_MAC_CTX_get_mac_size(ctx) != HMAC_SHA256_SIZE) {
                EVP_MAC_CTX_free(ctx);
                return -EIO;
        }
        *ret = ctx;
        return 0;
}

int hmac_sha256(const EVP_MAC_CTX *keyed, const struct iovec *parts, size_t n, unsigned char ret[static HMAC_SHA256_SIZE]) {
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *ctx = NULL;
        size_t len = 0;

        /* A copy of the keyed context starts a new message with the key's
         * pads already hashed. */
        ctx = EVP_MAC_CTX_dup(keyed);
        if (!ctx)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!EVP_MAC_update(ctx, parts[i].iov_base, parts[i].iov_len))
                        return -EIO;
        if (!EVP_MAC_final(ctx, ret, &len, HMAC_SHA256_SIZE) || len != HMAC_SHA256_SIZE)
                return -EIO;
        return 0;
}
