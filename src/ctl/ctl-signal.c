/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl signal add: a notice that came by letter or e-mail, registered
 * by hand. It takes the path of bokvar-web's form (web/notice-form.c): the
 * fields read and validated by the ingest's rules for every feed's row
 * (ingest/notice.h, the same code and the same reasons, every one at
 * once), then bokvar.signal_register(), which merges it as the feeds'
 * ingest does with source manual and the actor the database takes this
 * login for. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/json-tree.h"
#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/ingest/notice.h"

#define NOTICE_MAX_BYTES (64 * 1024)   /* a notice is a few hundred bytes */

/* The options are the canonical fields with '-' for '_'. */
#define OPTION_FIELD(f) (2000 + (int) (f))
#define OPTION_JURISDICTION 1000

struct signal_args {
        struct signal_row *row;
        enum jurisdiction jurisdiction;
        int status;             /* EXIT_USAGE once an option was wrong */
        bool person_id_stdin;   /* --person-id - */
};

static int signal_option(int c, const char *arg, void *userdata) {
        struct signal_args *a = userdata;

        if (c == OPTION_JURISDICTION) {
                int j = -1;

                for (int i = 0; i < _JURISDICTION_MAX; i++)
                        if (streq(arg, jurisdiction_names[i]))
                                j = i;
                if (j < 0) {
                        fprintf(stderr, "bokvarctl signal add: --jurisdiction is se or no, not '%s'\n", arg);
                        return EXIT_USAGE;
                }
                a->jurisdiction = (enum jurisdiction) j;
                return -1;
        }
        if (c < OPTION_FIELD(0) || c >= OPTION_FIELD(_FIELD_MAX))
                return EXIT_USAGE;
        if (c == OPTION_FIELD(FIELD_PERSON_ID)) {
                /* An identity number in argv is in every user's ps and in
                 * the shell's history: refused, not warned about after it
                 * leaked. */
                if (!streq(arg, "-")) {
                        fprintf(stderr, "bokvarctl signal add: an identity number is not taken on the command line, "
                                        "where ps and the shell's history show it; give --person-id - and write it "
                                        "on standard input, or use --json FILE\n");
                        return EXIT_USAGE;
                }
                a->person_id_stdin = true;
                return -1;
        }
        if (signal_row_set(a->row, (enum canonical_field) (c - OPTION_FIELD(0)), arg, strlen(arg)) < 0)
                return EXIT_FAIL;
        return -1;
}

/* The notice as a JSON object of canonical fields (strings, numbers or
 * null) into row. An exit status, or -1. */
static int read_json(const char *path, struct signal_row *row) {
        _cleanup_free_ char *data = NULL;
        _cleanup_(json_tree_done) struct json_tree t = {};
        _cleanup_(buf_free) struct buf v = {};
        const struct json_node *root;
        size_t size = 0;
        int k;

        k = read_full_file(streq(path, "-") ? "/dev/stdin" : path, NOTICE_MAX_BYTES, &data, &size);
        if (k < 0) {
                fprintf(stderr, "bokvarctl signal add: cannot read %s: %s\n",
                        streq(path, "-") ? "standard input" : path, strerror(-k));
                return EXIT_USAGE;
        }
        if (json_tree_parse(&t, data, size) < 0 || !(root = json_tree_get(&t, NULL)) || root->type != JSON_OBJECT) {
                explicit_bzero(data, size);
                fprintf(stderr, "bokvarctl signal add: %s is not a JSON object of the canonical fields\n",
                        streq(path, "-") ? "standard input" : path);
                return EXIT_USAGE;
        }
        explicit_bzero(data, size);
        for (int32_t c = root->first; c >= 0; c = t.nodes[c].next) {
                const struct json_node *n = &t.nodes[c];
                const char *key = t.text.data + n->key;
                int f = canonical_field_find(key, n->key_len);

                if (f < 0 || f == FIELD_EXTERNAL_ID) {
                        fprintf(stderr, "bokvarctl signal add: '%.*s' is not a field of a notice\n", (int) n->key_len,
                                key);
                        return EXIT_USAGE;
                }
                if (n->type == JSON_NULL)
                        continue;
                if (n->type != JSON_STRING && n->type != JSON_NUMBER) {
                        fprintf(stderr, "bokvarctl signal add: %s must be a string or a number\n",
                                canonical_field_names[f]);
                        return EXIT_USAGE;
                }
                buf_clear(&v);
                if (json_tree_text(&t, n, &v) < 0)
                        return EXIT_FAIL;
                /* A JSON number's decimals follow a point; a notice's
                 * amount is read the Nordic way, with a decimal comma. */
                if (f == FIELD_AMOUNT && n->type == JSON_NUMBER)
                        for (size_t i = 0; i < v.len; i++)
                                if (v.data[i] == '.')
                                        v.data[i] = ',';
                if (signal_row_set(row, (enum canonical_field) f, v.data ? v.data : "", v.len) < 0)
                        return EXIT_FAIL;
        }
        if (v.data)
                explicit_bzero(v.data, v.len);
        return -1;
}

/* What the ingest found wrong, field by field, in its own words. */
static void print_problems(const struct notice_problem *p, size_t n) {
        char count[24];

        for (size_t i = 0; i < n; i++)
                fprintf(stderr, "bokvarctl signal add: %s%s%s\n",
                        p[i].field >= 0 ? canonical_field_names[p[i].field] : "", p[i].field >= 0 ? ": " : "",
                        p[i].problem);
        snprintf(count, sizeof count, "%zu", n);
        fputs("bokvarctl signal add: ", stderr);
        ctl_sentence(stderr, l10n_ngettext("the notice is not registered (%s problem).",
                                           "the notice is not registered (%s problems).", n), count);
}

static int print_registered(struct ctl *ctl, PGresult *res) {
        bool yours = streq(PQgetvalue(res, 0, 4), "t");
        const char *signal = PQgetvalue(res, 0, 0), *household = PQgetvalue(res, 0, 1);

        if (ctl->json) {
                output_record(stdout, res, 0, true);
                return EXIT_OK;
        }
        if (yours && !PQgetisnull(res, 0, 2))
                ctl_sentence(stdout, _("Registered as signal %s: household %s, task %s of team %s."), signal,
                             household, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
        else if (yours)
                ctl_sentence(stdout, _("Registered as signal %s: household %s, which has no open task."), signal,
                             household);
        else
                ctl_sentence(stdout, _("Registered as signal %s. Its household has no open task of your teams, so it "
                                       "is not yours to see."),
                             signal);
        return EXIT_OK;
}

int verb_signal(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl signal add --kind KIND --occurred-at YYYY-MM-DD [FIELD OPTIONS]\n"
                "                            [--person-id -] [--jurisdiction se|no]\n"
                "       bokvarctl signal add --json FILE|- [--jurisdiction se|no]\n"
                "\n"
                "Registers a notice that came by letter or e-mail, as bokvar-web's form does:\n"
                "read and validated exactly like a feed's row (every problem at once, in the\n"
                "ingest's words), then matched to a home, scored and given a task like any\n"
                "signal, with source manual and you as the person who entered it.\n"
                "Field options: --kind, --occurred-at, --deadline, --notified-at (dates as\n"
                "YYYY-MM-DD), --name, --address, --apartment, --postal-code, --city,\n"
                "--municipality-code, --children, --amount (12 345,50), --months-in-arrears,\n"
                "--landlord. The identity number is never taken on the command line (ps and\n"
                "the shell's history would show it): --person-id - reads it from standard\n"
                "input. --json FILE reads the notice as a JSON object of the canonical\n"
                "fields (- for standard input) and prints the outcome as JSON.\n"
                "--jurisdiction: whose law derives a deadline the notice does not give\n"
                "(default se). Caseworkers and coordinators may register notices; a\n"
                "caseworker is told the household only when its task is in their teams.\n"
                "Exit status: 0 registered, 1 refused (the reasons are printed), 2 usage,\n"
                "3 database error.\n";
        struct option options[_FIELD_MAX + 2] = {};
        char names[_FIELD_MAX][32];
        struct signal_row row = {};
        struct signal_args a = { .row = &row };
        struct notice_problem *problems = NULL;
        size_t n_problems = 0, n = 0;
        _cleanup_pgresult_ PGresult *day = NULL, *res = NULL;
        _cleanup_(buf_free) struct buf json = {};
        struct json_writer w;
        char line[128];
        int r, k;

        for (int f = FIELD_KIND; f < _FIELD_MAX; f++) {
                size_t i;

                for (i = 0; canonical_field_names[f][i] && i + 1 < sizeof names[f]; i++)
                        names[f][i] = canonical_field_names[f][i] == '_' ? '-' : canonical_field_names[f][i];
                names[f][i] = 0;
                options[n++] = (struct option){ names[f], required_argument, NULL, OPTION_FIELD(f) };
        }
        options[n++] = (struct option){ "jurisdiction", required_argument, NULL, OPTION_JURISDICTION };

        signal_row_clear(&row);
        r = ctl_parse_options(ctl, argc, argv, options, usage, signal_option, &a);
        if (r >= 0)
                goto finish;
        if (optind >= argc || !streq(argv[optind], "add") || optind + (ctl->json ? 2 : 1) != argc) {
                fprintf(stderr, "%s", usage);
                r = EXIT_USAGE;
                goto finish;
        }
        if (ctl->json) {
                if (a.person_id_stdin) {
                        fprintf(stderr, "bokvarctl signal add: with --json the notice's person_id is in its JSON\n");
                        r = EXIT_USAGE;
                        goto finish;
                }
                r = read_json(argv[optind + 1], &row);
                if (r >= 0)
                        goto finish;
        } else if (a.person_id_stdin) {
                if (!fgets(line, sizeof line, stdin)) {
                        fprintf(stderr, "bokvarctl signal add: no identity number on standard input\n");
                        r = EXIT_USAGE;
                        goto finish;
                }
                line[strcspn(line, "\r\n")] = 0;
                k = signal_row_set(&row, FIELD_PERSON_ID, line, strlen(line));
                explicit_bzero(line, sizeof line);
                if (k < 0) {
                        r = EXIT_FAIL;
                        goto finish;
                }
        }

        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                goto finish;
        /* The database's day, as a feed's rows are read against it. */
        r = ctl_query(ctl, &day, "SELECT current_date - DATE '2000-01-01'", 0, NULL);
        if (r != EXIT_OK)
                goto finish;
        k = notice_check_in(&row, (day_t) atoi(PQgetvalue(day, 0, 0)), a.jurisdiction, &problems, &n_problems);
        if (k < 0) {
                r = EXIT_FAIL;
                goto finish;
        }
        if (k > 0) {
                print_problems(problems, n_problems);
                r = EXIT_FAIL;
                goto finish;
        }

        json_writer_init(&w, &json);
        notice_write_json(&row, &w);
        if (json_writer_finish(&w) < 0) {
                r = EXIT_FAIL;
                goto finish;
        }
        r = ctl_call(ctl, &res, "signal add",
                     "SELECT r.signal_id, r.household_id, r.task_id, r.team, "
                     "bokvar.actor_function() = 'coordinator' OR r.team = ANY (bokvar.actor_teams()) AS yours "
                     "FROM bokvar.signal_register($1::jsonb) r",
                     1, (const char *[]){ json.data });
        explicit_bzero(json.data, json.len);
        if (r != EXIT_OK)
                goto finish;
        r = print_registered(ctl, res);
finish:
        notice_problems_free(problems, n_problems);
        for (int f = 0; f < _FIELD_MAX; f++)
                if (row.storage[f].data)
                        explicit_bzero(row.storage[f].data, row.storage[f].len);
        explicit_bzero(row.person_id, sizeof row.person_id);
        signal_row_done(&row);
        return r;
}
