/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Words normalised for matching, and the UTF-8 and letter case beneath
 * them: "Storgatan 12 B" and "STORGATAN 12B" are one word, and so are
 * "Östra Ågatan" and "östra ågatan". Households are matched by such words
 * (an address key) and tasks routed by them (postal codes, cities,
 * landlords), so they must come out the same everywhere, for ever: this is
 * the one definition, and every stored key was made by this rule.
 *
 * Letters are upper-cased as PostgreSQL's upper() does in a UTF-8
 * database, the locale every address key was first made in: by glibc's
 * C.UTF-8 tables (where that locale is missing, the letters of ASCII and
 * of Latin-1's Swedish, Norwegian, Danish and Dutch words). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bokvar/basic/util.h"

/* The code point at s[*i] (of n bytes), advancing *i; a byte that does not
 * begin valid UTF-8 stands for itself. */
uint32_t utf8_next(const char *s, size_t n, size_t *i);
/* The number of characters (code points) of n bytes of UTF-8. */
size_t utf8_length(const char *s, size_t n);

/* Upper and lower case of one code point. */
uint32_t letter_upper(uint32_t c);
uint32_t letter_lower(uint32_t c);

/* Appends t upper-cased, without spaces and the punctuation
 * " \t\u00a0.,-/\\'\"#:;()", and returns 1; returns 0, appending nothing,
 * when nothing is left (or t is NULL); -ENOMEM. */
int word_normalize(const char *t, struct buf *out);
/* Appends the digits of t alone ("lgh 1102" gives "1102"): 1, or 0 when
 * it has none (or is NULL); -ENOMEM. */
int word_digits(const char *t, struct buf *out);
