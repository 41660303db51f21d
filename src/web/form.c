/* SPDX-License-Identifier: GPL-3.0-or-later */
/* urlencoded form bodies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/util.h"
#include "bokvar/web/form.h"

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decodes n bytes of s ('+' is a space, %XX a byte) into a new string. */
static int decode(const char *s, size_t n, char **ret, size_t *ret_len) {
        char *out = malloc(n + 1), *o = out;

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '+')
                        *o++ = ' ';
                else if (s[i] == '%') {
                        int hi, lo;

                        if (n - i < 3 || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0) {
                                free(out);
                                return -EBADMSG;
                        }
                        *o++ = (char) (hi << 4 | lo);
                        i += 2;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        *ret = out;
        *ret_len = (size_t) (o - out);
        return 0;
}

int form_parse(const char *body, size_t len, struct form *ret) {
        struct form f = {};
        size_t i = 0;
        int r;

        while (i < len) {
                size_t end = i, eq;
                struct form_field *fl;
                size_t name_len;

                while (end < len && body[end] != '&')
                        end++;
                if (end == i) {         /* "a=1&&b=2": nothing between */
                        i = end + 1;
                        continue;
                }
                if (f.n >= FORM_MAX_FIELDS) {
                        form_done(&f);
                        return -E2BIG;
                }
                fl = realloc(f.fields, (f.n + 1) * sizeof *f.fields);
                if (!fl) {
                        form_done(&f);
                        return -ENOMEM;
                }
                f.fields = fl;
                fl = &f.fields[f.n];
                *fl = (struct form_field){};
                for (eq = i; eq < end && body[eq] != '='; eq++)
                        ;
                r = decode(body + i, eq - i, &fl->name, &name_len);
                if (r >= 0)
                        r = decode(body + MIN(eq + 1, end), end - MIN(eq + 1, end), &fl->value, &fl->value_len);
                f.n++;
                if (r < 0) {
                        form_done(&f);
                        return r;
                }
                i = end + 1;
        }
        *ret = f;
        return 0;
}

void form_done(struct form *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->fields[i].name);
                free(f->fields[i].value);
        }
        free(f->fields);
        *f = (struct form){};
}

const char *form_get(const struct form *f, const char *name, size_t *ret_len) {
        for (size_t i = 0; f && i < f->n; i++)
                if (streq(f->fields[i].name, name)) {
                        if (ret_len)
                                *ret_len = f->fields[i].value_len;
                        return f->fields[i].value;
                }
        return NULL;
}

/* Characters (UTF-8 sequences) in s, which is valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char) s[i] & 0xc0) != 0x80)
                        k++;
        return k;
}

enum form_problem form_text(const struct form *f, const char *name, bool required, bool multiline, size_t max_chars,
                            const char **ret, size_t *ret_len) {
        size_t len = 0, start = 0;
        const char *v = form_get(f, name, &len);

        *ret = NULL;
        *ret_len = 0;
        if (!v)
                return required ? FORM_MISSING : FORM_OK;
        if (!utf8_valid(v, len, NULL))
                return FORM_NOT_TEXT;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) v[i];

                if ((c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f)
                        return FORM_NOT_TEXT;
        }
        while (start < len && strchr(" \t\r\n", v[start]))
                start++;
        while (len > start && strchr(" \t\r\n", v[len - 1]))
                len--;
        if (len == start)
                return required ? FORM_MISSING : FORM_OK;
        if (utf8_chars(v + start, len - start) > max_chars)
                return FORM_TOO_LONG;
        *ret = v + start;
        *ret_len = len - start;
        return FORM_OK;
}

void form_errors_add(struct form_errors *fe, const char *field, const char *message) {
        if (fe->n >= FORM_MAX_ERRORS)
                return;
        for (size_t i = 0; i < fe->n; i++)
                if (streq_ptr(fe->e[i].field, field))
                        return;
        fe->e[fe->n].field = field;
        fe->e[fe->n].message = message;
        fe->n++;
}

const char *form_errors_get(const struct form_errors *fe, const char *field) {
        for (size_t i = 0; fe && i < fe->n; i++)
                if (streq_ptr(fe->e[i].field, field))
                        return fe->e[i].message;
        return NULL;
}
