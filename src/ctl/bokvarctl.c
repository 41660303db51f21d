/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvarctl: the operator's and caseworker's command line. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bokvar-build.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/ctl/ctl.h"
#include "bokvar/ctl/output.h"
#include "bokvar/db/db.h"
#include "bokvar/db/migrate.h"

static int verb_check(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl [--config FILE] check [--json]\n"
                "\n"
                "Validates the configuration and the files it names. Prints every error as\n"
                "file:line:column: message. Credentials are read too when $CREDENTIALS_DIRECTORY\n"
                "is set (for example under `systemd-run -P -p LoadCredential=...`).\n"
                "Exit status: 0 valid, 1 invalid, 2 usage.\n";
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct diag d = {};
        unsigned flags = CONFIG_CHECK_FILES;
        bool creds = !isempty(getenv("CREDENTIALS_DIRECTORY"));
        int r;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0)
                return r;
        if (optind < argc) {
                fprintf(stderr, "bokvarctl check: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (creds)
                flags |= CONFIG_LOAD_CREDENTIALS;
        r = config_load(ctl->config_path, flags, &c, &d);
        if (ctl->json) {
                printf("{\"file\": ");
                output_json_string(stdout, ctl->config_path);
                printf(", \"valid\": %s, \"credentials_checked\": %s, \"errors\": [", r < 0 ? "false" : "true",
                       creds ? "true" : "false");
                for (size_t i = 0; i < d.n; i++) {
                        fputs(i ? ", " : "", stdout);
                        output_json_string(stdout, d.messages[i]);
                }
                printf("]}\n");
        } else if (r < 0)
                diag_print(&d, stdout);
        else {
                printf("%s: valid\n", ctl->config_path);
                if (!creds)
                        printf("note: $CREDENTIALS_DIRECTORY is not set; credentials named in the file were "
                               "not read\n");
        }
        diag_free(&d);
        return r < 0 ? EXIT_FAIL : EXIT_OK;
}

static int verb_migrate(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl [--config FILE] migrate [--json]\n"
                "\n"
                "Applies the schema migrations this bokvarctl carries that the database lacks,\n"
                "each in one transaction, recorded in bokvar.schema_migrations. Running it again\n"
                "does nothing. Refuses a database whose schema is newer than this binary.\n"
                "Exit status: 0 done, 3 database error, 4 the schema is newer than this binary.\n";
        size_t applied = 0;
        int r, version = 0;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0)
                return r;
        r = ctl_connect(ctl, false);
        if (r != EXIT_OK)
                return r;
        r = migrate_apply(ctl->conn, &applied);
        if (r == -EPROTO)
                return EXIT_SCHEMA;
        if (r < 0)
                return EXIT_DATABASE;
        (void) db_schema_version(ctl->conn, &version);
        if (ctl->json)
                printf("{\"schema_version\": %d, \"applied\": %zu}\n", version, applied);
        else if (applied == 0)
                printf("The database schema is up to date (version %d); nothing to do.\n", version);
        else
                printf("Applied %zu migration%s; the database schema is now version %d.\n", applied,
                       applied == 1 ? "" : "s", version);
        return EXIT_OK;
}

static int verb_version(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl version [--json]\n"
                "\n"
                "Prints bokvar's version, the schema version it expects and, when the database\n"
                "can be reached, the schema version there.\n";
        int r, have = -1;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0)
                return r;
        /* The database is optional here: quietly leave it out when unreachable. */
        log_set_max_level(LOG_EMERG);
        if (ctl_connect(ctl, false) == EXIT_OK && db_schema_version(ctl->conn, &have) < 0)
                have = -1;
        log_set_max_level(LOG_INFO);
        if (ctl->json) {
                printf("{\"version\": \"%s\", \"schema_expected\": %d, \"schema_database\": ", BOKVAR_VERSION,
                       migrate_expected_version());
                if (have >= 0)
                        printf("%d}\n", have);
                else
                        printf("null}\n");
                return EXIT_OK;
        }
        printf("bokvar %s\nschema version expected: %d\n", BOKVAR_VERSION, migrate_expected_version());
        if (have >= 0)
                printf("schema version in the database: %d%s\n", have,
                       have < migrate_expected_version()   ? " (run bokvarctl migrate)"
                       : have > migrate_expected_version() ? " (newer than this binary)"
                                                           : "");
        return EXIT_OK;
}

static int verb_whoami(struct ctl *ctl, int argc, char *argv[]) {
        static const char usage[] =
                "Usage: bokvarctl whoami [--json]\n"
                "\n"
                "Who the database takes this bokvarctl for: the login it connected as and the\n"
                "actor bokvar.yaml declares for it (its function and teams), or that it is\n"
                "none. bokvarctl acts as that login, whatever the command line says.\n";
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        r = ctl_parse_options(ctl, argc, argv, NULL, usage, NULL, NULL);
        if (r >= 0 || (r = ctl_no_arguments(argc, argv)) >= 0)
                return r;
        r = ctl_connect(ctl, true);
        if (r != EXIT_OK)
                return r;
        r = ctl_call(ctl, &res, "whoami",
                     "SELECT session_login AS login, login AS actor, function, "
                     "array_to_string(teams, ', ') AS teams, system FROM bokvar.whoami()",
                     0, NULL);
        if (r != EXIT_OK)
                return r;
        if (ctl->json)
                output_record(stdout, res, 0, true);
        else if (streq(PQgetvalue(res, 0, 4), "t"))
                ctl_sentence(stdout,
                             _("%s: the system (the bokvar schema's owner, bokvard's own login, or a superuser); no "
                               "person."),
                             PQgetvalue(res, 0, 0));
        else if (PQgetisnull(res, 0, 1))
                ctl_sentence(stdout,
                             _("%s: no actor of this database; bokvar.yaml declares them (teams: caseworkers:, "
                               "people:)."),
                             PQgetvalue(res, 0, 0));
        else
                printf("%s: %s%s%s%s\n", PQgetvalue(res, 0, 1), label_actor_function(PQgetvalue(res, 0, 2)),
                       *PQgetvalue(res, 0, 3) ? " (" : "", PQgetvalue(res, 0, 3), *PQgetvalue(res, 0, 3) ? ")" : "");
        return EXIT_OK;
}

static const struct verb verbs[] = {
        { "check", verb_check, "validate the configuration and the files it names" },
        { "migrate", verb_migrate, "bring the database schema up to date" },
        { "version", verb_version, "print versions of bokvar and the schema" },
        { "feeds", verb_feeds, "what each feed fetched last, and its errors" },
        { "quarantine", verb_quarantine, "rows that could not be ingested; retry them" },
        { "signal", verb_signal, "register a notice that came by letter or e-mail" },
        { "households", verb_households, "the households signals were matched to" },
        { "household", verb_household, "show one household, its signals and its score" },
        { "rules", verb_rules, "check a rules file, or preview what loading it would change" },
        { "tasks", verb_tasks, "the open outreach tasks, in priority order" },
        { "task", verb_task, "show a task; acknowledge it, record a contact, close it" },
        { "outbox", verb_outbox, "events waiting to be sent, dead letters; retry them" },
        { "report", verb_report, "the yearly report for the social services committee" },
        { "whoami", verb_whoami, "the login and actor bokvarctl acts as" },
        { "access-log", verb_access_log, "who read whose personal data, and unusual reads" },
        { "purge", verb_purge, "delete what retention no longer allows" },
        { "subject", verb_subject, "a person's copy of everything held about them" },
};

static void help(void) {
        printf("Usage: bokvarctl [--config FILE] [--lang LANG] [--json] COMMAND [ARGS...]\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-22s %s\n", verbs[i].name, verbs[i].summary);
        printf("\n"
               "Options:\n"
               "  -c, --config FILE  configuration file (default %s)\n"
               "      --lang LANG    the language of what people read: sv, nb or en (default:\n"
               "                     the locale's, LC_ALL, LC_MESSAGES or LANG; else English)\n"
               "      --json         print JSON instead of tables (never translated)\n"
               "  -h, --help         print this help; COMMAND --help for a command's own\n"
               "      --version      print the version\n"
               "\n"
               "bokvarctl connects as the user who runs it: the database knows each person\n"
               "by that login, and decides what they may see and do. The database is the one\n"
               "named by `database:` in the configuration; when there is none, or the file\n"
               "is the bokvar group's only, libpq's PG* environment variables, else the\n"
               "service \"bokvar\" of pg_service.conf.\n"
               "\n"
               "Exit status: 0 ok, 1 failure or invalid input, 2 usage, 3 database error,\n"
               "4 schema mismatch, 5 no such object.\n",
               CONFIG_DEFAULT_PATH);
}

/* The language asked for by --lang (one built in), else the locale's. */
static int choose_language(const char *asked) {
        const char *lang = asked ? l10n_known(asked) : l10n_from_environment();

        if (asked && !lang) {
                fprintf(stderr, "bokvarctl: --lang takes one of");
                for (const char *const *l = l10n_languages(); *l; l++)
                        fprintf(stderr, " %s", *l);
                fprintf(stderr, " (%s is not one of them)\n", asked);
                return EXIT_USAGE;
        }
        l10n_use(l10n_find(lang));
        return -1;
}

static int run(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_LANG };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "lang", required_argument, NULL, ARG_LANG },
                { "json", no_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {}
        };
        struct ctl ctl = { .config_path = CONFIG_DEFAULT_PATH };
        const char *lang = NULL;
        int c, r = EXIT_USAGE;

        log_setup("bokvarctl", LOG_TARGET_CONSOLE);
        while ((c = getopt_long(argc, argv, "+c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        ctl.config_path = optarg;
                        ctl.config_explicit = true;
                        break;
                case 'J':
                        ctl.json = true;
                        break;
                case 'h':
                        help();
                        return EXIT_OK;
                case ARG_VERSION:
                        printf("bokvarctl %s\n", BOKVAR_VERSION);
                        return EXIT_OK;
                case ARG_LANG:
                        lang = optarg;
                        break;
                default:
                        fprintf(stderr, "Try 'bokvarctl --help'.\n");
                        return EXIT_USAGE;
                }
        r = choose_language(lang);
        if (r >= 0)
                return r;
        r = EXIT_USAGE;
        if (optind >= argc) {
                help();
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        r = verbs[i].run(&ctl, argc - optind, argv + optind);
                        goto done;
                }
        fprintf(stderr, "bokvarctl: unknown command '%s'. Try 'bokvarctl --help'.\n", argv[optind]);
done:
        PQfinish(ctl.conn);
        config_unref(ctl.config);
        l10n_done();
        return r;
}

int main(int argc, char *argv[]) {
        int r = run(argc, argv), e;

        /* Output that never arrived (a full disk under a report written
         * to a file) is a failure, not a success cut short. */
        e = fflush(stdout) == EOF ? errno : 0;
        if (e == 0 && !ferror(stdout))
                return r;
        fprintf(stderr, "bokvarctl: the output could not be written%s%s\n", e ? ": " : "", e ? strerror(e) : "");
        return r == EXIT_OK ? EXIT_FAIL : r;
}
