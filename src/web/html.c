/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Escaping HTML writer. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/web/html.h"

void html_init(struct html *h) {
        *h = (struct html){};
}

void html_done(struct html *h) {
        buf_free(&h->out);
        h->error = 0;
}

int html_steal(struct html *h, char **ret, size_t *ret_len) {
        size_t len = h->out.len;
        char *s;

        if (h->error < 0) {
                int e = h->error;

                html_done(h);
                return e;
        }
        s = buf_steal(&h->out);
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_len = len;
        return 0;
}

static void put(struct html *h, const char *s, size_t n) {
        if (h->error < 0)
                return;
        if (buf_put(&h->out, s, n) < 0)
                h->error = -ENOMEM;
}

void html_markup_internal(struct html *h, const char *literal) {
        put(h, literal, strlen(literal));
}

/* The length of the UTF-8 sequence at s (of n bytes), or 0 when it is
 * not one, or a C1 control character, which HTML does not allow either. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
        size_t len = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

        if (len > n || !utf8_valid((const char *) s, len, NULL))
                return 0;
        if (s[0] == 0xc2 && s[1] < 0xa0)
                return 0;
        return len;
}

int html_escape(struct buf *out, const char *s_, size_t n) {
        const unsigned char *s = (const unsigned char *) s_;
        size_t i = 0, plain = 0;
        int r = 0;

        while (i < n && r >= 0) {
                const char *rep = NULL;
                size_t len = 1;

                switch (s[i]) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '"': rep = "&quot;"; break;
                case '\'': rep = "&#39;"; break;
                case '\t': case '\n': case '\r': break;
                default:
                        if (s[i] < 0x20 || s[i] == 0x7f)
                                rep = "\xef\xbf\xbd";
                        else if (s[i] >= 0x80) {
                                len = utf8_seq(s + i, n - i);
                                if (len == 0) {
                                        rep = "\xef\xbf\xbd";
                                        len = 1;
                                }
                        }
                }
                if (!rep) {
                        i += len;
                        continue;
                }
                r = buf_put(out, s + plain, i - plain);
                if (r >= 0)
                        r = buf_puts(out, rep);
                i += len;
                plain = i;
        }
        if (r >= 0)
                r = buf_put(out, s + plain, i - plain);
        return r < 0 ? -ENOMEM : 0;
}

void html_text_n(struct html *h, const char *s, size_t n) {
        if (h->error < 0 || !s)
                return;
        if (html_escape(&h->out, s, n) < 0)
                h->error = -ENOMEM;
}

void html_text(struct html *h, const char *s) {
        if (s)
                html_text_n(h, s, strlen(s));
}

void html_url_param(struct html *h, const char *s) {
        static const char hex[] = "0123456789ABCDEF";

        for (const unsigned char *p = (const unsigned char *) s; p && *p && h->error >= 0; p++) {
                if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                    strchr("-._~", *p))
                        put(h, (const char *) p, 1);
                else {
                        char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };

                        put(h, e, 3);
                }
        }
}

/* A number conversion of the format, written with snprintf. */
static void put_number(struct html *h, const char *spec, size_t spec_len, va_list *ap) {
        char num[32];
        int k;

        if (spec_len == 1 && (spec[0] == 'd' || spec[0] == 'i'))
                k = snprintf(num, sizeof num, "%d", va_arg(*ap, int));
        else if (spec_len == 1 && spec[0] == 'u')
                k = snprintf(num, sizeof num, "%u", va_arg(*ap, unsigned));
        else if (spec_len == 2 && spec[0] == 'l' && (spec[1] == 'd' || spec[1] == 'i'))
                k = snprintf(num, sizeof num, "%ld", va_arg(*ap, long));
        else if (spec_len == 2 && spec[0] == 'l' && spec[1] == 'u')
                k = snprintf(num, sizeof num, "%lu", va_arg(*ap, unsigned long));
        else if (spec_len == 3 && spec[0] == 'l' && spec[1] == 'l' && (spec[2] == 'd' || spec[2] == 'i'))
                k = snprintf(num, sizeof num, "%lld", va_arg(*ap, long long));
        else if (spec_len == 3 && spec[0] == 'l' && spec[1] == 'l' && spec[2] == 'u')
                k = snprintf(num, sizeof num, "%llu", va_arg(*ap, unsigned long long));
        else if (spec_len == 2 && spec[0] == 'z' && spec[1] == 'u')
                k = snprintf(num, sizeof num, "%zu", va_arg(*ap, size_t));
        else {
                /* A conversion the writer does not know: its argument cannot be
                 * skipped safely, so the page fails. */
                h->error = -EINVAL;
                return;
        }
        if (k > 0)
                put(h, num, (size_t) k);
}

void html_printf_internal(struct html *h, const char *fmt, ...) {
        va_list ap;
        const char *p = fmt;

        va_start(ap, fmt);
        while (*p && h->error >= 0) {
                const char *pct = strchr(p, '%');
                size_t spec_len;

                if (!pct) {
                        put(h, p, strlen(p));
                        break;
                }
                put(h, p, (size_t) (pct - p));
                p = pct + 1;
                if (*p == '%') {
                        put(h, "%", 1);
                        p++;
                        continue;
                }
                if (*p == 's') {
                        html_text(h, va_arg(ap, const char *));
                        p++;
                        continue;
                }
                spec_len = strspn(p, "lz");
                if (!p[spec_len]) {
                        h->error = -EINVAL;
                        break;
                }
                spec_len++;
                put_number(h, p, spec_len, &ap);
                p += spec_len;
        }
        va_end(ap);
}

void html_sentence_internal(struct html *h, const char *fmt, const char *const *args) {
        _cleanup_free_ char *s = NULL;
        int r;

        if (h->error < 0)
                return;
        r = l10n_format(fmt, args, &s);
        if (r < 0) {
                h->error = r;
                return;
        }
        html_text(h, s);
}
