/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tables and JSON from query results. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/util.h"
#include "bokvar/ctl/output.h"

/* Type OIDs from pg_type.h, stable across PostgreSQL versions. */
enum {
        OID_BOOL = 16,
        OID_INT8 = 20,
        OID_INT2 = 21,
        OID_INT4 = 23,
        OID_JSON = 114,
        OID_FLOAT4 = 700,
        OID_FLOAT8 = 701,
        OID_NUMERIC = 1700,
        OID_JSONB = 3802,
};

void output_json_string(FILE *f, const char *s) {
        struct buf b = {};

        if (buf_put_json_string(&b, s, strlen(s)) == 0)
                fputs(b.data, f);
        buf_free(&b);
}

void output_json_value(FILE *f, const PGresult *res, int row, int col) {
        const char *v = PQgetvalue(res, row, col);

        if (PQgetisnull(res, row, col)) {
                fputs("null", f);
                return;
        }
        switch (PQftype(res, col)) {
        case OID_BOOL:
                fputs(v[0] == 't' ? "true" : "false", f);
                return;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
                /* NaN and Infinity are not JSON numbers. */
                if (isdigit((unsigned char) v[0]) || (v[0] == '-' && isdigit((unsigned char) v[1]))) {
                        fputs(v, f);
                        return;
                }
                break;
        case OID_JSON:
        case OID_JSONB:
                fputs(v, f);
                return;
        }
        output_json_string(f, v);
}

size_t output_width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

char *output_escape(const char *s, bool tab_newline) {
        struct buf b = {};

        if (buf_put_terminal_text(&b, s, tab_newline) < 0) {
                buf_free(&b);
                return NULL;
        }
        return buf_steal(&b);
}

void output_text(FILE *f, const char *s) {
        _cleanup_free_ char *e = output_escape(s, false);

        fputs(e ? e : "?", f);
}

/* What a NULL of column col reads in a table: "unknown" where the column is
 * one of unknown's, else "-". */
static const char *null_word(const PGresult *res, int col, const char *const *unknown) {
        for (; unknown && *unknown; unknown++)
                if (streq(PQfname(res, col), *unknown))
                        return "unknown";
        return "-";
}

/* A value as a table or record shows it, control characters escaped (a
 * new string, or NULL without memory). */
static char *cell(const PGresult *res, int row, int col, bool tab_newline, const char *const *unknown) {
        if (PQgetisnull(res, row, col))
                return strdup(null_word(res, col, unknown));
        if (PQftype(res, col) == OID_BOOL)
                return strdup(PQgetvalue(res, row, col)[0] == 't' ? "yes" : "no");
        return output_escape(PQgetvalue(res, row, col), tab_newline);
}

static bool hidden(const PGresult *res, int col) {
        return PQfname(res, col)[0] == '_';
}

void output_result(FILE *f, const PGresult *res, bool json) {
        output_result_unknown(f, res, json, NULL);
}

void output_result_unknown(FILE *f, const PGresult *res, bool json, const char *const *unknown) {
        int rows = PQntuples(res), cols = PQnfields(res);

        if (json) {
                fputs("[", f);
                for (int r = 0; r < rows; r++) {
                        fputs(r ? ",\n {" : "\n {", f);
                        for (int c = 0, k = 0; c < cols; c++) {
                                const char *name = PQfname(res, c);

                                fputs(k++ ? ", " : "", f);
                                output_json_string(f, name[0] == '_' ? name + 1 : name);
                                fputs(": ", f);
                                output_json_value(f, res, r, c);
                        }
                        fputs("}", f);
                }
                fputs(rows ? "\n]\n" : "]\n", f);
                return;
        }

        size_t *width = calloc((size_t) (cols > 0 ? cols : 1), sizeof(size_t));
        char **cells = calloc((size_t) (rows > 0 && cols > 0 ? rows * cols : 1), sizeof(char *));
        if (!width || !cells)
                goto finish;
        for (int c = 0; c < cols; c++) {
                width[c] = output_width(PQfname(res, c));
                for (int r = 0; r < rows; r++) {
                        char **v = &cells[r * cols + c];

                        if (!(*v = cell(res, r, c, true, unknown)))
                                goto finish;
                        width[c] = MAX(width[c], output_width(*v));
                }
        }
        for (int r = -1; r < rows; r++) {
                bool first = true;

                for (int c = 0; c < cols; c++) {
                        char name[64];
                        const char *v;
                        size_t i;

                        if (hidden(res, c))
                                continue;
                        if (r < 0) {
                                for (i = 0; PQfname(res, c)[i] && i + 1 < sizeof name; i++)
                                        name[i] = (char) toupper((unsigned char) PQfname(res, c)[i]);
                                name[i] = 0;
                                v = name;
                        } else
                                v = cells[r * cols + c];
                        fprintf(f, "%s%s", first ? "" : "  ", v);
                        first = false;
                        if (c + 1 < cols)
                                fprintf(f, "%*s", (int) (width[c] - output_width(v)), "");
                }
                fputc('\n', f);
        }
finish:
        for (int i = 0; cells && i < rows * cols; i++)
                free(cells[i]);
        free(cells);
        free(width);
}

void output_record(FILE *f, const PGresult *res, int row, bool json) {
        output_record_unknown(f, res, row, json, NULL);
}

void output_record_unknown(FILE *f, const PGresult *res, int row, bool json, const char *const *unknown) {
        int cols = PQnfields(res);
        size_t w = 0;

        if (json) {
                fputs("{", f);
                for (int c = 0; c < cols; c++) {
                        const char *name = PQfname(res, c);

                        fputs(c ? ", " : "", f);
                        output_json_string(f, name[0] == '_' ? name + 1 : name);
                        fputs(": ", f);
                        output_json_value(f, res, row, c);
                }
                fputs("}\n", f);
                return;
        }
        for (int c = 0; c < cols; c++)
                if (!hidden(res, c))
                        w = MAX(w, output_width(PQfname(res, c)));
        for (int c = 0; c < cols; c++) {
                _cleanup_free_ char *v = NULL;

                if (hidden(res, c))
                        continue;
                v = cell(res, row, c, false, unknown);
                fprintf(f, "%*s: %s\n", (int) w, PQfname(res, c), v ? v : "?");
        }
}
