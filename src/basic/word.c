/* SPDX-License-Identifier: GPL-3.0-or-later */
/* UTF-8, letter case and normalised words. */
#include <errno.h>
#include <locale.h>
#include <string.h>
#include <wctype.h>

#include "bokvar/basic/word.h"

uint32_t utf8_next(const char *s, size_t n, size_t *i) {
        const unsigned char *u = (const unsigned char *) s + *i;
        size_t left = n - *i, len;
        uint32_t c;

        if (u[0] < 0x80) {
                (*i)++;
                return u[0];
        }
        if ((u[0] & 0xe0) == 0xc0)
                len = 2, c = u[0] & 0x1f;
        else if ((u[0] & 0xf0) == 0xe0)
                len = 3, c = u[0] & 0x0f;
        else if ((u[0] & 0xf8) == 0xf0)
                len = 4, c = u[0] & 0x07;
        else
                len = 0, c = 0;
        if (len == 0 || len > left) {
                (*i)++;
                return u[0];
        }
        for (size_t k = 1; k < len; k++) {
                if ((u[k] & 0xc0) != 0x80) {
                        (*i)++;
                        return u[0];
                }
                c = (c << 6) | (u[k] & 0x3f);
        }
        *i += len;
        return c;
}

size_t utf8_length(const char *s, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                k += ((unsigned char) s[i] & 0xc0) != 0x80;
        return k;
}

/* The C.UTF-8 locale, made once and kept for the process's life. */
static locale_t utf8_locale(void) {
        static locale_t l = (locale_t) 0;
        static bool tried = false;

        if (!tried) {
                tried = true;
                l = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        }
        return l;
}

uint32_t letter_upper(uint32_t c) {
        locale_t l;

        if (c < 0x80)
                return c >= 'a' && c <= 'z' ? c - 32 : c;
        l = utf8_locale();
        if (l)
                return (uint32_t) towupper_l((wint_t) c, l);
        /* à-þ but ÷, ð and þ, and ÿ. */
        if (c >= 0xe0 && c <= 0xfd && c != 0xf7 && c != 0xf0)
                return c - 32;
        return c == 0xff ? 0x178 : c;
}

uint32_t letter_lower(uint32_t c) {
        locale_t l;

        if (c < 0x80)
                return c >= 'A' && c <= 'Z' ? c + 32 : c;
        l = utf8_locale();
        if (l)
                return (uint32_t) towlower_l((wint_t) c, l);
        if (c >= 0xc0 && c <= 0xdd && c != 0xd7 && c != 0xd0)
                return c + 32;
        return c == 0x178 ? 0xff : c;
}

static bool is_word_punctuation(uint32_t c) {
        switch (c) {
        case ' ': case '\t': case 0xa0: case '.': case ',': case '-': case '/': case '\\': case '\'': case '"': case '#':
        case ':': case ';': case '(': case ')':
                return true;
        default:
                return false;
        }
}

int word_normalize(const char *t, struct buf *out) {
        size_t n = t ? strlen(t) : 0, i = 0, before = out->len;
        char *o;

        /* No capital takes more than twice the bytes it is made from
         * (two for a byte read as Latin-1, three for two): room for all
         * of it at once. */
        if (buf_reserve(out, 2 * n) < 0)
                return -ENOMEM;
        o = out->data + out->len;
        while (i < n) {
                uint32_t c = (unsigned char) t[i];

                if (c < 0x80) {
                        i++;
                        if (c >= 'a' && c <= 'z')
                                c -= 'a' - 'A';
                } else
                        c = letter_upper(utf8_next(t, n, &i));
                if (!is_word_punctuation(c))
                        o += utf8_encode(o, c);
        }
        out->len = (size_t) (o - out->data);
        out->data[out->len] = 0;
        return out->len > before;
}

int word_digits(const char *t, struct buf *out) {
        size_t before = out->len;

        for (; t && *t; t++)
                if (*t >= '0' && *t <= '9' && buf_putc(out, *t) < 0)
                        return -ENOMEM;
        return out->len > before;
}
