/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Strings, growable buffers and whole-file reads. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bokvar/basic/util.h"

void *greedy_realloc(void **p, size_t *allocated, size_t need, size_t sz) {
        size_t n, bytes;
        void *q;

        if (*allocated >= need)
                return *p;

        n = MAX(need, *allocated * 2);
        n = MAX(n, (size_t) 8);
        if (!size_mul_ok(n, sz, &bytes))
                return NULL;
        q = realloc(*p, bytes);
        if (!q)
                return NULL;
        *p = q;
        *allocated = n;
        return q;
}

const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);

        if (strncmp(s, prefix, l) != 0)
                return NULL;
        return s + l;
}

bool url_host_is_loopback(const char *rest) {
        size_t n;

        /* [::1]:port keeps its brackets; anything with userinfo is refused. */
        if (rest[0] == '[')
                n = strcspn(rest, "]") + 1;
        else
                n = strcspn(rest, ":/?#");
        if (memchr(rest, '@', strcspn(rest, "/?#")))
                return false;
        if (rest[n] && !strchr(":/?#", rest[n]))
                return false;
        if (n == 9 && strncmp(rest, "localhost", 9) == 0)
                return true;
        if (n == 5 && strncmp(rest, "[::1]", 5) == 0)
                return true;
        return n >= 7 && strncmp(rest, "127.", 4) == 0 && strspn(rest, "0123456789.") == n;
}

int strdup_or_null(const char *s, char **ret) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        *ret = c;
        return 0;
}

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl;
        char *c;

        c = strdup(s);
        if (!c)
                return -ENOMEM;
        nl = reallocarray(*l, n + 2, sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[n] = c;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int buf_reserve(struct buf *b, size_t extra) {
        size_t need;

        if (__builtin_add_overflow(b->len, extra, &need) || __builtin_add_overflow(need, 1, &need))
                return -ENOMEM;
        if (need <= b->cap)
                return 0;
        if (!GREEDY_REALLOC(b->data, b->cap, need))
                return -ENOMEM;
        return 0;
}

int buf_put(struct buf *b, const void *p, size_t n) {
        if (buf_reserve(b, n) < 0)
                return -ENOMEM;
        if (n > 0)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int buf_puts(struct buf *b, const char *s) {
        return buf_put(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap) {
        va_list aq;
        int n;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        if (buf_reserve(b, (size_t) n) < 0)
                return -ENOMEM;
        (void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
        b->len += (size_t) n;
        return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

int buf_put_json_string(struct buf *b, const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        size_t start = 0;

        /* Worst case every byte becomes \u00XX: reserve once. */
        if (buf_reserve(b, n * 6 + 2) < 0)
                return -ENOMEM;
        b->data[b->len++] = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char *o;

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                memcpy(b->data + b->len, s + start, i - start);
                b->len += i - start;
                start = i + 1;
                o = b->data + b->len;
                switch (c) {
                case '"': o[0] = '\\'; o[1] = '"'; b->len += 2; break;
                case '\\': o[0] = '\\'; o[1] = '\\'; b->len += 2; break;
                case '\n': o[0] = '\\'; o[1] = 'n'; b->len += 2; break;
                case '\r': o[0] = '\\'; o[1] = 'r'; b->len += 2; break;
                case '\t': o[0] = '\\'; o[1] = 't'; b->len += 2; break;
                default:
                        memcpy(o, "\\u00", 4);
                        o[4] = hex[c >> 4];
                        o[5] = hex[c & 15];
                        b->len += 6;
                }
        }
        memcpy(b->data + b->len, s + start, n - start);
        b->len += n - start;
        b->data[b->len++] = '"';
        b->data[b->len] = 0;
        return 0;
}

int buf_put_terminal_text(struct buf *b, const char *s, bool tab_newline) {
        size_t n = strlen(s), i = 0;

        while (i < n) {
                unsigned char c = (unsigned char) s[i];
                size_t len = 1;
                int r;

                if (c >= 0x80) {
                        /* A whole UTF-8 sequence, or one byte that is not one. */
                        len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
                        if (len > n - i || !utf8_valid(s + i, len, NULL))
                                len = 1;
                }
                if (c == '\t' || c == '\n')
                        r = tab_newline ? buf_puts(b, c == '\t' ? "\\t" : "\\n") : buf_putc(b, (char) c);
                else if (c < 0x20 || c == 0x7f || (len == 1 && c >= 0x80))
                        r = buf_printf(b, "\\x%02X", c);
                else if (len == 2 && c == 0xc2 && (unsigned char) s[i + 1] < 0xa0)
                        r = buf_printf(b, "\\x%02X\\x%02X", c, (unsigned char) s[i + 1]);
                else
                        r = buf_put(b, s + i, len);
                if (r < 0)
                        return r;
                i += len;
        }
        return buf_put(b, "", 0);
}

void buf_free(struct buf *b) {
        b->data = mfree(b->data);
        b->len = b->cap = 0;
}

char *buf_steal(struct buf *b) {
        char *s = b->data;

        if (!s)
                s = strdup("");
        b->data = NULL;
        b->len = b->cap = 0;
        return s;
}

int read_full_file(const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *data = NULL;
        size_t size = 0, cap = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (uint64_t) st.st_size > max_size)
                return -EFBIG;

        for (;;) {
                ssize_t n;

                if (!GREEDY_REALLOC(data, cap, MIN(size + 65536, max_size + 2)))
                        return -ENOMEM;
                n = read(fd, data + size, cap - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max_size)
                        return -EFBIG;
        }
        if (!data && !(data = malloc(1)))
                return -ENOMEM;
        data[size] = 0;
        *ret = TAKE_PTR(data);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int path_dirname(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');
        char *d;

        if (!slash)
                d = strdup(".");
        else if (slash == path)
                d = strdup("/");
        else
                d = strndup(path, (size_t) (slash - path));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

int path_join_relative(const char *dir, const char *path, char **ret) {
        char *p;

        if (path[0] == '/')
                p = strdup(path);
        else if (asprintf(&p, "%s/%s", dir, path) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

bool path_has_dotdot(const char *path) {
        for (const char *p = path; (p = strstr(p, "..")); p += 2)
                if ((p == path || p[-1] == '/') && (p[2] == 0 || p[2] == '/'))
                        return true;
        return false;
}

bool path_is_under(const char *path, const char *root) {
        size_t n = strlen(root);

        while (n > 1 && root[n - 1] == '/')
                n--;
        if (n == 1 && root[0] == '/')
                return path[0] == '/';
        return strncmp(path, root, n) == 0 && (path[n] == 0 || path[n] == '/');
}

int path_resolve_under(const char *path, char *const *roots, bool allow_missing, char **ret) {
        _cleanup_free_ char *resolved = realpath(path, NULL);

        if (!resolved && errno == ENOENT && allow_missing) {
                _cleanup_free_ char *dir = NULL, *rdir = NULL;
                const char *base = strrchr(path, '/');

                if (path_dirname(path, &dir) < 0)
                        return -ENOMEM;
                rdir = realpath(dir, NULL);
                if (!rdir)
                        return -errno;
                if (asprintf(&resolved, "%s/%s", streq(rdir, "/") ? "" : rdir, base ? base + 1 : path) < 0)
                        return -ENOMEM;
        }
        if (!resolved)
                return -errno;
        for (size_t i = 0; roots && roots[i]; i++) {
                _cleanup_free_ char *root = realpath(roots[i], NULL);

                if (root && path_is_under(resolved, root)) {
                        *ret = TAKE_PTR(resolved);
                        return 0;
                }
        }
        return -EPERM;
}

size_t utf8_encode(char *o, uint32_t c) {
        if (c < 0x80) {
                o[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                o[0] = (char) (0xc0 | (c >> 6));
                o[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                o[0] = (char) (0xe0 | (c >> 12));
                o[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                o[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        o[0] = (char) (0xf0 | (c >> 18));
        o[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        o[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        o[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

int utf8_put(struct buf *out, uint32_t c) {
        char e[4];

        if (c < 0x80)
                return buf_putc(out, (char) c);
        return buf_put(out, e, utf8_encode(e, c));
}

size_t ascii_prefix(const char *s, size_t n) {
        size_t i = 0;

        for (; i + 8 <= n; i += 8) {
                uint64_t w;

                memcpy(&w, s + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                        break;
        }
        while (i < n && (unsigned char) s[i] < 0x80)
                i++;
        return i;
}

bool utf8_valid(const char *s, size_t n, size_t *ret_bad) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;

        while (i < n) {
                unsigned char c = p[i];
                size_t len;
                uint32_t cp;

                if (c < 0x80) {
                        i += ascii_prefix(s + i, n - i);
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        len = 2;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        len = 3;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        len = 4;
                        cp = c & 0x07;
                } else
                        goto bad;
                if (n - i < len)
                        goto bad;
                for (size_t k = 1; k < len; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                goto bad;
                        cp = (cp << 6) | (p[i + k] & 0x3f);
                }
                /* Overlong forms, surrogates and values past U+10FFFF. */
                if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        goto bad;
                i += len;
        }
        return true;
bad:
        if (ret_bad)
                *ret_bad = i;
        return false;
}

const char *fmt_i64(char buf[static 21], int64_t v) {
        (void) snprintf(buf, 21, "%" PRId64, v);
        return buf;
}
