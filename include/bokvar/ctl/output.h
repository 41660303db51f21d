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
/* The same as text for people, in the language in use (l10n_use): the
 * columns of the caseworkers' commands (tasks, task show, households,
 * household show, subject export, access-log) headed in that language and
 * their values in words (a class's label, a date written out, yes or no,
 * a count a source may not know, such as children, "unknown" when NULL
 * where "-" could be taken for none);
 * a column it does not know as output_result shows it. JSON stays as it is
 * for programs: use output_result() and output_record() for it. */
void output_people_table(FILE *f, const PGresult *res);
void output_people_record(FILE *f, const PGresult *res, int row);
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
/* The columns UTF-8 text takes on a terminal: its code points, which is
 * right for the Latin scripts feeds and the catalogues use. */
size_t output_text_width(const char *s);
void output_text(FILE *f, const char *s);
