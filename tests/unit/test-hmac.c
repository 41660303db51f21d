/* SPDX-License-Identifier: GPL-3.0-or-later */
/* HMAC-SHA256 on keyed contexts against RFC 4231's test vectors: the
 * message whole or in pieces, a key longer than a block, and the keyed
 * context unchanged by signing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/hmac.h"

/* RFC 4231, test case 2. */
static const unsigned char jefe_mac[HMAC_SHA256_SIZE] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7,
        0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43,
};

static void test_pieces(void **state) {
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *keyed = NULL;
        unsigned char mac[HMAC_SHA256_SIZE];

        (void) state;
        assert_int_equal(hmac_sha256_key("Jefe", 4, &keyed), 0);
        assert_int_equal(hmac_sha256(keyed,
                                     (const struct iovec[]){
                                             { .iov_base = (void *) "what do ya want for nothing?", .iov_len = 28 } },
                                     1, mac),
                         0);
        assert_memory_equal(mac, jefe_mac, sizeof mac);
        /* In pieces, one of them empty, on the same keyed context. */
        memset(mac, 0, sizeof mac);
        assert_int_equal(hmac_sha256(keyed,
                                     (const struct iovec[]){
                                             { .iov_base = (void *) "what do ya", .iov_len = 10 },
                                             { .iov_base = (void *) "", .iov_len = 0 },
                                             { .iov_base = (void *) " want for nothing?", .iov_len = 18 },
                                     },
                                     3, mac),
                         0);
        assert_memory_equal(mac, jefe_mac, sizeof mac);
}

/* RFC 4231, test case 6: a key of 131 bytes, hashed first. */
static void test_long_key(void **state) {
        static const unsigned char want[HMAC_SHA256_SIZE] = {
                0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa, 0xcb, 0xf5, 0xb7, 0x7f,
                0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3, 0x7f, 0x54,
        };
        static const char msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";
        _cleanup_(EVP_MAC_CTX_freep) EVP_MAC_CTX *keyed = NULL;
        unsigned char key[131], mac[HMAC_SHA256_SIZE];

        (void) state;
        memset(key, 0xaa, sizeof key);
        assert_int_equal(hmac_sha256_key(key, sizeof key, &keyed), 0);
        assert_int_equal(hmac_sha256(keyed, (const struct iovec[]){ { .iov_base = (void *) msg, .iov_len = strlen(msg) } },
                                     1, mac),
                         0);
        assert_memory_equal(mac, want, sizeof mac);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pieces),
                cmocka_unit_test(test_long_key),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
