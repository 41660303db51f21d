/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzzes what a browser's request hands bokvar-web before a page reads it:
 * the input is a POST body (urlencoded). Every field is read as text as a
 * form reads it (required or not, one line or several, short and long),
 * written back into a page (escaped) and into a link (percent-encoded),
 * and also taken as an Accept-Language header and as a session cookie with
 * a CSRF token. Whatever comes in: a refused body leaves nothing behind, a
 * text a form accepts is what form.h promises, what reaches the page can
 * neither open a tag nor leave an attribute, and a link's parameter is
 * percent-encoded whole. */
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/csrf.h"
#include "bokvar/web/form.h"
#include "bokvar/web/html.h"
#include "fuzz.h"

/* Escaped text: valid UTF-8, no markup character, each '&' an entity. */
static void check_escaped(const char *s, size_t n) {
        if (!utf8_valid(s, n, NULL))
                abort();
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c == '<' || c == '>' || c == '"' || c == '\'' || c == 0 || c == 0x7f ||
                    (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
                        abort();
                if (c == '&' && !startswith(s + i, "&amp;") && !startswith(s + i, "&lt;") &&
                    !startswith(s + i, "&gt;") && !startswith(s + i, "&quot;") && !startswith(s + i, "&#39;"))
                        abort();
        }
}

static bool upper_hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* A link's parameter: unreserved characters and %XX only. */
static void check_url_param(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '%') {
                        if (n - i < 3 || !upper_hex(s[i + 1]) || !upper_hex(s[i + 2]))
                                abort();
                        i += 2;
                } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                             c == '-' || c == '.' || c == '_' || c == '~'))
                        abort();
        }
}

/* A text form_text() accepted: valid UTF-8, no control characters but a
 * notes field's line breaks and tabs, trimmed, within its length. */
static void check_text(const char *t, size_t n, bool multiline, size_t max_chars) {
        size_t chars = 0;

        if (n == 0 || !utf8_valid(t, n, NULL) || strchr(" \t\r\n", t[0]) || strchr(" \t\r\n", t[n - 1]))
                abort();
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) t[i];

                if (c == 0x7f || (c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))))
                        abort();
                if ((c & 0xc0) != 0x80)
                        chars++;
        }
        if (chars > max_chars)
                abort();
}

static void check_field(const struct form *f, const struct form_field *fl, const struct csrf_key *key) {
        static const size_t limits[] = { 1, 16, 200, 4000 };
        struct html h;
        char *page = NULL;
        size_t page_len = 0;
        const char *lang;

        /* As each kind of form field reads it. form_get() finds a name's
         * first value, and a name stops at a NUL (%00). */
        for (unsigned k = 0; k < 16; k++) {
                bool required = k & 1, multiline = k & 2;
                size_t max_chars = limits[k >> 2], n = 0;
                const char *t = NULL;
                enum form_problem p = form_text(f, fl->name, required, multiline, max_chars, &t, &n);

                if (p == FORM_OK && t)
                        check_text(t, n, multiline, max_chars);
                else if (p == FORM_OK ? required || n != 0 : t != NULL || n != 0)
                        abort();
        }

        /* Back into a page, as a refused form shows what was typed, and
         * into a link. */
        html_init(&h);
        html_text_n(&h, fl->value, fl->value_len);
        if (html_steal(&h, &page, &page_len) < 0)
                abort();
        check_escaped(page, page_len);
        free(page);
        html_done(&h);
        html_init(&h);
        html_url_param(&h, fl->value);
        if (html_steal(&h, &page, &page_len) < 0)
                abort();
        check_url_param(page, page_len);
        free(page);
        html_done(&h);

        /* The same bytes as headers. */
        lang = l10n_negotiate(fl->value);
        if (lang && !l10n_known(lang))
                abort();
        /* A token is the session's MAC: never the session itself. */
        if (csrf_check(key, fl->value, "anna.k", fl->value))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char secret[] = "a key for the fuzzer's tokens, 32+ bytes long";
        struct csrf_key key = {};
        struct form f = {};
        int r;

        if (csrf_key_init(&key, secret, sizeof secret - 1) < 0)
                abort();
        /* A refused body (a broken %-escape, too many fields) must free
         * what it had read: LeakSanitizer watches. */
        r = form_parse((const char *) data, size, &f);
        if (r >= 0) {
                if (f.n > FORM_MAX_FIELDS)
                        abort();
                for (size_t i = 0; i < f.n; i++)
                        check_field(&f, &f.fields[i], &key);
                form_done(&f);
        }
        csrf_key_done(&key);
        return 0;
}
