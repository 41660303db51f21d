/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The transfer of one page: libcurl's easy handle set up for the feed
 * (TLS, credentials, validators), its header and body callbacks, the file
 * feeds read from disk, and the back-pressure between the source and the
 * COPY. In the order things happen:
 *
 *   transfer_start() → curl_setup() or file_setup() → body bytes through the
 *   reader → flush_stage() (pausing the source while libpq drains) →
 *   transfer_finished() → done()
 *
 * and at the end transfer_next_page(), where paging goes on. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bokvar/ingest/transfer.h"

#define COPY_CHUNK ((size_t) 64 * 1024)    /* COPY text handed to libpq at a time */
#define FILE_CHUNK ((size_t) 64 * 1024)    /* bytes read from a file feed at a time */
#define MAX_REDIRECTS 5L

static int curl_setup(struct transfer *t, const char *etag, const char *last_modified);
static int file_setup(struct transfer *t, const char *etag);
static void transfer_fail(struct transfer *t, const char *fmt, ...) _printf_(2, 3);
static void transfer_finished(struct transfer *t);

void transfer_init(struct transfer *t, sd_event *event, struct curl_glue *glue, transfer_done_fn done,
                   void *userdata) {
        *t = (struct transfer){
                .event = event,
                .glue = glue,
                .done = done,
                .userdata = userdata,
                .fd = -1,
        };
}

void transfer_start(struct transfer *t, const struct feed_config *cfg, struct pgconn *pg, const char *url,
                    day_t today, const char *etag, const char *last_modified) {
        int k;

        t->cfg = cfg;
        t->pg = pg;
        t->url = url;
        stage_init(&t->stage, cfg, today);
        /* A drop folder's file is known by its content. */
        if (cfg->drop && (!(t->digest = EVP_MD_CTX_new()) || EVP_DigestInit_ex(t->digest, EVP_sha256(), NULL) != 1)) {
                transfer_fail(t, "cannot set up the SHA-256 of the file");
                return;
        }
        k = reader_new(cfg, &stage_reader_ops, &t->stage, &t->reader);
        if (k < 0) {
                transfer_fail(t, "cannot set up the reader: %s", strerror(-k));
                return;
        }
        k = cfg->scheme == FEED_SCHEME_FILE ? file_setup(t, etag) : curl_setup(t, etag, last_modified);
        if (k < 0)
                transfer_fail(t, "cannot start the transfer: %s", strerror(-k));
}

/* ---- over libcurl ---- */

static size_t on_curl_header(char *data, size_t size, size_t nmemb, void *userdata);
static size_t on_curl_body(char *data, size_t size, size_t nmemb, void *userdata);
static void on_curl_done(CURL *easy, CURLcode result, void *userdata);

static int curl_setup(struct transfer *t, const char *etag, const char *last_modified) {
        const struct feed_config *f = t->cfg;
        CURL *e;
        char *h;
        int k;

        k = curl_glue_easy_new(t->url, f->timeout, f->connect_timeout, f->auth.ca_file, &e);
        if (k < 0)
                return k;
        t->easy = e;
        (void) curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http,sftp");
        /* Redirects only to https: a feed's data and credentials never go
         * out in the clear. */
        (void) curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        (void) curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        (void) curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        /* HTTP/1.1: pausing a transfer then buffers one chunk at most. */
        (void) curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        /* Compressed bodies (gzip, deflate, whatever libcurl can decode)
         * arrive decoded, and max_body counts the decoded bytes (body()),
         * so a small body that unpacks to gigabytes is stopped all the same. */
        (void) curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        (void) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) f->max_body);
        (void) curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
        (void) curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
        (void) curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
        (void) curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
        if (f->auth.client_cert) {
                (void) curl_easy_setopt(e, CURLOPT_SSLCERT, f->auth.client_cert);
                (void) curl_easy_setopt(e, CURLOPT_SSLKEY, f->auth.client_key);
        }
        if (f->auth.bearer.value) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER);
                (void) curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, f->auth.bearer.value);
        }
        if (f->auth.basic.value) {
                (void) curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
                (void) curl_easy_setopt(e, CURLOPT_USERPWD, f->auth.basic.value);
        }
        if (f->scheme == FEED_SCHEME_SFTP) {
                (void) curl_easy_setopt(e, CURLOPT_SSH_AUTH_TYPES, (long) CURLSSH_AUTH_PUBLICKEY);
                (void) curl_easy_setopt(e, CURLOPT_SSH_PRIVATE_KEYFILE, f->auth.ssh_key);
                /* Unknown or changed host keys are refused: without a key
                 * callback, libcurl accepts only an exact known_hosts match. */
                (void) curl_easy_setopt(e, CURLOPT_SSH_KNOWNHOSTS, f->auth.known_hosts);
        }
        /* A conditional GET, when the caller has validators. */
        if (etag && asprintf(&h, "If-None-Match: %s", etag) >= 0) {
                t->headers = curl_slist_append(t->headers, h);
                free(h);
        }
        if (last_modified && asprintf(&h, "If-Modified-Since: %s", last_modified) >= 0) {
                t->headers = curl_slist_append(t->headers, h);
                free(h);
        }
        if (t->headers)
                (void) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        return curl_glue_add(t->glue, e, on_curl_done, t);
}

/* Keeps the validators and the paging link of the final response. */
static size_t on_curl_header(char *data, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb, vl;
        const char *v;
        char **dest = NULL;

        if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* A new response (after a redirect): forget the last one's. */
                t->etag = mfree(t->etag);
                t->last_modified = mfree(t->last_modified);
                t->link_next = mfree(t->link_next);
                t->status = 0;
                return n;
        }
        if (n > 5 && strncasecmp(data, "ETag:", 5) == 0) {
                dest = &t->etag;
                v = data + 5;
        } else if (n > 14 && strncasecmp(data, "Last-Modified:", 14) == 0) {
                dest = &t->last_modified;
                v = data + 14;
        } else if (n > 5 && strncasecmp(data, "Link:", 5) == 0 && t->cfg->paging.link) {
                /* Link: <url>; rel="next", <url>; rel="prev" */
                const char *p = data + 5, *end = data + n;

                while (p < end) {
                        const char *lt = memchr(p, '<', (size_t) (end - p)), *gt, *comma;

                        if (!lt || !(gt = memchr(lt, '>', (size_t) (end - lt))))
                                break;
                        comma = memchr(gt, ',', (size_t) (end - gt));
                        if (!comma)
                                comma = end;
                        if (memmem(gt, (size_t) (comma - gt), "rel=\"next\"", 10) ||
                            memmem(gt, (size_t) (comma - gt), "rel=next", 8)) {
                                free(t->link_next);
                                t->link_next = strndup(lt + 1, (size_t) (gt - lt - 1));
                                break;
                        }
                        p = comma + 1;
                }
                return n;
        } else
                return n;
        while (v < data + n && (*v == ' ' || *v == '\t'))
                v++;
        vl = (size_t) (data + n - v);
        while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
                vl--;
        free(*dest);
        *dest = strndup(v, vl);
        return n;
}

static bool body(struct transfer *t, const char *data, size_t n);

static size_t on_curl_body(char *data, size_t size, size_t nmemb, void *userdata) {
        struct transfer *t = userdata;
        size_t n = size * nmemb;
        bool ok;

        if (t->end == TRANSFER_FAILED)
                return 0;
        if (t->paused)
                return CURL_WRITEFUNC_PAUSE;
        /* Nothing of an error response goes to the stage. */
        if (t->status == 0)
                (void) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
        if (t->status >= 300 && t->cfg->scheme != FEED_SCHEME_SFTP)
                return n;
        t->in_curl_callback = true;
        ok = body(t, data, n);
        t->in_curl_callback = false;
        return ok ? n : 0;
}

static void on_curl_done(CURL *easy, CURLcode result, void *userdata) {
        struct transfer *t = userdata;
        long status = 0;

        (void) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        t->status = status;
        curl_easy_cleanup(easy);
        t->easy = NULL;
        if (t->end == TRANSFER_FAILED) {
                /* Failed inside a callback (body too large, database gone). */
                transfer_finished(t);
                return;
        }
        if (result == CURLE_TOO_MANY_REDIRECTS) {
                transfer_fail(t, "too many redirects (%ld); the server may redirect in a loop", MAX_REDIRECTS);
                return;
        }
        if (result == CURLE_UNSUPPORTED_PROTOCOL && status >= 300 && status < 400) {
                transfer_fail(t, "the server redirects to a URL that is not https, which is never followed");
                return;
        }
        if (result != CURLE_OK) {
                transfer_fail(t, "%s", curl_easy_strerror(result));
                return;
        }
        if (t->cfg->scheme != FEED_SCHEME_SFTP) {
                if (status == 304)
                        t->end = TRANSFER_NOT_MODIFIED;
                else if (status < 200 || status >= 300) {
                        transfer_fail(t, "HTTP status %ld", status);
                        return;
                }
        }
        t->body_done = true;
        if (!t->paused)
                transfer_finished(t);
}

/* ---- from disk ---- */

static int on_file_readable(sd_event_source *s, void *userdata);

/* Opens a file feed's file, never blocking and never outside file_roots:
 * symlinks are resolved before the check, the file is opened without
 * following one and without waiting (a FIFO would wait for a writer for
 * ever), and what was opened is checked again through /proc, in case the
 * path changed in between. Anything but a regular file is refused before a
 * byte is read. 0 with t->fd open, or -errno with t->error set. */
static int file_open(struct transfer *t, struct stat *ret_st) {
        /* A drop folder's page is one of its files. */
        const char *path = t->cfg->drop ? t->url : t->cfg->path;
        _cleanup_free_ char *resolved = NULL, *opened = NULL;
        char proc[64];
        int k;

        k = path_resolve_under(path, t->cfg->file_roots, false, &resolved);
        if (k == -ENOMEM)
                return k;
        if (k == -EPERM) {
                transfer_fail(t, "%s is outside file_roots once its symlinks are followed; not read", path);
                return k;
        }
        if (k < 0) {
                transfer_fail(t, "cannot open %s: %s", path, strerror(-k));
                return k;
        }
        t->fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (t->fd < 0 || fstat(t->fd, ret_st) < 0) {
                k = -errno;
                transfer_fail(t, "cannot open %s: %s", path, strerror(-k));
                return k;
        }
        if (!S_ISREG(ret_st->st_mode)) {
                transfer_fail(t, "%s is not a regular file (a FIFO, device, socket or directory is never read)", path);
                return -EBADF;
        }
        (void) snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
        k = path_resolve_under(proc, t->cfg->file_roots, false, &opened);
        if (k == -ENOMEM)
                return k;
        if (k < 0) {
                transfer_fail(t, "%s changed while it was opened, to a file outside file_roots; not read", path);
                return -EPERM;
        }
        return 0;
}

/* File feeds are read here rather than by libcurl, whose file:// reads the
 * whole file in one call and cannot pause. Unchanged files (same inode,
 * size and modification time) are "not modified". */
static int file_setup(struct transfer *t, const char *etag) {
        struct stat st;
        int k;

        k = file_open(t, &st);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return 0;   /* failed, and said why */
        if (asprintf(&t->file_validator, "file:%llu:%llu:%lld:%lld.%09ld", (unsigned long long) st.st_dev,
                     (unsigned long long) st.st_ino, (long long) st.st_size, (long long) st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec) < 0)
                return -ENOMEM;
        if (etag && streq(etag, t->file_validator)) {
                t->end = TRANSFER_NOT_MODIFIED;
                t->body_done = true;
                transfer_finished(t);
                return 0;
        }
        k = sd_event_add_defer(t->event, &t->file_reader, on_file_readable, t);
        if (k < 0)
                return k;
        (void) sd_event_source_set_description(t->file_reader, "feed-file");
        return sd_event_source_set_enabled(t->file_reader, SD_EVENT_ON);
}

static int on_file_readable(sd_event_source *s _unused_, void *userdata) {
        struct transfer *t = userdata;
        char buf[FILE_CHUNK];
        ssize_t n;

        if (t->paused) {
                (void) sd_event_source_set_enabled(t->file_reader, SD_EVENT_OFF);
                return 0;
        }
        n = read(t->fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                        return 0;
                transfer_fail(t, "cannot read %s: %s", t->cfg->drop ? t->url : t->cfg->path, strerror(errno));
                return 0;
        }
        if (n == 0) {
                t->file_reader = sd_event_source_disable_unref(t->file_reader);
                t->body_done = true;
                if (!t->paused)
                        transfer_finished(t);
                return 0;
        }
        if (!body(t, buf, (size_t) n))
                return 0;
        if (t->paused)
                (void) sd_event_source_set_enabled(t->file_reader, SD_EVENT_OFF);
        return 0;
}

/* ---- the body into the COPY ---- */

static void flush_stage(struct transfer *t);

/* Feeds body bytes to the reader; false to stop the transfer. */
static bool body(struct transfer *t, const char *data, size_t n) {
        int k;

        t->bytes += n;
        if (t->bytes > t->cfg->max_body) {
                transfer_fail(t, "the body is larger than max_body (%llu bytes)",
                              (unsigned long long) t->cfg->max_body);
                return false;
        }
        if (t->digest && EVP_DigestUpdate(t->digest, data, n) != 1) {
                transfer_fail(t, "cannot compute the SHA-256 of the file");
                return false;
        }
        k = reader_feed(t->reader, data, n);
        if (k == -EBADMSG) {
                transfer_fail(t, "%s; nothing of this delivery was ingested", reader_error(t->reader));
                return false;
        }
        if (k < 0) {
                transfer_fail(t, "cannot read the body: %s", strerror(-k));
                return false;
        }
        if (t->stage.out.len >= COPY_CHUNK)
                flush_stage(t);
        return t->end != TRANSFER_FAILED;
}

static void on_drained(struct pgconn *c, int error, void *userdata);

/* Hands staged COPY text to libpq; pauses the source when libpq is full. */
static void flush_stage(struct transfer *t) {
        int k;

        if (t->stage.out.len == 0)
                return;
        k = pgconn_copy_put(t->pg, t->stage.out.data, t->stage.out.len, on_drained, t);
        buf_clear(&t->stage.out);
        if (k < 0) {
                transfer_fail(t, "database error while staging: %s", pgconn_error(t->pg));
                return;
        }
        if (k == 1)
                t->paused = true;
}

/* libpq has sent what it held: the source may go on. */
static void on_drained(struct pgconn *c _unused_, int error _unused_, void *userdata) {
        struct transfer *t = userdata;

        t->paused = false;
        flush_stage(t);
        if (t->paused)
                return;
        if (t->body_done) {
                transfer_finished(t);
                return;
        }
        if (t->easy)
                (void) curl_easy_pause(t->easy, CURLPAUSE_CONT);
        else if (t->file_reader)
                (void) sd_event_source_set_enabled(t->file_reader, SD_EVENT_ON);
}

/* ---- the end ---- */

static void transfer_fail(struct transfer *t, const char *fmt, ...) {
        va_list ap;

        if (t->end == TRANSFER_FAILED)
                return;
        t->end = TRANSFER_FAILED;
        va_start(ap, fmt);
        (void) vsnprintf(t->error, sizeof t->error, fmt, ap);
        va_end(ap);
        /* Inside libcurl's callback the handle must stay: the callback
         * returns an error and on_curl_done() carries on. */
        if (t->in_curl_callback)
                return;
        if (t->easy) {
                /* Stop the transfer now; its done callback will not come. */
                curl_glue_remove(t->glue, t->easy);
                curl_easy_cleanup(t->easy);
                t->easy = NULL;
        }
        t->file_reader = sd_event_source_disable_unref(t->file_reader);
        t->body_done = true;
        transfer_finished(t);
}

/* The body is complete (or the transfer failed): the reader's last record
 * goes out, and the caller ends the COPY. */
static void transfer_finished(struct transfer *t) {
        int k;

        if (t->end == TRANSFER_OK) {
                k = reader_finish(t->reader);
                if (k == -EBADMSG) {
                        transfer_fail(t, "%s; nothing of this delivery was ingested", reader_error(t->reader));
                        return;
                }
                if (k < 0) {
                        transfer_fail(t, "cannot read the body: %s", strerror(-k));
                        return;
                }
                flush_stage(t);
                if (t->end == TRANSFER_FAILED)
                        return;
                if (t->digest) {
                        unsigned char md[EVP_MAX_MD_SIZE];
                        unsigned len = 0;

                        if (EVP_DigestFinal_ex(t->digest, md, &len) != 1 || len != 32) {
                                transfer_fail(t, "cannot compute the SHA-256 of the file");
                                return;
                        }
                        for (unsigned i = 0; i < len; i++)
                                (void) snprintf(t->sha256 + 2 * i, 3, "%02x", md[i]);
                }
        }
        buf_clear(&t->stage.out);
        t->done(t, t->userdata);
}

void transfer_reset(struct transfer *t) {
        if (t->easy) {
                curl_glue_remove(t->glue, t->easy);
                curl_easy_cleanup(t->easy);
                t->easy = NULL;
        }
        curl_slist_free_all(t->headers);
        t->headers = NULL;
        t->file_reader = sd_event_source_disable_unref(t->file_reader);
        if (t->fd >= 0) {
                close(t->fd);
                t->fd = -1;
        }
        t->reader = reader_free(t->reader);
        stage_done(&t->stage);
        EVP_MD_CTX_free(t->digest);
        t->digest = NULL;
        t->sha256[0] = 0;
        t->paused = false;
        t->body_done = false;
        t->end = TRANSFER_OK;
        t->error[0] = 0;
        t->status = 0;
        t->bytes = 0;
        t->etag = mfree(t->etag);
        t->last_modified = mfree(t->last_modified);
        t->link_next = mfree(t->link_next);
        t->file_validator = mfree(t->file_validator);
        t->cfg = NULL;
        t->pg = NULL;
        t->url = NULL;
}

/* ---- paging ---- */

char *transfer_next_page(const struct transfer *t, const char **ret_error) {
        const struct feed_config *f = t->cfg;
        const char *next = f->paging.link ? t->link_next : t->stage.next;
        char *url = NULL, *base_host = NULL, *host = NULL, *base_scheme = NULL, *scheme = NULL, *base_port = NULL,
             *port = NULL;
        CURLU *u = NULL, *b = NULL;

        *ret_error = NULL;
        if (!next || !*next)
                return NULL;
        u = curl_url();
        b = curl_url();
        if (!u || !b || curl_url_set(b, CURLUPART_URL, f->url, 0) != CURLUE_OK)
                goto bad;
        if (f->paging.param) {
                _cleanup_free_ char *q = NULL;

                if (asprintf(&q, "%s=%s", f->paging.param, next) < 0 ||
                    curl_url_set(u, CURLUPART_URL, f->url, 0) != CURLUE_OK ||
                    curl_url_set(u, CURLUPART_QUERY, q, CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
                        goto bad;
        } else if (curl_url_set(u, CURLUPART_URL, f->url, 0) != CURLUE_OK ||
                   curl_url_set(u, CURLUPART_URL, next, 0) != CURLUE_OK) /* relative to the feed's URL */
                goto bad;
        if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_SCHEME, &base_scheme, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_HOST, &base_host, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
            curl_url_get(b, CURLUPART_PORT, &base_port, CURLU_DEFAULT_PORT) != CURLUE_OK)
                goto bad;
        /* A feed must not send us elsewhere with our credentials. */
        if (!streq(scheme, base_scheme) || strcasecmp(host, base_host) != 0 || !streq(port, base_port)) {
                *ret_error = "the next page's URL points to another site; paging stopped";
                goto done;
        }
        if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
                goto bad;
        goto done;
bad:
        *ret_error = "the next page's URL cannot be read; paging stopped";
done:
        curl_free(scheme);
        curl_free(base_scheme);
        curl_free(host);
        curl_free(base_host);
        curl_free(port);
        curl_free(base_port);
        curl_url_cleanup(u);
        curl_url_cleanup(b);
        if (url) {
                char *copy = strdup(url);

                curl_free(url);
                return copy;
        }
        return NULL;
}
