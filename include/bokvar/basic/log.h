/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Logging: structured journal entries (FEED=, HOUSEHOLD_ID=, TASK_ID=, ...) or
 * plain lines on stderr. Callers never pass identity numbers or names. */
#pragma once

#include <syslog.h>

#include "bokvar/basic/macro.h"

enum log_target {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_CONSOLE,
};

struct log_field {
        const char *key;   /* upper-case journal field name, e.g. "FEED" */
        const char *value;
};

/* A compound literal list of fields, terminated for the logger. */
#define LOG_FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

/* Chooses where log lines go. AUTO picks the journal when $JOURNAL_STREAM says
 * stderr is connected to it. ident is the program name in journal entries. */
void log_setup(const char *ident, enum log_target target);
/* Lines above max_level (LOG_DEBUG ... LOG_ERR) are dropped. */
void log_set_max_level(int level);
/* Parses "auto", "journal", "console"; -EINVAL for anything else. */
int log_target_from_string(const char *s, enum log_target *ret);
/* Parses a syslog level name ("debug", "info", "notice", "warning", "err"). */
int log_level_from_string(const char *s, int *ret);

/* Emits one entry; returns -abs(error) when error != 0, else 0, so error paths
 * can "return log_...". %m in fmt expands to strerror(error). */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const struct log_field *fields, const char *fmt, ...) _printf_(7, 8);

#define log_full_errno(level, error, fields, ...) \
        log_internal(level, error, __FILE__, __LINE__, __func__, fields, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, NULL, __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, e, NULL, __VA_ARGS__)
#define log_oom() log_full_errno(LOG_ERR, ENOMEM, NULL, "Out of memory.")
