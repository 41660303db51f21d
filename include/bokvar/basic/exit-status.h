/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Exit statuses of bokvard and bokvarctl, documented in the README. */
#pragma once

enum {
        EXIT_OK = 0,          /* success */
        EXIT_FAIL = 1,        /* the check found errors, or the command failed */
        EXIT_USAGE = 2,       /* wrong options or arguments */
        EXIT_DATABASE = 3,    /* the database cannot be reached or refused a statement */
        EXIT_SCHEMA = 4,      /* the database schema is not the one this binary expects */
        EXIT_NOT_FOUND = 5,   /* the named task, household, feed or outbox row does not exist */
};
