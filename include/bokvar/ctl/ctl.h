/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What bokvarctl's commands share: the global options, lazy loading of the
 * configuration and the database connection, and option parsing helpers. */
#pragma once

#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "bokvar/config/config.h"

struct ctl {
        const char *config_path;
        bool config_explicit;      /* --config was given */
        bool json;
        struct config *config;
        PGconn *conn;
};

struct verb {
        const char *name;
        int (*run)(struct ctl *ctl, int argc, char *argv[]);
        const char *summary;
};

/* Loads the configuration once (credentials too when $CREDENTIALS_DIRECTORY
 * is set). Without --config and with no file at the default path, the PG*
 * environment alone is used. Returns an exit status. */
int ctl_config(struct ctl *ctl);
/* Connects once; check_schema makes a schema mismatch fatal. Returns an exit status. */
int ctl_connect(struct ctl *ctl, bool check_schema);

/* Parses a command's options: --json and --help are always accepted; help
 * is printed from usage. Returns -1 to continue, or an exit status to
 * return. Other options reach on_option. */
int ctl_parse_options(struct ctl *ctl, int argc, char *argv[], const struct option *options, const char *usage,
                      int (*on_option)(int c, const char *arg, void *userdata), void *userdata);

/* Runs a statement and prints any error; returns an exit status. */
int ctl_query(struct ctl *ctl, PGresult **ret, const char *sql, int n, const char *const *params);

/* The acting person for audit records: --by, else $SUDO_USER, else the login name. */
const char *ctl_actor(const char *by);

/* An id as bokvarctl takes them: 1 to 18 digits. */
bool ctl_valid_id(const char *s);
/* Prints a household, its score explained and its signals (with --json, as
 * "household": ..., "score": ..., "signals": ... inside the caller's object). */
int ctl_household_print(struct ctl *ctl, const char *id, const char *at, const char *verb);

/* Commands, one file per group of them. */
int verb_feeds(struct ctl *ctl, int argc, char *argv[]);
int verb_quarantine(struct ctl *ctl, int argc, char *argv[]);
int verb_households(struct ctl *ctl, int argc, char *argv[]);
int verb_household(struct ctl *ctl, int argc, char *argv[]);
int verb_rules(struct ctl *ctl, int argc, char *argv[]);
int verb_tasks(struct ctl *ctl, int argc, char *argv[]);
int verb_task(struct ctl *ctl, int argc, char *argv[]);
int verb_outbox(struct ctl *ctl, int argc, char *argv[]);
int verb_report(struct ctl *ctl, int argc, char *argv[]);
