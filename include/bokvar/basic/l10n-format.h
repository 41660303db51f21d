/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Dates, numbers and amounts as each language writes them:
 *
 *            date                 number     amount           share
 *   sv       2 december 2026      12 345     12 345,50 kr     45,3 %
 *   nb       2. desember 2026     12 345     12 345,50 kr     45,3 %
 *   en       2 December 2026      12,345     12,345.50 kr     45.3%
 *
 * (the spaces inside numbers and before "kr" and "%" are no-break spaces).
 * Written here rather than with the C library's locales, which a Debian
 * server seldom has generated (locales is not installed by default), and
 * which are one per process where bokvar-web answers each request in its
 * own language. The language is the one l10n_use() chose (English when
 * none, or one this table does not know).
 *
 * Each writes into the caller's buffer and returns 0, or -EINVAL when the
 * input is not what the database writes (the caller shows it as it came). */
#pragma once

#include <stdbool.h>

#define L10N_TEXT_MAX 96

/* Whether s is exactly YYYY-MM-DD, a day that exists (years 1 to 9999):
 * what a date field sends, checked before the database reads it. */
bool l10n_iso_date(const char *s);
/* A date as the database writes it (YYYY-MM-DD; anything after the tenth
 * character, a timestamp's time, is not read). */
int l10n_date(const char *iso, char out[static L10N_TEXT_MAX]);
/* A timestamp as the database writes it (YYYY-MM-DD HH:MM[:SS...]), to the
 * minute: 2 december 2026 kl. 14.05, 2. desember 2026 kl. 14.05,
 * 2 December 2026, 14:05. */
int l10n_timestamp(const char *iso, char out[static L10N_TEXT_MAX]);
/* A whole number, grouped by thousands. */
int l10n_int(long long v, char out[static L10N_TEXT_MAX]);
/* A number as the database writes it (-?digits[.digits]) with the
 * language's separators, to at most decimals places (rounded half away
 * from zero; trailing zeros of the fraction dropped). */
int l10n_number(const char *numeric, unsigned decimals, char out[static L10N_TEXT_MAX]);
/* An amount of money (numeric, as the database writes it): two decimals,
 * none when they are zero, and the currency: kr. */
int l10n_amount(const char *numeric, char out[static L10N_TEXT_MAX]);
/* A share (0.453, as the database writes it) in per cent, one decimal. */
int l10n_share(const char *fraction, char out[static L10N_TEXT_MAX]);
/* The month's name (1 to 12), in full or short ("dec", for a chart's
 * axis); NULL for another number. */
const char *l10n_month(unsigned month, bool abbreviated);
/* The language's own name for itself ("Svenska", "Norsk bokmål",
 * "English"), whatever language is in use; NULL for one not known here. */
const char *l10n_language_name(const char *lang);
