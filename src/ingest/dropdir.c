/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Drop folders: which files are ready, and done/ for those ingested. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bokvar/ingest/dropdir.h"

#define LISTING_MAX ((size_t) 4 * 1024 * 1024)   /* an sftp listing of some ten thousand files */

static void files_free(struct drop_file *f, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(f[i].name);
                free(f[i].source);
        }
        free(f);
}

static int files_add(struct drop_file **f, size_t *n, size_t *cap, const char *name, char *source, uint64_t size,
                     int64_t mtime) {
        if (!GREEDY_REALLOC(*f, *cap, *n + 1)) {
                free(source);
                return -ENOMEM;
        }
        (*f)[*n] = (struct drop_file){ .name = strdup(name), .source = source, .size = size, .mtime = mtime };
        if (!(*f)[*n].name) {
                free(source);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

/* Names the feed's pattern takes: never a hidden file (an upload under
 * way is often one), never done/. */
static bool wanted(const struct feed_config *cfg, const char *name) {
        return name[0] != '.' && !streq(name, "done") && fnmatch(cfg->pattern, name, FNM_PERIOD) == 0;
}

/* ---- a local folder ---- */

static int list_local(struct drop_scan *s, struct drop_file **ret, size_t *ret_n) {
        const struct feed_config *cfg = s->cfg;
        _cleanup_free_ char *dir = NULL;
        struct drop_file *f = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        DIR *d;
        int k;

        k = path_resolve_under(cfg->path, cfg->file_roots, false, &dir);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                (void) snprintf(s->error, sizeof s->error, k == -EPERM ? "%s is outside file_roots once its symlinks "
                                                                         "are followed; not read"
                                                                       : "cannot open the folder %s: %s",
                                cfg->path, strerror(-k));
                return k;
        }
        d = opendir(dir);
        if (!d) {
                k = -errno;
                (void) snprintf(s->error, sizeof s->error, "cannot open the folder %s: %s", cfg->path, strerror(-k));
                return k;
        }
        while ((de = readdir(d))) {
                struct stat st;
                char *source;

                if (!wanted(cfg, de->d_name))
                        continue;
                /* Regular files only, and no symlink out of file_roots. */
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (asprintf(&source, "%s/%s", dir, de->d_name) < 0) {
                        closedir(d);
                        files_free(f, n);
                        return -ENOMEM;
                }
                k = files_add(&f, &n, &cap, de->d_name, source, (uint64_t) st.st_size,
                              (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
                if (k < 0) {
                        closedir(d);
                        files_free(f, n);
                        return k;
                }
        }
        closedir(d);
        *ret = f;
        *ret_n = n;
        return 0;
}

/* ---- an sftp folder ---- */

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int drop_parse_listing_line(const char *line, char *name, size_t name_size, uint64_t *ret_size, int64_t *ret_time) {
        char perms[16], user[64], group[64], month[8], when[8];
        unsigned long long size;
        unsigned links, day, hh = 0, mm = 0, year = 0;
        int at = 0, m = -1;
        size_t len;

        if (sscanf(line, "%15s %u %63s %63s %llu %7s %u %7s %n", perms, &links, user, group, &size, month, &day, when,
                   &at) < 8 || at == 0 || perms[0] != '-')
                return 0;
        for (int i = 0; i < 12; i++)
                if (streq(month, months[i]))
                        m = i;
        if (m < 0 || day < 1 || day > 31)
                return 0;
        /* "08:00" this year, or "2025" for an older file. */
        if (sscanf(when, "%u:%u", &hh, &mm) != 2 && sscanf(when, "%u", &year) != 1)
                return 0;
        len = strcspn(line + at, "\r\n");
        if (len == 0 || len >= name_size)
                return 0;
        memcpy(name, line + at, len);
        name[len] = 0;
        *ret_size = size;
        /* Minutes, ordered: an older year's file before this year's. */
        *ret_time = (int64_t) (year ? year - 1900 : 1000) * 600000 + (int64_t) ((m * 31 + (int) day) * 1440 +
                                                                                  (int) (hh * 60 + mm));
        return 1;
}

static size_t on_listing(char *data, size_t size, size_t nmemb, void *userdata) {
        struct drop_scan *s = userdata;
        size_t n = size * nmemb;

        if (s->listing.len + n > LISTING_MAX || buf_put(&s->listing, data, n) < 0)
                return 0;
        return n;
}

static void look_done(struct drop_scan *s, struct drop_file *f, size_t n);
static void scan_fail(struct drop_scan *s);

static int parse_listing(struct drop_scan *s, struct drop_file **ret, size_t *ret_n) {
        struct drop_file *f = NULL;
        size_t n = 0, cap = 0;
        char *p = s->listing.data;

        while (p && *p) {
                char *eol = strchr(p, '\n'), name[1024], *escaped, *source;
                uint64_t size;
                int64_t t;

                if (eol)
                        *eol = 0;
                if (drop_parse_listing_line(p, name, sizeof name, &size, &t) && wanted(s->cfg, name)) {
                        escaped = curl_easy_escape(NULL, name, 0);
                        if (!escaped || asprintf(&source, "%s%s", s->cfg->url, escaped) < 0) {
                                curl_free(escaped);
                                files_free(f, n);
                                return -ENOMEM;
                        }
                        curl_free(escaped);
                        if (files_add(&f, &n, &cap, name, source, size, t) < 0) {
                                files_free(f, n);
                                return -ENOMEM;
                        }
                }
                p = eol ? eol + 1 : NULL;
        }
        *ret = f;
        *ret_n = n;
        return 0;
}

static void on_listed(CURL *easy, CURLcode result, void *userdata) {
        struct drop_scan *s = userdata;
        struct drop_file *f = NULL;
        size_t n = 0;

        curl_easy_cleanup(easy);
        s->easy = NULL;
        if (result != CURLE_OK) {
                (void) snprintf(s->error, sizeof s->error, "cannot list the folder: %s", curl_easy_strerror(result));
                scan_fail(s);
                return;
        }
        if (parse_listing(s, &f, &n) < 0) {
                (void) snprintf(s->error, sizeof s->error, "out of memory");
                scan_fail(s);
                return;
        }
        buf_clear(&s->listing);
        look_done(s, f, n);
}

static int list_sftp(struct drop_scan *s) {
        const struct feed_config *cfg = s->cfg;
        CURL *e;
        int k;

        buf_clear(&s->listing);
        k = curl_glue_easy_new(cfg->url, cfg->timeout, cfg->connect_timeout, NULL, &e);
        if (k < 0)
                return k;
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "sftp");
        (void) curl_easy_setopt(e, CURLOPT_SSH_AUTH_TYPES, (long) CURLSSH_AUTH_PUBLICKEY);
        (void) curl_easy_setopt(e, CURLOPT_SSH_PRIVATE_KEYFILE, cfg->auth.ssh_key);
        /* As every sftp feed: only a host key known_hosts lists. */
        (void) curl_easy_setopt(e, CURLOPT_SSH_KNOWNHOSTS, cfg->auth.known_hosts);
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_listing);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
        s->easy = e;
        k = curl_glue_add(s->glue, e, on_listed, s);
        if (k < 0) {
                curl_easy_cleanup(e);
                s->easy = NULL;
        }
        return k;
}

/* ---- two looks ---- */

static int look(struct drop_scan *s);

static int on_settled(sd_event_source *src _unused_, uint64_t usec _unused_, void *userdata) {
        struct drop_scan *s = userdata;

        s->timer = sd_event_source_disable_unref(s->timer);
        if (look(s) < 0)
                scan_fail(s);
        return 0;
}

static int compare_files(const void *a, const void *b) {
        const struct drop_file *x = a, *y = b;

        if (x->mtime != y->mtime)
                return x->mtime < y->mtime ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* A look has listed the folder: after the first, wait and look again;
 * after the second, the files that did not change are ready. */
static void look_done(struct drop_scan *s, struct drop_file *f, size_t n) {
        size_t ready = 0;

        if (++s->looks == 1) {
                s->first = f;
                s->n_first = n;
                if (sd_event_add_time_relative(s->event, &s->timer, CLOCK_MONOTONIC, DROP_SETTLE_USEC, 0, on_settled,
                                               s) < 0) {
                        (void) snprintf(s->error, sizeof s->error, "cannot set a timer");
                        scan_fail(s);
                }
                return;
        }
        for (size_t i = 0; i < n; i++) {
                bool same = false;

                for (size_t j = 0; j < s->n_first && !same; j++)
                        same = streq(f[i].name, s->first[j].name) && f[i].size == s->first[j].size &&
                               f[i].mtime == s->first[j].mtime;
                if (!same) {
                        free(f[i].name);
                        free(f[i].source);
                        continue;
                }
                f[ready++] = f[i];
        }
        /* (An empty folder lists no array: qsort() must not see NULL.) */
        if (ready > 1)
                qsort(f, ready, sizeof *f, compare_files);
        files_free(s->first, s->n_first);
        s->first = NULL;
        s->n_first = 0;
        s->files = f;
        s->n_files = ready;
        s->done(s, NULL, s->userdata);
}

static void scan_fail(struct drop_scan *s) {
        if (!s->error[0])
                (void) snprintf(s->error, sizeof s->error, "cannot list the folder");
        s->done(s, s->error, s->userdata);
}

static int look(struct drop_scan *s) {
        struct drop_file *f = NULL;
        size_t n = 0;
        int k;

        if (s->cfg->scheme == FEED_SCHEME_SFTP)
                return list_sftp(s);
        k = list_local(s, &f, &n);
        if (k < 0)
                return k;
        look_done(s, f, n);
        return 0;
}

static int on_start(sd_event_source *src _unused_, void *userdata) {
        struct drop_scan *s = userdata;

        s->timer = sd_event_source_disable_unref(s->timer);
        if (look(s) < 0)
                scan_fail(s);
        return 0;
}

void drop_scan_start(struct drop_scan *s, sd_event *event, struct curl_glue *glue, const struct feed_config *cfg,
                     drop_scan_done_fn done, void *userdata) {
        drop_scan_reset(s);
        s->event = event;
        s->glue = glue;
        s->cfg = cfg;
        s->done = done;
        s->userdata = userdata;
        /* From the event loop, never from inside this call. */
        if (sd_event_add_defer(event, &s->timer, on_start, s) < 0) {
                (void) snprintf(s->error, sizeof s->error, "cannot start the listing");
                done(s, s->error, userdata);
        }
}

void drop_scan_reset(struct drop_scan *s) {
        if (s->easy) {
                curl_glue_remove(s->glue, s->easy);
                curl_easy_cleanup(s->easy);
                s->easy = NULL;
        }
        s->timer = sd_event_source_disable_unref(s->timer);
        files_free(s->first, s->n_first);
        files_free(s->files, s->n_files);
        s->first = s->files = NULL;
        s->n_first = s->n_files = 0;
        s->looks = 0;
        buf_free(&s->listing);
        s->error[0] = 0;
}

const char *drop_file_seen_as(const struct drop_file *f, char buf[static 64]) {
        (void) snprintf(buf, 64, "%llu:%lld", (unsigned long long) f->size, (long long) f->mtime);
        return buf;
}

/* ---- done/ ---- */

int drop_file_done(const struct feed_config *cfg, const struct drop_file *f, char *error, size_t size) {
        _cleanup_free_ char *dir = NULL, *target = NULL;
        const char *slash = strrchr(f->source, '/');
        int k;

        if (!slash || asprintf(&dir, "%.*s/done", (int) (slash - f->source), f->source) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                k = -errno;
                (void) snprintf(error, size, "cannot make %s: %s", dir, strerror(-k));
                return k;
        }
        for (unsigned i = 0; i < 1000; i++) {
                free(target);
                target = NULL;
                if ((i == 0 ? asprintf(&target, "%s/%s", dir, f->name)
                            : asprintf(&target, "%s/%s.%u", dir, f->name, i)) < 0)
                        return -ENOMEM;
                /* Never over a file done/ has: an earlier delivery of the same name. */
                if (renameat2(AT_FDCWD, f->source, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
                        return 0;
                if (errno != EEXIST) {
                        k = -errno;
                        (void) snprintf(error, size, "cannot move %s to %s: %s", f->source, dir, strerror(-k));
                        return k;
                }
        }
        (void) snprintf(error, size, "cannot move %s to %s: a thousand files of its name are there", f->source, dir);
        (void) cfg;
        return -EEXIST;
}
