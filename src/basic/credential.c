/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Secrets from $CREDENTIALS_DIRECTORY: names, values, paths, wiping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/yamldoc.h"

bool credential_name_valid(const char *name) {
        if (isempty(name) || streq(name, ".") || streq(name, "..") || strlen(name) > 255)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.'))
                        return false;
        return true;
}

static int reason(char **ret_reason, int r, const char *fmt, ...) _printf_(3, 4);
static int reason(char **ret_reason, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_reason) {
                va_start(ap, fmt);
                if (vasprintf(ret_reason, fmt, ap) < 0)
                        *ret_reason = NULL;
                va_end(ap);
        }
        return r;
}

int credential_read(const char *name, char **ret, size_t *ret_size, char **ret_reason) {
        _cleanup_free_ char *path = NULL;
        const char *dir;
        char *data;
        size_t size;
        int r;

        if (!credential_name_valid(name))
                return reason(ret_reason, -EINVAL,
                              "'%s' is not a valid credential name (letters, digits, '_', '-', '.')", name);
        dir = getenv("CREDENTIALS_DIRECTORY");
        if (isempty(dir))
                return reason(ret_reason, -ENXIO,
                              "credential '%s' is needed but $CREDENTIALS_DIRECTORY is not set "
                              "(add LoadCredential=%s:/path/to/file to the service, or export "
                              "CREDENTIALS_DIRECTORY for a run by hand)",
                              name, name);
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = read_full_file(path, CREDENTIAL_MAX_SIZE, &data, &size);
        if (r == -ENOENT)
                return reason(ret_reason, r, "credential '%s' not found in $CREDENTIALS_DIRECTORY (%s)", name, dir);
        if (r == -EFBIG)
                return reason(ret_reason, r, "credential '%s' is larger than %zu bytes", name, CREDENTIAL_MAX_SIZE);
        if (r < 0)
                return reason(ret_reason, r, "credential '%s' cannot be read from %s: %s", name, dir, strerror(-r));
        if (size > 0 && data[size - 1] == '\n')
                data[--size] = 0;
        if (size > 0 && data[size - 1] == '\r')
                data[--size] = 0;
        if (size == 0 || strlen(data) != size) {
                credential_free(data, size);
                return reason(ret_reason, -EBADMSG, "credential '%s' is empty or contains a NUL byte", name);
        }
        *ret = data;
        if (ret_size)
                *ret_size = size;
        return 0;
}

void credential_free(char *value, size_t size) {
        if (!value)
                return;
        explicit_bzero(value, size);
        free(value);
}

void secret_done(struct secret *s) {
        free(s->name);
        credential_free(s->value, s->size);
        *s = (struct secret){};
}

static int name_reader(const struct yreader *r, const struct ynode *n, char **name, const char *what) {
        if (y_string(r, n, name) < 0)
                return -EINVAL;
        if (!credential_name_valid(*name))
                return y_error(r, n,
                               "not a credential name: name a file in $CREDENTIALS_DIRECTORY "
                               "(letters, digits, '_', '-', '.'), never write the %s itself here", what);
        return 0;
}

int y_secret_name(const struct yreader *r, const struct ynode *n, void *dest) {
        return name_reader(r, n, &((struct secret *) dest)->name, "secret");
}

int y_credential_name(const struct yreader *r, const struct ynode *n, void *dest) {
        return name_reader(r, n, dest, "key");
}

int y_secret_read(const struct yreader *r, const struct ynode *n, const char *key, struct secret *s) {
        _cleanup_free_ char *why = NULL;
        int k;

        if (!s->name || s->value)
                return 0;
        k = credential_read(s->name, &s->value, &s->size, &why);
        if (k < 0)
                return y_error(r, n, "%s: %s", key, why ? why : strerror(-k));
        return 0;
}

int y_credential_path(const struct yreader *r, const struct ynode *n, const char *key, const char *name,
                      char **ret) {
        _cleanup_free_ char *why = NULL;
        char *value = NULL;
        size_t size = 0;
        int k;

        /* Read once, so that a missing or unreadable file is reported now,
         * at the key, not at the first fetch. */
        k = credential_read(name, &value, &size, &why);
        credential_free(value, size);
        if (k < 0)
                return y_error(r, n, "%s: %s", key, why ? why : strerror(-k));
        if (asprintf(ret, "%s/%s", getenv("CREDENTIALS_DIRECTORY"), name) < 0)
                return -ENOMEM;
        return 0;
}
