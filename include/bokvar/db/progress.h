/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The progress of a long statement as the SQL reports it, in notices
 * "bokvar progress: D of N households" (bokvar.score_apply() sends one
 * after each chunk of scores it writes): how far it is, at what pace, and
 * when the next journal line is due, with the time left at that pace. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bokvar/basic/duration.h"

/* A journal line (and STATUS=) at most this often, and at the end. */
#define PROGRESS_EVERY (3 * USEC_PER_SEC)

struct progress {
        usec_t started;       /* the first notice of this run; 0 before it */
        usec_t reported;      /* the last line due */
        uint64_t done, total;
};

/* Reads a notice's message, at time now (CLOCK_MONOTONIC). 1 when it is a
 * progress notice and a line is due (the first, every PROGRESS_EVERY, the
 * last); 0 when it is not due, or no progress notice. A notice of a new run
 * (done 0) starts the pace again. */
int progress_note(struct progress *p, const char *message, usec_t now);

/* "D of N households, about T left" (no estimate before the first chunk)
 * into buf of n bytes; returns buf. */
const char *progress_format(const struct progress *p, usec_t now, char *buf, size_t n);
