/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvar.yaml: what the daemon and bokvarctl are configured with. Loading is
 * strict; every mistake is reported as file:line:column. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/diag.h"
#include "bokvar/basic/duration.h"
#include "bokvar/config/access-config.h"
#include "bokvar/config/config-flags.h"
#include "bokvar/config/outreach-config.h"
#include "bokvar/config/web-config.h"

#define CONFIG_DEFAULT_PATH "/etc/bokvar/bokvar.yaml"
/* With the configuration's own directory, where file: feeds may be read
 * from when file_roots: is not given. */
#define CONFIG_DEFAULT_FILE_ROOT "/var/lib/bokvar"
/* The language of an installation that names none (language:). */
#define CONFIG_DEFAULT_LANGUAGE "sv"

struct feed_config;
struct ruleset;

struct config {
        unsigned refs;
        char *path;                 /* the file it was read from */
        char *dir;                  /* its directory: relative paths start here */
        char *database;             /* libpq conninfo or URI; NULL: PG* environment */
        struct secret database_password;
        int log_level;              /* syslog level */
        const char *language;       /* what people read, unless they or their team choose (a built-in language) */
        unsigned load_flags;        /* CONFIG_* this was loaded with */
        char *rules_path;           /* rules: the rules file, resolved */
        struct ruleset *rules;      /* read from it when loaded with CONFIG_CHECK_FILES */
        struct feed_config *feeds;
        size_t n_feeds;
        unsigned max_parallel_fetches;
        char **file_roots;          /* directories file: feeds may read from, absolute or as dir is */
        struct outreach_config outreach;   /* teams, channels, tasks, dispatch */
        struct access_config access;       /* people, retention */
        struct web_config web;             /* bokvar-web */
};


/* Configurations are shared by whoever uses them (a fetch keeps the one it
 * started with across a reload): config_unref() frees the last reference. */
/* A configuration of defaults alone (no file), with one reference. */
struct config *config_new(void);
struct config *config_ref(struct config *c);
struct config *config_unref(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_unref);

/* Parses a configuration held in memory; path is used in messages and to
 * resolve relative paths. */
int config_parse(const char *path, const char *data, size_t size, unsigned flags, struct config **ret,
                 struct diag *d);
/* Reads and parses path. */
int config_load(const char *path, unsigned flags, struct config **ret, struct diag *d);
