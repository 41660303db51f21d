/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What bokvarctl's commands share: the global options, lazy loading of the
 * configuration and the database connection, and option parsing helpers. */
#pragma once

#include <getopt.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

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
 * is set). Without --config and with no file at the default path, or one
 * the invoking user may not read (it is the bokvar group's), the database
 * is found by libpq's PG* environment, else as the service "bokvar" of
 * pg_service.conf. Returns an exit status. */
int ctl_config(struct ctl *ctl);
/* Connects once, as the invoking user (the database maps the login to an
 * actor); check_schema makes a schema mismatch fatal. Returns an exit status. */
int ctl_connect(struct ctl *ctl, bool check_schema);

/* Parses a command's options: --json and --help are always accepted; help
 * is printed from usage. Returns -1 to continue, or an exit status to
 * return. Other options reach on_option. */
int ctl_parse_options(struct ctl *ctl, int argc, char *argv[], const struct option *options, const char *usage,
                      int (*on_option)(int c, const char *arg, void *userdata), void *userdata);

/* Runs a statement and prints any error (as ctl_call does, without a
 * verb); returns an exit status. */
int ctl_query(struct ctl *ctl, PGresult **ret, const char *sql, int n, const char *const *params);
/* Runs a statement and prints its rows as a table or JSON; returns an exit status. */
int ctl_print_query(struct ctl *ctl, const char *sql, int n, const char *const *params);
/* Runs a statement whose errors a person can act on: no such task or row
 * (SQLSTATE P0002) is exit 5; a refused action (42501: not this person's
 * to do; 22023: closing twice) or input the database refuses (class 22)
 * exit 1; anything else 3. The server's message is printed after
 * "bokvarctl verb:" (verb may be NULL). */
int ctl_call(struct ctl *ctl, PGresult **ret, const char *verb, const char *sql, int n, const char *const *params);
/* An on_option for a command with one option that takes a string: it
 * lands in *(const char **) userdata. */
int ctl_string_option(int c, const char *arg, void *userdata);
/* -1 when a command got no arguments beyond its options, else EXIT_USAGE (said why). */
int ctl_no_arguments(int argc, char *argv[]);

/* Reads an identity number from standard input (given as "-"), which keeps
 * it out of the process list and the shell's history: the first line,
 * without its line break. From a terminal, it asks on standard error and
 * turns the echo off while the number is typed (restored before it
 * returns; not after a signal that ends the process). Returns -1 to
 * continue, or EXIT_USAGE (said why, for verb). The caller clears buf with
 * explicit_bzero() when done. */
int ctl_read_number(const char *verb, char *buf, size_t size);

/* Reads the identity number in text as every identity number is read (the
 * one reader, ingest/identity.c, as of the database's day) into id, of 13
 * bytes (IDENTITY_MAX), normalised as the database keeps them. -1 to
 * continue; else says why on standard error, for verb, without repeating
 * the number, and returns status (or the database's error's). */
int ctl_identity_number(struct ctl *ctl, const char *verb, const char *text, int status, char *id);

/* An id as bokvarctl takes them: 1 to 18 digits. */
bool ctl_valid_id(const char *s);
/* Whether s is one of the words of a NULL-terminated list (a vocabulary). */
bool ctl_one_of(const char *s, const char *const *l);
/* Prints the words, comma-separated. */
void ctl_print_choices(FILE *f, const char *const *l);
/* The words as one malloc'ed string, joined by sep; NULL when out of memory. */
char *ctl_choices(const char *const *l, const char *sep);
/* Prints the household of a document from bokvar.household_show() or
 * task_show(): the home, its score explained, its signals. */
int ctl_household_print(struct ctl *ctl, const char *doc);

/* Prints a translated sentence and a line break: %s (and %N$s, for a
 * translation's own word order) take the strings given, as l10n_format()
 * fills them; control characters in them are escaped for the terminal.
 *   ctl_sentence(stdout, _(text), id);   with text "Task %s closed." */
#define ctl_sentence(f, fmt, ...) ctl_sentence_internal((f), (fmt), (const char *const[]){ __VA_ARGS__, NULL })
void ctl_sentence_internal(FILE *f, const char *fmt, const char *const *args);

/* Commands: check, migrate, version and whoami with main in bokvarctl.c;
 * the others in ctl-feeds.c (feeds, quarantine), ctl-households.c
 * (households, household show|children|merge|split), ctl-rules.c,
 * ctl-tasks.c (tasks, task),
 * ctl-outbox.c, ctl-report.c, ctl-access.c (access-log, purge, subject). */
int verb_feeds(struct ctl *ctl, int argc, char *argv[]);
int verb_quarantine(struct ctl *ctl, int argc, char *argv[]);
int verb_households(struct ctl *ctl, int argc, char *argv[]);
int verb_household(struct ctl *ctl, int argc, char *argv[]);
int verb_rules(struct ctl *ctl, int argc, char *argv[]);
int verb_tasks(struct ctl *ctl, int argc, char *argv[]);
int verb_task(struct ctl *ctl, int argc, char *argv[]);
int verb_outbox(struct ctl *ctl, int argc, char *argv[]);
int verb_report(struct ctl *ctl, int argc, char *argv[]);
int verb_access_log(struct ctl *ctl, int argc, char *argv[]);
int verb_purge(struct ctl *ctl, int argc, char *argv[]);
int verb_subject(struct ctl *ctl, int argc, char *argv[]);
/* ctl-signal.c */
int verb_signal(struct ctl *ctl, int argc, char *argv[]);
