/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Durations as operators write them: 30s, 15m, 1h, 1d, 2w, or sums like 1h30m. */
#pragma once

#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)
#define USEC_PER_WEEK (7 * USEC_PER_DAY)
/* Longer than anything an operator means (about 100 years): refused. */
#define DURATION_MAX (36525 * USEC_PER_DAY)

/* Parses s into microseconds. On failure returns -EINVAL and, when ret_reason
 * is not NULL, points it at a static sentence saying what is wrong. */
int duration_parse(const char *s, usec_t *ret, const char **ret_reason);

/* Formats d compactly ("1d2h", "15m", "0s") into buf of at least 32 bytes. */
const char *duration_format(char buf[static 32], usec_t d);
