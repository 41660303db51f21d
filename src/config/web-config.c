/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading the web: block. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/util.h"
#include "bokvar/config/config-flags.h"
#include "bokvar/config/web-config.h"

void web_config_init(struct web_config *w) {
        *w = (struct web_config){
                .idle_exit = 10 * USEC_PER_MINUTE,
                .connections = 4,
        };
}

void web_config_done(struct web_config *w) {
        free(w->database);
        secret_done(&w->database_password);
        free(w->identity_header);
        strv_free(w->trusted_users);
        secret_done(&w->key);
        web_config_init(w);
}

/* An HTTP field name (RFC 9110 token), as the proxy's RequestHeader sets it. */
static int parse_header_name(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *v;

        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        v = n->value;
        if (!v[0] || strlen(v) > 64 ||
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
                return y_error(r, n, "'%s' is not a header name (letters, digits and '-', e.g. X-Remote-User)", v);
        return 0;
}

static int parse_users(const struct yreader *r, const struct ynode *n, void *dest) {
        char ***l = dest;

        if (y_string_list(r, n, dest) < 0)
                return -EINVAL;
        for (char **u = *l; u && *u; u++)
                if (!**u || strlen(*u) > 32 ||
                    strspn(*u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != strlen(*u))
                        return y_error(r, n, "'%s' is not a user name", *u);
        return 0;
}

static int parse_connections(const struct yreader *r, const struct ynode *n, void *dest) {
        int64_t v;

        if (y_int64(r, n, 1, 64, &v) < 0)
                return -EINVAL;
        *(unsigned *) dest = (unsigned) v;
        return 0;
}

static const struct yfield web_fields[] = {
        { "database", y_string, offsetof(struct web_config, database), false },
        { "database_password_credential", y_secret_name, offsetof(struct web_config, database_password), false },
        { "identity_header", parse_header_name, offsetof(struct web_config, identity_header), false },
        { "trusted_users", parse_users, offsetof(struct web_config, trusted_users), false },
        { "idle_exit", y_duration, offsetof(struct web_config, idle_exit), false },
        { "connections", parse_connections, offsetof(struct web_config, connections), false },
        { "key_credential", y_secret_name, offsetof(struct web_config, key), false },
        {}
};

int web_config_parse(const struct yreader *r, const struct ynode *n, unsigned flags, struct web_config *w) {
        int k;

        k = y_map(r, n, "web", web_fields, w);
        if (k < 0)
                return k;
        if (flags & CONFIG_LOAD_WEB_CREDENTIALS) {
                const struct ynode *p = ynode_find(n, "database_password_credential");
                const struct ynode *key = ynode_find(n, "key_credential");

                if (p && y_secret_read(r, p, "database_password_credential", &w->database_password) < 0)
                        k = -EINVAL;
                if (key && y_secret_read(r, key, "key_credential", &w->key) < 0)
                        k = -EINVAL;
                if (w->key.value && w->key.size < 32)
                        k = y_error(r, key, "key_credential: the key must be at least 32 bytes (e.g. head -c 32 "
                                            "/dev/urandom)");
        }
        return k;
}
