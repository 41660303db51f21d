/* SPDX-License-Identifier: GPL-3.0-or-later */
/* gettext .mo catalogues, read directly. The format (GNU gettext manual,
 * "The Format of GNU MO Files"): a header of 32-bit words in the writer's
 * byte order (magic, revision, count, offset of the originals' table,
 * offset of the translations' table, hash table), then for each table
 * count (length, offset) pairs. msgfmt sorts the originals, so a lookup is
 * a binary search. A plural entry's original is msgid NUL msgid_plural, its
 * translation the forms NUL-separated. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"

#define MO_MAGIC 0x950412deU
#define MO_MAGIC_SWAPPED 0xde120495U

struct mo_string {
        const char *s;
        size_t len;       /* without the terminating NUL */
};

struct catalog {
        char *lang;
        size_t n;
        struct mo_string *originals;     /* sorted, as msgfmt wrote them */
        struct mo_string *translations;
};

static uint32_t word(const unsigned char *p, bool swapped) {
        uint32_t v;

        memcpy(&v, p, sizeof v);
        return swapped ? __builtin_bswap32(v) : v;
}

/* Reads table entry i at table offset t: a string inside the file, NUL-terminated. */
static int read_string(const unsigned char *data, size_t size, size_t t, size_t i, bool swapped,
                       struct mo_string *ret) {
        size_t at = t + i * 8, len, off;

        if (at > size || size - at < 8)
                return -EBADMSG;
        len = word(data + at, swapped);
        off = word(data + at + 4, swapped);
        if (off > size || size - off <= len || data[off + len] != 0)
                return -EBADMSG;
        *ret = (struct mo_string){ (const char *) data + off, len };
        return 0;
}

/* The header entry (the empty msgid's translation) says how plurals are
 * chosen; bokvar's languages all have two forms, the second for n != 1. */
static int check_plural_forms(const struct mo_string *header) {
        const char *p = header->s ? strstr(header->s, "Plural-Forms:") : NULL;
        char rule[128];
        size_t j = 0;

        if (!p)
                return 0;     /* no plural forms declared: the English rule */
        p += strlen("Plural-Forms:");
        for (; *p && *p != '\n' && j < sizeof rule - 1; p++)
                if (*p != ' ' && *p != '\t')
                        rule[j++] = *p;
        rule[j] = 0;
        if (streq(rule, "nplurals=2;plural=(n!=1);") || streq(rule, "nplurals=2;plural=n!=1;") ||
            streq(rule, "nplurals=2;plural=(n!=1)") || streq(rule, "nplurals=2;plural=n!=1"))
                return 0;
        return -EOPNOTSUPP;
}

int catalog_parse(const char *lang, const void *data_, size_t size, struct catalog **ret) {
        _cleanup_(catalog_freep) struct catalog *c = NULL;
        const unsigned char *data = data_;
        uint32_t magic, n, to, tt;
        bool swapped;
        int r;

        if (size < 28)
                return -EBADMSG;
        memcpy(&magic, data, sizeof magic);
        if (magic == MO_MAGIC)
                swapped = false;
        else if (magic == MO_MAGIC_SWAPPED)
                swapped = true;
        else
                return -EBADMSG;
        if (word(data + 4, swapped) >> 16 != 0)    /* major revision 0 is all there is */
                return -EBADMSG;
        n = word(data + 8, swapped);
        to = word(data + 12, swapped);
        tt = word(data + 16, swapped);
        if (n > size / 16)
                return -EBADMSG;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->lang = strdup(lang);
        c->originals = calloc(n ? n : 1, sizeof *c->originals);
        c->translations = calloc(n ? n : 1, sizeof *c->translations);
        if (!c->lang || !c->originals || !c->translations)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = read_string(data, size, to, i, swapped, &c->originals[i]);
                if (r < 0)
                        return r;
                r = read_string(data, size, tt, i, swapped, &c->translations[i]);
                if (r < 0)
                        return r;
                /* A binary search needs the order msgfmt promises. */
                if (i > 0 && strcmp(c->originals[i - 1].s, c->originals[i].s) >= 0)
                        return -EBADMSG;
        }
        c->n = n;
        if (n > 0 && c->originals[0].len == 0) {
                r = check_plural_forms(&c->translations[0]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

struct catalog *catalog_free(struct catalog *c) {
        if (!c)
                return NULL;
        free(c->lang);
        free(c->originals);
        free(c->translations);
        return mfree(c);
}

const char *catalog_lang(const struct catalog *c) {
        return c ? c->lang : "en";
}

size_t catalog_size(const struct catalog *c) {
        return c && c->n > 0 && c->originals[0].len == 0 ? c->n - 1 : c ? c->n : 0;
}

/* The index of the entry whose original starts with key (of klen bytes,
 * followed in the original by NUL: the end or the plural's separator). */
static const struct mo_string *lookup(const struct catalog *c, const char *key, size_t klen) {
        size_t lo = 0, hi;

        if (!c)
                return NULL;
        hi = c->n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct mo_string *o = &c->originals[mid];
                /* The original's first string (before a plural's NUL) against the key. */
                int k = strncmp(o->s, key, klen);

                if (k == 0)
                        k = o->s[klen] == 0 ? 0 : 1;
                if (k == 0)
                        return c->translations[mid].len > 0 ? &c->translations[mid] : NULL;
                if (k < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

const char *catalog_gettext(const struct catalog *c, const char *msgid) {
        const struct mo_string *t;

        if (isempty(msgid))
                return msgid;
        t = lookup(c, msgid, strlen(msgid));
        return t ? t->s : msgid;
}

const char *catalog_ngettext(const struct catalog *c, const char *msgid, const char *msgid_plural, unsigned long n) {
        const struct mo_string *t = isempty(msgid) ? NULL : lookup(c, msgid, strlen(msgid));
        const char *form;

        if (!t)
                return n == 1 ? msgid : msgid_plural;
        form = t->s;
        if (n != 1) {
                /* The second form, if the translation has one. */
                size_t first = strlen(form);

                if (first < t->len)
                        form += first + 1;
        }
        return form;
}

static struct catalog **parsed;
static bool parsed_all;
static const struct catalog *current;
static unsigned long misses;

const struct catalog *l10n_find(const char *lang) {
        if (!parsed_all) {
                parsed = calloc(n_l10n_builtins + 1, sizeof *parsed);
                if (!parsed)
                        return NULL;
                for (size_t i = 0; i < n_l10n_builtins; i++)
                        /* The build checked each with msgfmt --check; one that
                         * still does not parse is left out (English then). */
                        (void) catalog_parse(l10n_builtins[i].lang, l10n_builtins[i].data, l10n_builtins[i].size,
                                             &parsed[i]);
                parsed_all = true;
        }
        for (size_t i = 0; lang && i < n_l10n_builtins; i++)
                if (parsed[i] && streq(l10n_builtins[i].lang, lang))
                        return parsed[i];
        return NULL;
}

const char *const *l10n_languages(void) {
        static const char *langs[16];

        for (size_t i = 0; i < n_l10n_builtins && i < ELEMENTSOF(langs) - 1; i++)
                langs[i] = l10n_builtins[i].lang;
        return langs;
}

const char *l10n_known(const char *lang) {
        for (const char *const *l = l10n_languages(); lang && *l; l++)
                if (streq(*l, lang))
                        return *l;
        return NULL;
}

/* The built-in language of a primary language subtag (n bytes, any case). */
static const char *primary_language(const char *tag, size_t n) {
        char lower[9];

        if (n == 0 || n >= sizeof lower)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                char c = tag[i];

                if (c >= 'A' && c <= 'Z')
                        c = (char) (c - 'A' + 'a');
                if (c < 'a' || c > 'z')
                        return NULL;
                lower[i] = c;
        }
        lower[n] = 0;
        /* Norwegian, and nynorsk, read bokmål rather than Swedish or English. */
        if (streq(lower, "no") || streq(lower, "nn"))
                return l10n_known("nb");
        return l10n_known(lower);
}

/* A q-value (RFC 9110: 0, 0.xxx, 1, 1.000) in thousandths, or -1. */
static int qvalue(const char *s, size_t n) {
        int q = 0, scale = 100;

        if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && s[1] != '.') || n > 5)
                return -1;
        for (size_t i = 2; i < n; i++, scale /= 10) {
                if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
                        return -1;
                q += (s[i] - '0') * scale;
        }
        return s[0] == '1' ? 1000 : q;
}

static bool blank(char c) {
        return c == ' ' || c == '\t';
}

const char *l10n_negotiate(const char *header) {
        const char *best = NULL, *p = header;
        int best_q = 0;

        /* A browser sends a handful; a header of hundreds is not read to the end. */
        for (unsigned k = 0; p && *p && k < 32; k++) {
                const char *end = p + strcspn(p, ","), *range = p, *range_end, *sub_end;
                const char *lang;
                int q = 1000;

                while (range < end && blank(*range))
                        range++;
                for (range_end = range; range_end < end && *range_end != ';' && !blank(*range_end); range_end++)
                        ;
                /* Parameters: only q counts ("; q=0.8"); a q we cannot read
                 * makes the range count for nothing. */
                for (const char *a = range_end; a < end;) {
                        const char *param_end, *value, *trimmed;

                        while (a < end && (blank(*a) || *a == ';'))
                                a++;
                        for (param_end = a; param_end < end && *param_end != ';'; param_end++)
                                ;
                        for (trimmed = param_end; trimmed > a && blank(trimmed[-1]); trimmed--)
                                ;
                        /* "q=0.8", and leniently "q = 0.8" */
                        for (value = a + 1; value < trimmed && blank(*value); value++)
                                ;
                        if (a < trimmed && (a[0] == 'q' || a[0] == 'Q') && value < trimmed && *value == '=') {
                                for (value++; value < trimmed && blank(*value); value++)
                                        ;
                                q = qvalue(value, (size_t) (trimmed - value));
                        }
                        a = param_end;
                }
                for (sub_end = range; sub_end < range_end && *sub_end != '-'; sub_end++)
                        ;
                lang = primary_language(range, (size_t) (sub_end - range));
                if (lang && q > best_q) {
                        best = lang;
                        best_q = q;
                }
                p = *end == ',' ? end + 1 : end;
        }
        return best;
}

const char *l10n_from_locale(const char *locale) {
        if (isempty(locale))
                return NULL;
        return primary_language(locale, strcspn(locale, "_.@"));
}

const char *l10n_from_environment(void) {
        static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                const char *v = getenv(vars[i]);

                if (!isempty(v))
                        return l10n_from_locale(v);
        }
        return NULL;
}

void l10n_done(void) {
        for (size_t i = 0; parsed && i < n_l10n_builtins; i++)
                catalog_free(parsed[i]);
        parsed = mfree(parsed);
        parsed_all = false;
        current = NULL;
}

void l10n_use(const struct catalog *c) {
        current = c;
}

const struct catalog *l10n_current(void) {
        return current;
}

const char *l10n_gettext(const char *msgid) {
        const struct mo_string *t;

        if (!current || isempty(msgid))
                return msgid;
        t = lookup(current, msgid, strlen(msgid));
        if (!t) {
                misses++;
                return msgid;
        }
        return t->s;
}

const char *l10n_ngettext(const char *msgid, const char *msgid_plural, unsigned long n) {
        if (current && !isempty(msgid) && !lookup(current, msgid, strlen(msgid)))
                misses++;
        return catalog_ngettext(current, msgid, msgid_plural, n);
}

unsigned long l10n_misses(void) {
        return misses;
}

int l10n_format(const char *fmt, const char *const *args, char **ret) {
        struct buf out = {};
        size_t next = 0, n_args = 0;
        int r = 0;

        while (args[n_args])
                n_args++;
        for (const char *p = fmt; *p && r >= 0; p++) {
                size_t k;

                if (*p != '%') {
                        r = buf_putc(&out, *p);
                        continue;
                }
                p++;
                if (*p == '%') {
                        r = buf_putc(&out, '%');
                        continue;
                }
                if (*p == 's')
                        k = next++;
                else if (*p >= '1' && *p <= '9' && p[1] == '$' && p[2] == 's') {
                        k = (size_t) (*p - '1');
                        p += 2;
                } else {
                        r = -EINVAL;
                        break;
                }
                if (k >= n_args) {
                        r = -EINVAL;
                        break;
                }
                r = buf_puts(&out, args[k]);
        }
        if (r < 0) {
                buf_free(&out);
                return r == -EINVAL ? r : -ENOMEM;
        }
        *ret = buf_steal(&out);
        return *ret ? 0 : -ENOMEM;
}
