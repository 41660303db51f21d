/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Identity numbers as feeds write them: the Swedish personnummer and
 * samordningsnummer, the Norwegian fødselsnummer and D-number, the Dutch
 * BSN. Each reader gives the normalised number (SE twelve digits, NO
 * eleven, NL nine) or, when the text is not a valid one, a problem in
 * words that never repeats the number or any of its digits: the problem
 * goes into a quarantined row's reason, which operators read.
 *
 * This is the one definition of these checks; the database has no copy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bokvar/ingest/canonical.h"

/* A normalised number: at most twelve digits and the NUL. */
#define IDENTITY_MAX 13

/* Luhn over the ten digits of n (leading zeros count): every second digit
 * from the right doubled, the digits of the products summed. */
bool identity_luhn10_ok(uint64_t n);

/* Swedish personnummer and samordningsnummer (day + 60): YYMMDD-NNNC,
 * YYMMDD+NNNC (100 years or older), YYYYMMDDNNNC, spaces and tabs
 * ignored. ref is the day a ten-digit number is read against: its century
 * is the one that makes the person 0-99 years old on ref (100 or more with
 * '+'), and nobody is born after ref. NULL with the twelve digits in id,
 * or the problem. */
const char *identity_se(const char *t, day_t ref, char id[static IDENTITY_MAX]);
/* Norwegian fødselsnummer DDMMYYIIIKK and D-number (4 added to the first
 * digit): the century from the individual number, two mod-11 check
 * digits; spaces, tabs and hyphens ignored. NULL with the eleven digits in
 * id, or the problem. */
const char *identity_no(const char *t, char id[static IDENTITY_MAX]);
/* Dutch BSN: nine digits (eight get a leading zero) passing the
 * 11-proef; spaces, tabs, dots and hyphens ignored. NULL with the nine
 * digits in id, or the problem. */
const char *identity_nl(const char *t, char id[static IDENTITY_MAX]);

/* Any number of the countries allowed ("se", "no", "nl", in the feed's
 * order; NULL: all three), told apart by their number of digits: Swedish
 * (10 or 12), Norwegian (11), Dutch (8 or 9); t NULL is none of them. 0
 * with the number in id, or 1 with the problem in problem (of size bytes). */
int identity_number(const char *t, day_t ref, char *const *allowed, char id[static IDENTITY_MAX], char *problem,
                    size_t size);
