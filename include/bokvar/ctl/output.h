/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl's output: query results as aligned tables for people (control
 * characters escaped) or as JSON for scripts, with column types mapped to
 * JSON types. */
#pragma once

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints every row of res: a table with upper-case headers, or a JSON array of
 * objects. Columns whose name starts with '_' are left out of the table. */
void output_result(FILE *f, const PGresult *res, bool json);
/* Prints row `row` of res as "name: value" lines, or as one JSON object. */
void output_record(FILE *f, const PGresult *res, int row, bool json);
/* The same, but a NULL in one of the columns named in `unknown` (a
 * NULL-terminated list) reads "unknown" in a table or record, where "-"
 * could be taken for none: counts a source may not know, such as children.
 * JSON keeps null. */
void output_result_unknown(FILE *f, const PGresult *res, bool json, const char *const *unknown);
void output_record_unknown(FILE *f, const PGresult *res, int row, bool json, const char *const *unknown);
/* Writes one value of res as JSON (number, bool, raw json, string or null). */
void output_json_value(FILE *f, const PGresult *res, int row, int col);
/* Writes s as a JSON string. */
void output_json_string(FILE *f, const char *s);

/* Text from the database or a feed, for a terminal: tables and records
 * escape control characters in every value (\x1B for ESC), so that data
 * never moves the cursor, retitles or clears the terminal. These do the
 * same for text printed otherwise. output_escape() returns a new string
 * (NULL without memory); with tab_newline, tabs and newlines become \t and
 * \n too, as in table cells. */
char *output_escape(const char *s, bool tab_newline);
void output_text(FILE *f, const char *s);
/* The columns UTF-8 text s takes on a terminal (code points: right for the
 * Latin scripts feeds use), to pad it with. */
size_t output_width(const char *s);
