/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Secrets come from systemd credentials ($CREDENTIALS_DIRECTORY, filled by
 * LoadCredential= or SetCredentialEncrypted=), never from the YAML files. */
#pragma once

#include <stddef.h>

/* Credentials larger than this are refused. */
#define CREDENTIAL_MAX_SIZE ((size_t) 64 * 1024)

/* True when name is a valid credential name: [A-Za-z0-9_.-]+, not "." or "..". */
int credential_name_valid(const char *name);

/* Reads credential name into a NUL-terminated buffer, dropping one trailing
 * newline. On failure returns a negative errno and, if ret_reason is not NULL,
 * a malloc'ed sentence an operator can act on. */
int credential_read(const char *name, char **ret, size_t *ret_size, char **ret_reason);

/* Wipes and frees a secret. */
void credential_free(char *secret, size_t size);
