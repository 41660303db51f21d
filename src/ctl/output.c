/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tables and JSON from query results. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
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

size_t output_text_width(const char *s) {
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

/* How people read a column's values. */
enum shown {
        SHOWN_AS_IS,
        SHOWN_CLASS,
        SHOWN_OUTCOME,
        SHOWN_CHANNEL,
        SHOWN_KIND,
        SHOWN_SOURCE,
        SHOWN_EVENT,
        SHOWN_FUNCTION,
        SHOWN_DATE,
        SHOWN_TIME,
        SHOWN_AMOUNT,
        SHOWN_STATUS,      /* a task's: open, closed */
        SHOWN_STATE,       /* new, acknowledged, contacted (bokvarctl tasks) */
        SHOWN_OVERDUE,     /* OVERDUE or nothing (bokvarctl tasks) */
        SHOWN_UNUSUAL,     /* UNUSUAL or nothing (bokvarctl access-log) */
        SHOWN_PATH,        /* what a read went through */
        SHOWN_UNKNOWN,     /* a count a source may not know: NULL is "unknown" */
        SHOWN_HOW_COUNTED, /* a count of children: reported (by a feed) or corrected */
};

/* The columns of the people's commands, by the names their queries give
 * them: the heading people read, and how their values are shown. */
static const struct {
        const char *name;
        const char *heading;
        enum shown shown;
} people_columns[] = {
        { "priority", N_("Priority"), SHOWN_AS_IS },
        { "task", N_("Task"), SHOWN_AS_IS },
        { "id", N_("Number"), SHOWN_AS_IS },
        { "team", N_("Team"), SHOWN_AS_IS },
        { "assignee", N_("Caseworker"), SHOWN_AS_IS },
        { "class", N_("Class"), SHOWN_CLASS },
        { "opened_class", N_("Class when opened"), SHOWN_CLASS },
        { "top_class", N_("Highest class"), SHOWN_CLASS },
        { "score", N_("Score"), SHOWN_AS_IS },
        { "children", N_("Children"), SHOWN_UNKNOWN },
        { "deadline", N_("Legal deadline"), SHOWN_DATE },
        { "next_deadline", N_("Nearest deadline"), SHOWN_DATE },
        { "due", N_("Due"), SHOWN_DATE },
        { "overdue", N_("Overdue"), SHOWN_OVERDUE },
        { "state", N_("Status"), SHOWN_STATE },
        { "status", N_("Status"), SHOWN_STATUS },
        { "rules", N_("Rules"), SHOWN_AS_IS },
        { "created_at", N_("Opened"), SHOWN_TIME },
        { "acknowledged_at", N_("Acknowledged"), SHOWN_TIME },
        { "acknowledged_by", N_("Acknowledged by"), SHOWN_AS_IS },
        { "first_contact_at", N_("First contact"), SHOWN_TIME },
        { "closed_at", N_("Closed"), SHOWN_TIME },
        { "closed_by", N_("Closed by"), SHOWN_AS_IS },
        { "outcome", N_("Outcome"), SHOWN_OUTCOME },
        { "note", N_("Note"), SHOWN_AS_IS },
        { "at", N_("When"), SHOWN_TIME },
        { "kind", N_("What"), SHOWN_KIND },
        { "by", N_("Who"), SHOWN_AS_IS },
        { "detail", N_("Details"), SHOWN_AS_IS },
        { "sent", N_("Sent"), SHOWN_AS_IS },
        { "channel", N_("How"), SHOWN_CHANNEL },
        { "reached", N_("Reached"), SHOWN_AS_IS },
        { "postal_code", N_("Postal code"), SHOWN_AS_IS },
        { "city", N_("City"), SHOWN_AS_IS },
        { "landlord", N_("Landlord"), SHOWN_AS_IS },
        { "first_signal_at", N_("First signal"), SHOWN_DATE },
        { "last_signal_at", N_("Latest signal"), SHOWN_DATE },
        { "persons", N_("People"), SHOWN_AS_IS },
        { "feed", N_("Feed"), SHOWN_AS_IS },
        { "external_id", N_("Its number in the feed"), SHOWN_AS_IS },
        { "source", N_("Source"), SHOWN_SOURCE },
        { "occurred_at", N_("Date"), SHOWN_DATE },
        { "person", N_("Identity number"), SHOWN_AS_IS },
        { "person_id", N_("Identity number"), SHOWN_AS_IS },
        { "name", N_("Name"), SHOWN_AS_IS },
        { "address", N_("Address"), SHOWN_AS_IS },
        { "apartment", N_("Apartment"), SHOWN_AS_IS },
        { "amount", N_("Amount"), SHOWN_AMOUNT },
        { "months_in_arrears", N_("Months in arrears"), SHOWN_AS_IS },
        { "version", N_("Version"), SHOWN_AS_IS },
        { "received_at", N_("Received"), SHOWN_TIME },
        { "replaced_at", N_("Replaced"), SHOWN_TIME },
        { "scored_at", N_("Scored"), SHOWN_TIME },
        { "as_of", N_("As of"), SHOWN_DATE },
        { "ruleset_version", N_("Ruleset version"), SHOWN_AS_IS },
        { "loaded_at", N_("Loaded"), SHOWN_TIME },
        { "who", N_("Who"), SHOWN_AS_IS },
        { "function", N_("Function"), SHOWN_FUNCTION },
        { "through", N_("Through"), SHOWN_AS_IS },
        { "via", N_("Through login"), SHOWN_AS_IS },
        { "household_id", N_("Household"), SHOWN_AS_IS },
        { "task_id", N_("Task"), SHOWN_AS_IS },
        { "path", N_("Read through"), SHOWN_PATH },
        { "reason", N_("Reason given"), SHOWN_AS_IS },
        { "unusual", N_("Unusual"), SHOWN_UNUSUAL },
        { "actor", N_("Who"), SHOWN_AS_IS },
        { "eviction", N_("Eviction"), SHOWN_DATE },
        { "scheduled_eviction", N_("Eviction scheduled"), SHOWN_DATE },
        { "before", N_("Before"), SHOWN_UNKNOWN },
        { "how", N_("How it was given"), SHOWN_HOW_COUNTED },
        { "children_source", N_("How they knew"), SHOWN_AS_IS },
        { "how_they_knew", N_("How they knew"), SHOWN_AS_IS },
        { "in_force", N_("In force"), SHOWN_AS_IS },
        { "household", N_("Household"), SHOWN_AS_IS },
};

static int people_column(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(people_columns); i++)
                if (streq(people_columns[i].name, name))
                        return (int) i;
        return -1;
}

/* A value in words, for people (a new string, or NULL without memory). */
static char *people_value(enum shown shown, const char *v) {
        char out[L10N_TEXT_MAX];

        switch (shown) {
        case SHOWN_CLASS:
                return strdup(label_risk_class(v));
        case SHOWN_OUTCOME:
                return strdup(label_task_outcome(v));
        case SHOWN_CHANNEL:
                return strdup(label_contact_channel(v));
        case SHOWN_KIND:
                /* A signal's kind, or what happened to a task. */
                return strdup(label_signal_kind(v) != v ? label_signal_kind(v) : label_task_event(v));
        case SHOWN_SOURCE:
                return strdup(label_feed_source(v));
        case SHOWN_EVENT:
                return strdup(label_task_event(v));
        case SHOWN_FUNCTION:
                return strdup(streq(v, "system") ? _("the system") : label_actor_function(v));
        case SHOWN_DATE:
                return strdup(l10n_date(v, out) >= 0 ? out : v);
        case SHOWN_TIME:
                return strdup(l10n_timestamp(v, out) >= 0 ? out : v);
        case SHOWN_AMOUNT:
                return strdup(l10n_amount(v, out) >= 0 ? out : v);
        case SHOWN_STATUS:
                return strdup(streq(v, "open") ? _("Open") : streq(v, "closed") ? _("Closed") : v);
        case SHOWN_STATE:
                return strdup(streq(v, "new")            ? _("New")
                              : streq(v, "acknowledged") ? _("Acknowledged")
                              : streq(v, "contacted")    ? _("Contacted")
                                                         : v);
        case SHOWN_OVERDUE:
                return strdup(streq(v, "OVERDUE") || streq(v, "t") ? _("OVERDUE") : "");
        case SHOWN_UNUSUAL:
                return strdup(streq(v, "UNUSUAL") || streq(v, "t") ? _("UNUSUAL") : "");
        case SHOWN_PATH:
                return strdup(label_access_path(v));
        case SHOWN_HOW_COUNTED:
                return strdup(streq(v, "reported")    ? _("reported by a feed")
                              : streq(v, "corrected") ? _("corrected by a caseworker")
                                                      : v);
        case SHOWN_AS_IS:
        case SHOWN_UNKNOWN:
        default:
                return NULL;
        }
}

/* A value as a table or record shows it, control characters escaped (a
 * new string, or NULL without memory); for people, in words. */
static char *cell(const PGresult *res, int row, int col, bool tab_newline, bool people) {
        int k = people ? people_column(PQfname(res, col)) : -1;
        const char *v;

        if (PQgetisnull(res, row, col))
                return strdup(k >= 0 && people_columns[k].shown == SHOWN_UNKNOWN ? _("unknown") : "-");
        v = PQgetvalue(res, row, col);
        if (PQftype(res, col) == OID_BOOL)
                return strdup(v[0] == 't' ? (people ? _("yes") : "yes") : (people ? _("no") : "no"));
        if (k >= 0 && people_columns[k].shown != SHOWN_AS_IS) {
                _cleanup_free_ char *words = people_value(people_columns[k].shown, v);

                if (words)
                        return output_escape(words, tab_newline);
        }
        return output_escape(v, tab_newline);
}

/* A column's heading: its name, or for people its heading in their
 * language, capitals for a table's head (A-Z and the Latin-1 letters the
 * Nordic languages write, à to þ). */
static void heading(const PGresult *res, int col, bool people, bool capitals, char *buf, size_t size) {
        int k = people ? people_column(PQfname(res, col)) : -1;
        const char *h = k >= 0 ? _(people_columns[k].heading) : PQfname(res, col);
        size_t o = 0;

        for (const unsigned char *p = (const unsigned char *) h; *p && o + 2 < size; p++) {
                unsigned char c = *p;

                if (capitals && c >= 'a' && c <= 'z')
                        c = (unsigned char) (c - 'a' + 'A');
                else if (capitals && c == 0xc3 && p[1] >= 0xa0 && p[1] <= 0xbe && p[1] != 0xb7) {
                        buf[o++] = (char) c;
                        c = (unsigned char) (*++p - 0x20);
                }
                buf[o++] = (char) c;
        }
        buf[o] = 0;
}

static bool hidden(const PGresult *res, int col) {
        return PQfname(res, col)[0] == '_';
}

static void table(FILE *f, const PGresult *res, bool people);

void output_result(FILE *f, const PGresult *res, bool json) {
        int rows = PQntuples(res), cols = PQnfields(res);

        if (!json) {
                table(f, res, false);
                return;
        }
        {
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
        }
}

void output_people_table(FILE *f, const PGresult *res) {
        table(f, res, true);
}

static void table(FILE *f, const PGresult *res, bool people) {
        int rows = PQntuples(res), cols = PQnfields(res);
        size_t *width = calloc((size_t) (cols > 0 ? cols : 1), sizeof(size_t));
        char **cells = calloc((size_t) (rows > 0 && cols > 0 ? rows * cols : 1), sizeof(char *));
        if (!width || !cells)
                goto finish;
        for (int c = 0; c < cols; c++) {
                char name[128];

                heading(res, c, people, true, name, sizeof name);
                width[c] = output_text_width(name);
                for (int r = 0; r < rows; r++) {
                        char **v = &cells[r * cols + c];

                        if (!(*v = cell(res, r, c, true, people)))
                                goto finish;
                        width[c] = MAX(width[c], output_text_width(*v));
                }
        }
        for (int r = -1; r < rows; r++) {
                bool first = true;

                for (int c = 0; c < cols; c++) {
                        char name[128];
                        const char *v;

                        if (hidden(res, c))
                                continue;
                        if (r < 0) {
                                heading(res, c, people, true, name, sizeof name);
                                v = name;
                        } else
                                v = cells[r * cols + c];
                        fprintf(f, "%s%s", first ? "" : "  ", v);
                        first = false;
                        if (c + 1 < cols)
                                fprintf(f, "%*s", (int) (width[c] - output_text_width(v)), "");
                }
                fputc('\n', f);
        }
finish:
        for (int i = 0; cells && i < rows * cols; i++)
                free(cells[i]);
        free(cells);
        free(width);
}

static void record(FILE *f, const PGresult *res, int row, bool people);

void output_record(FILE *f, const PGresult *res, int row, bool json) {
        int cols = PQnfields(res);

        if (!json) {
                record(f, res, row, false);
                return;
        }
        {
                fputs("{", f);
                for (int c = 0; c < cols; c++) {
                        const char *name = PQfname(res, c);

                        fputs(c ? ", " : "", f);
                        output_json_string(f, name[0] == '_' ? name + 1 : name);
                        fputs(": ", f);
                        output_json_value(f, res, row, c);
                }
                fputs("}\n", f);
        }
}

void output_people_record(FILE *f, const PGresult *res, int row) {
        record(f, res, row, true);
}

static void record(FILE *f, const PGresult *res, int row, bool people) {
        int cols = PQnfields(res);
        size_t w = 0;

        for (int c = 0; c < cols; c++)
                if (!hidden(res, c)) {
                        char name[128];

                        heading(res, c, people, false, name, sizeof name);
                        w = MAX(w, output_text_width(name));
                }
        for (int c = 0; c < cols; c++) {
                _cleanup_free_ char *v = NULL;
                char name[128];

                if (hidden(res, c))
                        continue;
                heading(res, c, people, false, name, sizeof name);
                v = cell(res, row, c, false, people);
                /* Right-aligned by display width, not bytes (names in Swedish). */
                fprintf(f, "%*s%s: %s\n", (int) (w - output_text_width(name)), "", name, v ? v : "?");
        }
}
