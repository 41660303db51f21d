/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Lookup of secrets in $CREDENTIALS_DIRECTORY. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/util.h"

int credential_name_valid(const char *name) {
        if (isempty(name) || streq(name, ".") || streq(name, "..") || strlen(name) > 255)
                return 0;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '-' || *p == '.'))
                        return 0;
        return 1;
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

void credential_free(char *secret, size_t size) {
        if (!secret)
                return;
        explicit_bzero(secret, size);
        free(secret);
}
