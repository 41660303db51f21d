/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Progress notices: parsed, paced, estimated. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/db/progress.h"

#define PREFIX "bokvar progress: "

/* "D of N households", and nothing after it but a line break. */
static int parse(const char *m, uint64_t *ret_done, uint64_t *ret_total) {
        uint64_t d, t;
        int used = 0;

        if (strncmp(m, PREFIX, strlen(PREFIX)) != 0)
                return -1;
        m += strlen(PREFIX);
        if (sscanf(m, "%" SCNu64 " of %" SCNu64 " households%n", &d, &t, &used) != 2 || used == 0 ||
            (m[used] != 0 && m[used] != '\n') || d > t)
                return -1;
        *ret_done = d;
        *ret_total = t;
        return 0;
}

int progress_note(struct progress *p, const char *message, usec_t now) {
        uint64_t done, total;

        if (parse(message, &done, &total) < 0)
                return 0;
        if (done == 0 || p->started == 0 || total != p->total) {
                *p = (struct progress){ .started = now, .reported = now, .done = done, .total = total };
                return 1;
        }
        p->done = done;
        if (done < total && now - p->reported < PROGRESS_EVERY)
                return 0;
        p->reported = now;
        return 1;
}

const char *progress_format(const struct progress *p, usec_t now, char *buf, size_t n) {
        int l = snprintf(buf, n, "%" PRIu64 " of %" PRIu64 " households", p->done, p->total);
        double left;

        if (l < 0 || (size_t) l >= n || p->done == 0 || p->done >= p->total || now <= p->started)
                return buf;
        /* At the pace so far. */
        left = (double) (now - p->started) / (double) p->done * (double) (p->total - p->done) / (double) USEC_PER_SEC;
        if (left < 90)
                (void) snprintf(buf + l, n - (size_t) l, ", about %.0f s left", left < 1 ? 1 : left);
        else
                (void) snprintf(buf + l, n - (size_t) l, ", about %.0f min left", left / 60);
        return buf;
}
