/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvar.yaml: what the daemon and bokvarctl are configured with. Loading is
 * strict; every mistake is reported as file:line:column. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/diag.h"
#include "bokvar/duration.h"

#define CONFIG_DEFAULT_PATH "/etc/bokvar/bokvar.yaml"

/* A secret named in the file and read from $CREDENTIALS_DIRECTORY. */
struct secret {
        char *name;    /* credential name as written */
        char *value;   /* NULL until credentials are loaded */
        size_t size;
};

struct config {
        char *path;                 /* the file it was read from */
        char *dir;                  /* its directory: relative paths start here */
        char *database;             /* libpq conninfo or URI; NULL: PG* environment */
        struct secret database_password;
        int log_level;              /* syslog level */
};

enum {
        CONFIG_LOAD_CREDENTIALS = 1 << 0,  /* read every named credential */
        CONFIG_CHECK_FILES = 1 << 1,       /* check that files the config names exist */
};

struct config *config_free(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

/* Parses a configuration held in memory; path is used in messages and to
 * resolve relative paths. */
int config_parse(const char *path, const char *data, size_t size, unsigned flags, struct config **ret,
                 struct diag *d);
/* Reads and parses path. */
int config_load(const char *path, unsigned flags, struct config **ret, struct diag *d);
