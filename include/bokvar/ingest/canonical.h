/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The values of the canonical signal read from a feed's text: dates in the
 * feed's declared format, whole numbers, amounts of money with a decimal
 * comma or point, signal kinds through the feed's words, the normalised
 * words and address key households are matched by, and how a value is
 * quoted in a quarantined row's reason. Each is a pure function of its text
 * and the feed's configuration: a value, or "this text is none" (NULL is
 * none of them), never an error but for memory.
 *
 * This is the one definition of these readers; the database has no copy.
 * Where a rule depends on which characters are letters or spaces, it is
 * the rule of PostgreSQL in a UTF-8 database (lower() and the regular
 * expressions' \s as glibc's C.UTF-8 locale has them), by which every row
 * was read before; normalised words are basic/word.h's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"

/* A day as PostgreSQL's date counts it: days since 2000-01-01. */
typedef int32_t day_t;
#define DAY_NONE INT32_MIN

/* The day y-m-d, or -EINVAL when there is no such day or y lies outside
 * 1800..2200 (a feed's typo, not a date anyone meant). */
int day_from_ymd(int y, int m, int d, day_t *ret);
void day_to_ymd(day_t day, int *ret_y, int *ret_m, int *ret_d);
/* "YYYY-MM-DD" into buf, which must hold 11 bytes; returns buf. */
const char *day_format(day_t day, char buf[static 11]);

/* The date formats a feed may declare (date_format:), in bokvar.yaml's words. */
enum date_format {
        DATE_YYYY_MM_DD,     /* may be followed by a time: 2026-03-05T10:00:00Z */
        DATE_YYYYMMDD,
        DATE_YYYY_SLASH_MM_DD,
        DATE_DD_DOT_MM_YYYY,
        DATE_DD_MM_YYYY,
        DATE_DD_SLASH_MM_YYYY,
        DATE_MM_SLASH_DD_YYYY,
        _DATE_FORMAT_MAX,
};
extern const char *const date_format_names[_DATE_FORMAT_MAX + 1];
/* The format named s, or -EINVAL. */
int date_format_from_string(const char *s, enum date_format *ret);

/* A date written in format fmt, spaces around it ignored: 0, or -EINVAL
 * when t is no date of that form. Day and month may have one digit
 * (5.3.2026) but in YYYYMMDD. */
int canonical_date(const char *t, enum date_format fmt, day_t *ret);

/* A whole number of 0 or more, at most six digits ("3", " 03 ", "3.0", the
 * way spreadsheets write whole numbers): 0, or -EINVAL. */
int canonical_count(const char *t, int32_t *ret);

/* An amount of money: "12 345,50", "12.345,50 kr", "SEK 1,234.50",
 * "12345.5", "100:-". decimal_comma says whether ',' or '.' separates the
 * decimals; the other one, spaces (also no-break ones) and apostrophes may
 * group thousands, in groups of three only (so "1.50" in a decimal-comma
 * feed is no amount, not 150). A currency (kr, SEK, NOK, EUR, €) may come
 * before or after it. At most two decimals, never negative, below 10^12.
 * 0 with the amount in hundredths, or -EINVAL. */
int canonical_amount(const char *t, bool decimal_comma, int64_t *ret_hundredths);
/* An amount in hundredths as "1234.50" into buf (of at least 24 bytes). */
const char *canonical_amount_format(int64_t hundredths, char buf[static 24]);

/* The key a home is matched by: street, postal code and apartment number,
 * normalised (word.h), as "STORGATAN12B|75320|1102". 1 with it appended to out; 0
 * when street or postal code is missing or normalises to nothing (any may
 * be NULL); -ENOMEM. */
int canonical_address_key(const char *address, const char *postal_code, const char *apartment, struct buf *out);

/* The signal kind a feed's word t means: values (pairs of a feed's word
 * and a kind, NULL-terminated; may be NULL) first, exactly as written, else
 * t itself in any case. 0, or -EINVAL when it is no kind. */
int canonical_kind(const char *t, char *const *values, enum signal_kind *ret);

/* Appends s as a quoted literal, the way reasons quote a feed's value:
 * 'it''s', and E'a\\b' when s has a backslash (as PostgreSQL's
 * quote_literal() writes it, so reasons read as they always have). */
int canonical_quote(struct buf *out, const char *s);

/* A CSV record written back from its fields (NULL for an empty one) with
 * the feed's delimiter, quoting with '"' where a field holds the
 * delimiter, a quote or a line break: the raw row shown for a record that
 * was read but did not pass. Appends to out; -ENOMEM. */
int canonical_csv_line(char *const *fields, size_t n, char delimiter, struct buf *out);
