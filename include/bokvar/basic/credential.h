/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Secrets come from systemd credentials ($CREDENTIALS_DIRECTORY, filled by
 * LoadCredential= or SetCredentialEncrypted=), never from the YAML files.
 * This module is everything bokvar does with them: checking a name, reading
 * a value, resolving a key file for libcurl, wiping and freeing. A name may
 * be the secret itself, written by mistake: no message here repeats it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/yamldoc.h"

/* Credentials larger than this are refused. */
#define CREDENTIAL_MAX_SIZE ((size_t) 64 * 1024)

/* A secret named in the configuration, and its value once read. */
struct secret {
        char *name;    /* credential name as written */
        char *value;   /* NULL until read; NUL-terminated, without a trailing newline */
        size_t size;
};

/* Wipes and frees the value and frees the name; s is empty afterwards. */
void secret_done(struct secret *s);

/* Whether name can name a credential: [A-Za-z0-9_.-]+, not "." or "..". */
bool credential_name_valid(const char *name);

/* Reads credential name into a NUL-terminated buffer, dropping one trailing
 * newline. On failure returns a negative errno and, if ret_reason is not
 * NULL, a malloc'ed sentence an operator can act on. The caller wipes the
 * value with credential_free(). */
int credential_read(const char *name, char **ret, size_t *ret_size, char **ret_reason);
/* Wipes and frees a value from credential_read(). */
void credential_free(char *value, size_t size);

/* Readers for yfield tables (keys ending in _credential): a valid name,
 * never echoed. y_secret_name fills a struct secret *, y_credential_name a
 * char * (a key or certificate that libcurl reads as a file). */
int y_secret_name(const struct yreader *r, const struct ynode *n, void *dest);
int y_credential_name(const struct yreader *r, const struct ynode *n, void *dest);

/* Reads the value of the secret s names (nothing if it names none or is
 * read already); a failure is reported at n, with key. */
int y_secret_read(const struct yreader *r, const struct ynode *n, const char *key, struct secret *s);
/* Checks that credential name can be read and returns its path, for
 * libcurl; a failure is reported at n, with key. */
int y_credential_path(const struct yreader *r, const struct ynode *n, const char *key, const char *name,
                      char **ret);
