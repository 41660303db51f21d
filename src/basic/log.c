/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Logging to the journal with structured fields, or to stderr. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* We send CODE_FILE= and friends of the caller ourselves. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"

static enum log_target log_target_current = LOG_TARGET_CONSOLE;
static int log_max_level = LOG_INFO;
static const char *log_ident = "bokvar";

/* True when $JOURNAL_STREAM names the device and inode of our stderr, which is
 * how systemd tells a service that its stderr goes to the journal. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident, enum log_target target) {
        log_ident = ident;
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_JOURNAL : LOG_TARGET_CONSOLE;
        log_target_current = target;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_target_from_string(const char *s, enum log_target *ret) {
        if (streq(s, "auto"))
                *ret = LOG_TARGET_AUTO;
        else if (streq(s, "journal"))
                *ret = LOG_TARGET_JOURNAL;
        else if (streq(s, "console"))
                *ret = LOG_TARGET_CONSOLE;
        else
                return -EINVAL;
        return 0;
}

int log_level_from_string(const char *s, int *ret) {
        static const char *const names[] = {
                [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i] && streq(s, names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        if (streq(s, "error")) {
                *ret = LOG_ERR;
                return 0;
        }
        return -EINVAL;
}

static void log_to_journal(int level, int error, const char *file, int line, const char *func,
                           const struct log_field *fields, const char *msg) {
        _cleanup_free_ char *m = NULL, *p = NULL, *id = NULL, *cf = NULL, *cl = NULL, *fn = NULL, *en = NULL;
        struct iovec iov[32];
        char *extra[24] = {};
        size_t n = 0, k = 0;

        if (asprintf(&m, "MESSAGE=%s", msg) < 0 || asprintf(&p, "PRIORITY=%i", level) < 0 ||
            asprintf(&id, "SYSLOG_IDENTIFIER=%s", log_ident) < 0 ||
            asprintf(&cf, "CODE_FILE=%s", file) < 0 || asprintf(&cl, "CODE_LINE=%i", line) < 0 ||
            asprintf(&fn, "CODE_FUNC=%s", func) < 0)
                goto fallback;
        iov[n++] = (struct iovec){ m, strlen(m) };
        iov[n++] = (struct iovec){ p, strlen(p) };
        iov[n++] = (struct iovec){ id, strlen(id) };
        iov[n++] = (struct iovec){ cf, strlen(cf) };
        iov[n++] = (struct iovec){ cl, strlen(cl) };
        iov[n++] = (struct iovec){ fn, strlen(fn) };
        if (error != 0) {
                if (asprintf(&en, "ERRNO=%i", error) < 0)
                        goto fallback;
                iov[n++] = (struct iovec){ en, strlen(en) };
        }
        for (const struct log_field *f = fields; f && f->key && k < ELEMENTSOF(extra); f++) {
                if (!f->value)
                        continue;
                if (asprintf(&extra[k], "%s=%s", f->key, f->value) < 0)
                        break;
                iov[n++] = (struct iovec){ extra[k], strlen(extra[k]) };
                k++;
        }
        (void) sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < k; i++)
                free(extra[i]);
        return;
fallback:
        fprintf(stderr, "%s\n", msg);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const struct log_field *fields, const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        /* %m refers to the error we were given, not whatever errno is now. */
        errno = error;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (log_target_current == LOG_TARGET_JOURNAL)
                log_to_journal(level, error, file, line, func, fields, msg);
        else
                fprintf(stderr, "%s\n", msg);
        return -error;
}
