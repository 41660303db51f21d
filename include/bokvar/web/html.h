/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one way bokvar-web writes HTML. Everything that is not the program's
 * own markup is escaped here, and nowhere else:
 *
 *   html_markup(h, "<p>")                          markup: string literals only
 *   html_text(h, value)                            text: escaped
 *   html_printf(h, "<td>%s</td>", value)           a literal format; each %s
 *                                                  is escaped, %d %u %ld %lu
 *                                                  %lld %llu %zu are numbers
 *
 * html_markup() and html_printf() take their markup through a macro that
 * glues "" to it: a variable in that place does not compile, so data cannot
 * become markup by accident. Escaped text is safe in element content and in
 * double-quoted attribute values; bytes that are not UTF-8 and control
 * characters come out as U+FFFD. URLs are built from literals, numbers and
 * html_url_param() (percent-encoded, safe in an attribute too).
 *
 * Errors (out of memory, a conversion this writer does not know) are
 * sticky; html_steal() then fails and the caller answers 500. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/util.h"

struct html {
        struct buf out;
        int error;
};

void html_init(struct html *h);
void html_done(struct html *h);
/* The document, NUL-terminated, and its length; h is empty afterwards.
 * Returns the sticky error instead when there was one. */
int html_steal(struct html *h, char **ret, size_t *ret_len);

#define html_markup(h, literal) html_markup_internal((h), "" literal "")
#define html_printf(h, fmt, ...) html_printf_internal((h), "" fmt "", __VA_ARGS__)

void html_markup_internal(struct html *h, const char *literal);
void html_printf_internal(struct html *h, const char *fmt, ...) _printf_(2, 3);
/* A translated sentence with values in it (l10n_format): all of it text,
 * escaped, the translation as much as the values, so that no catalogue
 * can put markup on a page. The values are strings:
 *   html_sentence(h, a_translated_format, id) */
#define html_sentence(h, fmt, ...) html_sentence_internal((h), (fmt), (const char *const[]){ __VA_ARGS__, NULL })
void html_sentence_internal(struct html *h, const char *fmt, const char *const *args);
/* Text (NULL writes nothing). */
void html_text(struct html *h, const char *s);
void html_text_n(struct html *h, const char *s, size_t n);
/* A value for a URL's query, percent-encoded: all but A-Z a-z 0-9 - . _ ~. */
void html_url_param(struct html *h, const char *s);

/* Escapes s into out as html_text() does (for headers' neighbours: tests, and
 * text built outside a page). */
int html_escape(struct buf *out, const char *s, size_t n);
