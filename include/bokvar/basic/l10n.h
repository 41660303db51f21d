/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Translations. Texts people read are written in English in the sources,
 * marked with _() (or N_() where only the mark is needed), extracted by
 * xgettext into po/bokvar.pot and translated in po/LANG.po; meson's i18n
 * module compiles each into a gettext .mo catalogue, and the build puts
 * the catalogues into the binaries (po/embed-mo.py).
 *
 * They are read here rather than through the C library's gettext(), which
 * reads the process's one locale: a web server answers each request in
 * the language of whoever asked, and a server need not have a Swedish or
 * Norwegian locale generated to speak it. Catalogues are immutable once
 * parsed; lookups allocate nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/macro.h"

struct catalog;

/* Parses a .mo catalogue for language lang ("sv"). data is kept by
 * reference and must outlive the catalogue. Only the plural rule of the
 * languages bokvar speaks (nplurals=2; plural=(n != 1)) is understood;
 * another gives -EOPNOTSUPP. A malformed file gives -EBADMSG. */
int catalog_parse(const char *lang, const void *data, size_t size, struct catalog **ret);
struct catalog *catalog_free(struct catalog *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct catalog *, catalog_free);

/* The language code the catalogue was made for. */
const char *catalog_lang(const struct catalog *c);
/* The translation of msgid, or msgid itself when there is none (or c is
 * NULL: the sources' own English). */
const char *catalog_gettext(const struct catalog *c, const char *msgid);
/* The form of msgid/msgid_plural for the number n. */
const char *catalog_ngettext(const struct catalog *c, const char *msgid, const char *msgid_plural, unsigned long n);
/* How many messages the catalogue translates. */
size_t catalog_size(const struct catalog *c);

/* The catalogues built into this binary (po/LINGUAS: Swedish, Norwegian
 * bokmål, English). l10n_find() parses them on first use; NULL when there
 * is none for lang. */
const struct catalog *l10n_find(const char *lang);
/* The languages built in, NULL-terminated, in the order of their codes. */
const char *const *l10n_languages(void);
/* lang itself if it is a language built in (the stable string of
 * l10n_languages()), else NULL. */
const char *l10n_known(const char *lang);

/* Which built-in language a browser asks for: the Accept-Language header's
 * language ranges (RFC 9110, 12.5.4) by their q-values, the first of equal
 * weight first; a range matches by its primary subtag ("sv-FI" is sv), and
 * Norwegian ("no", "nn") is served in bokmål. NULL when nothing it accepts
 * is built in (or the header is absent, or not one we can read). */
const char *l10n_negotiate(const char *accept_language);
/* The built-in language of a POSIX locale name ("nb_NO.UTF-8",
 * "sv_SE@euro"), or NULL ("C", "POSIX", a language not built in). */
const char *l10n_from_locale(const char *locale);
/* The language the environment names for messages, as the C library
 * decides it: the first of LC_ALL, LC_MESSAGES and LANG that is set and
 * not empty; NULL when that is no built-in language. */
const char *l10n_from_environment(void);
/* Frees what l10n_find() parsed (at exit, for leak checkers). */
void l10n_done(void);

/* The catalogue _() reads: whoever writes a text for a person sets it for
 * the time of writing (bokvar is single-threaded; nothing else switches it
 * meanwhile). NULL: English. */
void l10n_use(const struct catalog *c);
const struct catalog *l10n_current(void);
const char *l10n_gettext(const char *msgid);
const char *l10n_ngettext(const char *msgid, const char *msgid_plural, unsigned long n);
/* How many times, since the program started, _() was asked for a text the
 * catalogue in use does not translate (the English of the source was used
 * instead). Tests render every page and message and expect none. */
unsigned long l10n_misses(void);

/* Fills a translated sentence: %s takes the next argument, %N$s the Nth
 * (a translation may need another word order), %% is a percent sign.
 * args is NULL-terminated and holds text only. Returns -EINVAL for any
 * other conversion or a missing argument, -ENOMEM. The result is text:
 * who puts it in HTML escapes it (html_sentence does). */
int l10n_format(const char *fmt, const char *const *args, char **ret);

#define _(s) l10n_gettext(s)
#define N_(s) (s)

/* The built-in catalogues, written at build time by po/embed-mo.py. */
struct l10n_builtin {
        const char *lang;
        const unsigned char *data;
        size_t size;
};
extern const struct l10n_builtin l10n_builtins[];
extern const size_t n_l10n_builtins;
