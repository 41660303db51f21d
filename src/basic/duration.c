/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Parsing and formatting of durations in config and rules files. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/duration.h"
#include "bokvar/basic/macro.h"

static const struct {
        char unit;
        usec_t usec;
} units[] = {
        { 'w', USEC_PER_WEEK }, { 'd', USEC_PER_DAY },    { 'h', USEC_PER_HOUR },
        { 'm', USEC_PER_MINUTE }, { 's', USEC_PER_SEC },
};

static int fail(const char **ret_reason, const char *reason) {
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

int duration_parse(const char *s, usec_t *ret, const char **ret_reason) {
        usec_t total = 0;
        const char *p = s;

        if (!s || !*s)
                return fail(ret_reason, "empty duration; write e.g. 30s, 15m, 1h or 1d");

        while (*p) {
                uint64_t n = 0;
                usec_t mult = 0, part;

                if (*p < '0' || *p > '9')
                        return fail(ret_reason, "a duration is a number followed by a unit: s, m, h, d or w (e.g. 15m)");
                while (*p >= '0' && *p <= '9') {
                        if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (uint64_t) (*p - '0'), &n))
                                return fail(ret_reason, "duration too long");
                        p++;
                }
                if (!*p)
                        return fail(ret_reason, "number without a unit; add s, m, h, d or w (e.g. 30s)");
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (*p == units[i].unit)
                                mult = units[i].usec;
                if (mult == 0)
                        return fail(ret_reason, "unknown unit; use s, m, h, d or w");
                p++;
                if (__builtin_mul_overflow(n, mult, &part) || __builtin_add_overflow(total, part, &total) ||
                    total > DURATION_MAX)
                        return fail(ret_reason, "duration too long (at most 36525d)");
        }
        *ret = total;
        return 0;
}

const char *duration_format(char buf[static 32], usec_t d) {
        size_t len = 0;

        buf[0] = 0;
        if (d < USEC_PER_SEC) {
                (void) snprintf(buf, 32, d == 0 ? "0s" : "%llums", (unsigned long long) (d / USEC_PER_MSEC));
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(units) && len < 31; i++) {
                if (d < units[i].usec)
                        continue;
                len += (size_t) snprintf(buf + len, 32 - len, "%llu%c", (unsigned long long) (d / units[i].usec),
                                         units[i].unit);
                d %= units[i].usec;
        }
        return buf;
}
