/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The configuration loader: every kind of bad input has a fixture whose exact
 * messages are checked, and the shipped example loads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/yamldoc.h"
#include "bokvar/config/config.h"
#include "bokvar/config/feed-config.h"

static const char *fixtures;

/* Loads fixtures/config/<name> and checks its messages, path stripped. */
static void expect_messages(const char *name, const char *const *want) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        _cleanup_free_ char *path = NULL;
        struct diag d = {};
        size_t n = 0;
        int r;

        assert_true(asprintf(&path, "%s/config/%s", fixtures, name) > 0);
        r = config_load(path, CONFIG_CHECK_FILES, &c, &d);
        while (want[n])
                n++;
        if (d.n != n)
                diag_print(&d, stderr);
        assert_int_equal(d.n, n);
        for (size_t i = 0; i < n; i++) {
                const char *m = startswith(d.messages[i], path);

                assert_non_null(m);
                assert_string_equal(m, want[i]);
        }
        assert_true(n == 0 ? r == 0 : r < 0);
        assert_true(n == 0 ? c != NULL : c == NULL);
        diag_free(&d);
}

#define EXPECT(name, ...) expect_messages(name, (const char *const[]){ __VA_ARGS__, NULL })

static void test_syntax_error(void **state) {
        (void) state;
        EXPECT("syntax-error.yaml", ":2:10: did not find expected ',' or ']' while parsing a flow sequence");
}

static void test_unknown_key(void **state) {
        (void) state;
        EXPECT("unknown-key.yaml", ":2:1: unknown key 'log_levle' in the configuration; did you mean 'log_level'?");
}

static void test_wrong_type(void **state) {
        (void) state;
        EXPECT("wrong-type.yaml", ":2:3: expected a log level, got a list");
}

static void test_bad_value(void **state) {
        (void) state;
        EXPECT("bad-log-level.yaml", ":1:12: unknown log level 'chatty' (use err, warning, notice, info or debug)");
}

static void test_duplicate_key(void **state) {
        (void) state;
        EXPECT("duplicate-key.yaml", ":2:1: duplicate key 'log_level' (first given at line 1)");
        /* Once, as the file is read; the first column stands and the
         * second is not read over it (which lost the first's memory). */
        EXPECT("duplicate-map-field.yaml", ":11:7: duplicate key 'person_id' (first given at line 10)");
}

static void test_anchor(void **state) {
        (void) state;
        EXPECT("anchor.yaml", ":1:11: anchors (&db) are not supported; write the value out");
}

static void test_alias(void **state) {
        (void) state;
        EXPECT("alias.yaml", ":1:11: aliases (*db) are not supported; write the value out");
}

static void test_tag(void **state) {
        (void) state;
        EXPECT("tag.yaml", ":1:11: tags (tag:yaml.org,2002:binary) are not supported");
}

static void test_two_documents(void **state) {
        (void) state;
        EXPECT("two-documents.yaml", ":2:1: only one YAML document per file is supported");
}

static void test_too_deep(void **state) {
        (void) state;
        EXPECT("too-deep.yaml", ":34:65: nested deeper than 32 levels");
}

static void test_empty(void **state) {
        (void) state;
        EXPECT("empty.yaml", ": the configuration is empty");
}

static void test_not_a_mapping(void **state) {
        (void) state;
        EXPECT("not-a-mapping.yaml", ":1:1: the configuration must be a mapping (key: value lines), not a list");
}

static void test_secret_in_file(void **state) {
        (void) state;
        /* The message must not repeat the value: it may be the secret. */
        EXPECT("secret-in-file.yaml",
               ":1:31: not a credential name: name a file in $CREDENTIALS_DIRECTORY (letters, digits, '_', '-', "
               "'.'), never write the secret itself here");
}

static void test_several_errors_in_order(void **state) {
        (void) state;
        EXPECT("several-errors.yaml", ":3:1: duplicate key 'log_level' (first given at line 2)",
               ":4:1: unknown key 'databse' in the configuration; did you mean 'database'?",
               ":5:31: expected a text value, got a list");
}

static void test_feed_errors(void **state) {
        (void) state;
        /* Every mistake of every feed, in one run, in file order. */
        EXPECT("feed-errors.yaml",
               ":2:11: feed name 'Hyresvärd AB' must be 1 to 64 of a-z, 0-9, '_' and '-'",
               ":4:10: plain http:// is only allowed to this machine (localhost, 127.0.0.1, [::1]); use https://",
               ":6:38: unknown encoding 'KLINGON-8' (names such as UTF-8, WINDOWS-1252, ISO-8859-1, ISO-8859-15)",
               ":6:49: unknown key 'quotes' in csv; did you mean 'quote'?",
               ":8:7: map is missing the required field 'occurred_at'",
               ":9:46: 'eviction' is not a signal kind (arrears, termination_notice, disturbance, sanitary, "
               "payment_order, eviction_application, eviction_scheduled, eviction_executed, eviction_cancelled, "
               "utility_disconnection, resolved, eviction_warning, welfare_warning)",
               ":10:7: 'occurred' is not a canonical field (external_id, kind, occurred_at, deadline, person_id, name, "
               "address, postal_code, city, apartment, children, amount, months_in_arrears, landlord, notified_at, "
               "municipality_code)",
               ":11:5: feed 'agency': sftp needs auth.ssh_key_credential and auth.known_hosts (the server's host key "
               "is always verified)",
               ":12:13: unknown source 'kronofogden' (one of: landlord, enforcement, utility, welfare)",
               ":15:15: invalid duration '30': number without a unit; add s, m, h, d or w (e.g. 30s)",
               ":16:14: records: applies to format: json (NDJSON has one record a line)",
               ":21:27: map.person_id cannot be a constant",
               ":22:37: values: translates source words into signal kinds; it is only supported for map.kind",
               ":23:11: a feed named 'agency' is already defined at line 11",
               ":27:13: paging needs exactly one of next: (a path in the body) or link: true",
               ":28:15: '12 apples' is not a size (write e.g. 64KiB, 256MiB, 2GiB)",
               ":29:32: not a credential name: name a file in $CREDENTIALS_DIRECTORY (letters, digits, '_', '-', "
               "'.'), never write the secret itself here");
}

static void test_outreach_errors(void **state) {
        (void) state;
        EXPECT("outreach-errors.yaml",
               ":2:11: name 'Norr' must be 1 to 64 of a-z, 0-9, '_' and '-'",
               ":4:12: 'norr at kommun' is not an e-mail address",
               ":7:5: only one team can be the default (team 'central' at line 5 is)",
               ":9:13: expected a list such as [\"a\", \"b\"], got a single value",
               ":11:5: channel 'case-system': a webhook needs secret_credential (deliveries are signed)",
               ":13:10: plain http:// is only allowed to this machine (localhost, 127.0.0.1, [::1]); use https://",
               ":14:5: channel 'mail': smtp needs from: (the sender address)",
               ":14:5: channel 'mail': username_credential and password_credential go together",
               ":20:10: plain http:// is only allowed to this machine (localhost, 127.0.0.1, [::1]); use https://",
               ":23:11: unknown channel type 'fax' (webhook, smtp)",
               ":26:14: '36h': write whole days, at most 365d",
               ":27:45: unknown key 'watch' in service_time (known keys: urgent, outreach)",
               ":28:17: '0' is out of range (1 to 100)",
               ":30:16: '1000' is out of range (1 to 256)");
}

static void test_access_errors(void **state) {
        (void) state;
        EXPECT("access-errors.yaml",
               ":3:27: '-bad' is not a login: a PostgreSQL role name of letters, digits, '_', '.', '@' and '-' (at "
               "most 63, not starting with '.', '@' or '-')",
               ":3:35: login 'anna.k' is listed twice (first at line 3)",
               ":8:18: login 'maria.l' is already a caseworker (line 6): a login has one function",
               ":9:23: 'a role with spaces' is not a login: a PostgreSQL role name of letters, digits, '_', '.', '@' "
               "and '-' (at most 63, not starting with '.', '@' or '-')",
               ":10:14: login 'olle.d' is already an operator (line 9): a login has one function",
               ":13:21: a case system serves team 'söder', which teams: does not define",
               ":14:14: login 'procapita' is already a case system (line 12): a login has one function",
               ":15:14: a case system serves at least one team",
               ":16:3: unknown key 'cleaners' in people (known keys: coordinators, operators, auditors, case_systems)",
               ":18:25: invalid retention period '6m': retention is counted in whole days: use d, w, mo or y "
               "(months are mo; m is minutes)",
               ":19:26: invalid retention period '18': a number without a unit; add d, w, mo or y (e.g. 30d, 6mo, 2y)",
               ":20:15: invalid retention period '12h': retention is counted in whole days: use d, w, mo or y "
               "(months are mo; m is minutes)",
               ":21:15: invalid retention period '0d': must be at least a day",
               ":23:3: unknown key 'fetches' in retention (known keys: signals_without_task, households_with_tasks, "
               "quarantine, access_log, audit_log)");
}

static void test_retention_parse(void **state) {
        struct retention_period p;
        const char *why;

        (void) state;
        assert_int_equal(retention_parse("6mo", &p, &why), 0);
        assert_int_equal(p.months, 6);
        assert_int_equal(p.days, 0);
        assert_int_equal(retention_parse("1y6mo2w3d", &p, &why), 0);
        assert_int_equal(p.months, 18);
        assert_int_equal(p.days, 17);
        assert_int_equal(retention_parse("1d", &p, &why), 0);
        assert_int_equal(retention_parse("", &p, &why), -EINVAL);
        assert_int_equal(retention_parse("d", &p, &why), -EINVAL);
        assert_int_equal(retention_parse("1dd", &p, &why), -EINVAL);
        assert_int_equal(retention_parse("99999999999999999999d", &p, &why), -EINVAL);
        assert_string_equal(why, "too long (at most 100 years)");
        assert_int_equal(retention_parse("101y", &p, &why), -EINVAL);
        assert_int_equal(retention_parse("24h", &p, &why), -EINVAL);
}

/* Writes a credential file into dir. */
static void write_credential(const char *dir, const char *name, const char *value) {
        _cleanup_free_ char *file = NULL;
        FILE *f;

        assert_true(asprintf(&file, "%s/%s", dir, name) > 0);
        f = fopen(file, "w");
        assert_non_null(f);
        fputs(value, f);
        assert_int_equal(fclose(f), 0);
}

static void test_webhook_secret(void **state) {
        char dir[] = "/tmp/bokvar-test-whsec-XXXXXX";
        static const char yaml[] = "channels:\n"
                                   "  - name: hook\n"
                                   "    type: webhook\n"
                                   "    url: https://case.example/hook\n"
                                   "    secret_credential: hook-secret\n";
        static const struct {
                const char *secret, *error;
        } cases[] = {
                /* The Standard Webhooks documentation's example secret. */
                { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", NULL },
                { "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "t.yaml:2:5: channel 'hook': the secret credential 'hook-secret' "
                                                     "must read whsec_ and a base64 key" },
                { "whsec_not*base64!", "t.yaml:2:5: channel 'hook': the secret credential 'hook-secret' must read "
                                       "whsec_ and a base64 key" },
                { "whsec_c2hvcnQ=", "t.yaml:2:5: channel 'hook': the webhook key is 5 bytes; use at least 16 (24 to "
                                    "64 is usual)" },
        };

        (void) state;
        assert_non_null(mkdtemp(dir));
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(config_unrefp) struct config *c = NULL;
                struct diag d = {};
                int r;

                write_credential(dir, "hook-secret", cases[i].secret);
                r = config_parse("t.yaml", yaml, strlen(yaml), CONFIG_LOAD_CREDENTIALS, &c, &d);
                if (!cases[i].error) {
                        assert_int_equal(r, 0);
                        assert_int_equal(c->outreach.n_channels, 1);
                        assert_int_equal(c->outreach.channels[0].key_size, 24);
                        assert_memory_equal(c->outreach.channels[0].key,
                                            "\x31\xf2\x90\xf6\xbf\x06\x29\x8a\xab\x4f\x08\xd4\x3c\x3f"
                                            "\x08\x2c\xf6\x48\xa3\x62\xda\x2d\xa4\xb0", 24);
                } else {
                        assert_true(r < 0);
                        assert_int_equal(d.n, 1);
                        assert_string_equal(d.messages[0], cases[i].error);
                }
                diag_free(&d);
        }
        write_credential(dir, "hook-secret", "");
        {
                _cleanup_free_ char *file = NULL;

                assert_true(asprintf(&file, "%s/hook-secret", dir) > 0);
                unlink(file);
        }
        rmdir(dir);
        unsetenv("CREDENTIALS_DIRECTORY");
}

static void test_web_block(void **state) {
        static const char good[] = "web:\n"
                                   "  database: \"dbname=bokvar user=bokvar-web\"\n"
                                   "  identity_header: X-Signed-On\n"
                                   "  trusted_users: [www-data]\n"
                                   "  idle_exit: 0s\n"
                                   "  connections: 8\n";
        static const char bad[] = "web:\n"
                                  "  identity_header: \"X Remote: User\"\n"
                                  "  trusted_users: [\"www data\"]\n"
                                  "  idle_exit: soon\n"
                                  "  connections: 0\n"
                                  "  key_credential: \"not a name\"\n"
                                  "  port: 80\n";
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct diag d = {};

        (void) state;
        assert_int_equal(config_parse("w.yaml", good, strlen(good), 0, &c, &d), 0);
        assert_string_equal(c->web.database, "dbname=bokvar user=bokvar-web");
        assert_string_equal(c->web.identity_header, "X-Signed-On");
        assert_string_equal(c->web.trusted_users[0], "www-data");
        assert_int_equal(c->web.idle_exit, 0);
        assert_int_equal(c->web.connections, 8);
        c = config_unref(c);
        /* Defaults. */
        assert_int_equal(config_parse("w.yaml", "log_level: info\n", 16, 0, &c, &d), 0);
        assert_null(c->web.identity_header);
        assert_int_equal(c->web.idle_exit, 10 * USEC_PER_MINUTE);
        assert_int_equal(c->web.connections, 4);
        c = config_unref(c);
        /* Every mistake at once. */
        assert_true(config_parse("w.yaml", bad, strlen(bad), 0, &c, &d) < 0);
        assert_int_equal(d.n, 6);
        assert_string_equal(d.messages[0], "w.yaml:2:20: 'X Remote: User' is not a header name (letters, digits and "
                                           "'-', e.g. X-Remote-User)");
        assert_string_equal(d.messages[1], "w.yaml:3:18: 'www data' is not a user name");
        assert_string_equal(d.messages[2], "w.yaml:4:14: invalid duration 'soon': a duration is a number followed by "
                                           "a unit: s, m, h, d or w (e.g. 15m)");
        assert_true(strstr(d.messages[3], "w.yaml:5:16: ") == d.messages[3]);
        assert_true(strstr(d.messages[4], "w.yaml:6:19: not a credential name") == d.messages[4]);
        assert_string_equal(d.messages[5], "w.yaml:7:3: unknown key 'port' in web (known keys: database, "
                                           "database_password_credential, identity_header, trusted_users, "
                                           "idle_exit, connections, key_credential)");
        diag_free(&d);
}

/* The installation's language, a team's own, and one bokvar does not speak. */
static void test_languages(void **state) {
        static const char good[] = "language: nb\n"
                                   "teams:\n"
                                   "  - name: norr\n"
                                   "    default: true\n"
                                   "    language: en\n"
                                   "  - name: syd\n";
        static const char bad[] = "language: no\n"
                                  "teams:\n"
                                  "  - name: norr\n"
                                  "    default: true\n"
                                  "    language: [sv]\n";
        struct diag d = {};

        (void) state;
        {
                _cleanup_(config_unrefp) struct config *c = NULL;

                assert_int_equal(config_parse("l.yaml", good, strlen(good), 0, &c, &d), 0);
                assert_string_equal(c->language, "nb");
                assert_string_equal(outreach_team_language(&c->outreach, "norr", c->language), "en");
                assert_string_equal(outreach_team_language(&c->outreach, "syd", c->language), "nb");
                assert_string_equal(outreach_team_language(&c->outreach, "gone", c->language), "nb");
        }
        {
                _cleanup_(config_unrefp) struct config *c = NULL;

                assert_int_equal(config_parse("l.yaml", "log_level: info\n", 16, 0, &c, &d), 0);
                assert_string_equal(c->language, "sv");
        }
        {
                _cleanup_(config_unrefp) struct config *c = NULL;

                assert_true(config_parse("l.yaml", bad, strlen(bad), 0, &c, &d) < 0);
                assert_int_equal(d.n, 2);
                assert_string_equal(d.messages[0], "l.yaml:1:11: language 'no' is not one bokvar speaks (en, nb, sv)");
                assert_true(strstr(d.messages[1], "l.yaml:5:15: ") == d.messages[1]);
                diag_free(&d);
        }
}

static void test_manual_feed_name_is_reserved(void **state) {
        static const char yaml[] = "feeds:\n"
                                   "  - name: manual\n"
                                   "    source: landlord\n"
                                   "    url: file:x.csv\n"
                                   "    format: csv\n"
                                   "    map: { external_id: a, kind: b, occurred_at: c }\n";
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct diag d = {};

        (void) state;
        assert_true(config_parse("m.yaml", yaml, strlen(yaml), 0, &c, &d) < 0);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.messages[0], "m.yaml:2:11: feed name 'manual' is bokvar's own, for notices registered "
                                           "by hand; choose another");
        diag_free(&d);
}

static void test_too_large(void **state) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        char path[] = "/tmp/bokvar-test-config-XXXXXX";
        struct diag d = {};
        FILE *f;
        int fd;

        (void) state;
        fd = mkstemp(path);
        assert_true(fd >= 0);
        f = fdopen(fd, "w");
        assert_non_null(f);
        fputs("log_level: info\n", f);
        for (size_t i = 0; i <= YDOC_MAX_SIZE / 16; i++)
                fputs("# padding line.\n", f); /* 16 bytes */
        assert_int_equal(fclose(f), 0);

        assert_true(config_load(path, 0, &c, &d) < 0);
        assert_int_equal(d.n, 1);
        assert_non_null(strstr(d.messages[0], "file is larger than 1048576 bytes; refusing to read it"));
        diag_free(&d);
        unlink(path);
}

static void test_missing_file(void **state) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct diag d = {};

        (void) state;
        assert_true(config_load("/nonexistent/bokvar.yaml", 0, &c, &d) < 0);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.messages[0], "/nonexistent/bokvar.yaml: cannot read: No such file or directory");
        diag_free(&d);
}

static void test_example_loads(void **state) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        _cleanup_free_ char *path = NULL;
        struct diag d = {};

        (void) state;
        assert_true(asprintf(&path, "%s/config/bokvar.yaml", getenv("SOURCE_ROOT")) > 0);
        if (config_load(path, CONFIG_CHECK_FILES, &c, &d) < 0)
                diag_print(&d, stderr);
        assert_int_equal(d.n, 0);
        assert_non_null(c);
        assert_null(c->database); /* empty: libpq's environment applies */
        assert_int_equal(c->log_level, LOG_INFO);
        assert_int_equal(c->n_feeds, 3);
        assert_string_equal(c->feeds[0].name, "hyresvard-ab");
        assert_int_equal(c->feeds[0].format, FEED_FORMAT_CSV);
        assert_string_equal(c->feeds[0].csv.encoding, "WINDOWS-1252");
        assert_int_equal(c->feeds[0].csv.delimiter, ';');
        assert_true(c->feeds[0].decimal_comma);
        /* file: URLs are read next to the configuration. */
        assert_true(startswith(c->feeds[0].path, getenv("SOURCE_ROOT")) != NULL);
        assert_string_equal(c->feeds[2].records, "data.notices");
        assert_string_equal(c->feeds[2].map[FIELD_KIND].value, "utility_disconnection");
        assert_int_equal(c->outreach.n_teams, 3);
        assert_string_equal(c->outreach.teams[0].postal_codes[0], "603");
        assert_true(c->outreach.teams[2].is_default);
        assert_int_equal(c->outreach.lead_time, 3 * USEC_PER_DAY);
        assert_int_equal(c->outreach.service_urgent, 2 * USEC_PER_DAY);
        assert_int_equal(c->outreach.concurrency, 16);
        assert_string_equal(c->access.coordinators[0], "maria.l");
        assert_int_equal(c->access.n_case_systems, 1);
        assert_string_equal(c->access.case_systems[0].teams[0], "norr");
        assert_int_equal(c->access.signals_without_task.months, 6);
        assert_int_equal(c->access.households_with_tasks.months, 18);
        assert_int_equal(c->access.quarantine.days, 30);
        assert_int_equal(c->access.access_log.months, 24);
}

static void test_credentials_loaded_when_asked(void **state) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        char dir[] = "/tmp/bokvar-test-creds-XXXXXX";
        static const char yaml[] = "database_password_credential: db-pass\n";
        _cleanup_free_ char *file = NULL;
        struct diag d = {};
        FILE *f;

        (void) state;
        assert_non_null(mkdtemp(dir));
        setenv("CREDENTIALS_DIRECTORY", dir, 1);

        /* Missing: a clear error naming the key and the credential. */
        assert_true(config_parse("t.yaml", yaml, strlen(yaml), CONFIG_LOAD_CREDENTIALS, &c, &d) < 0);
        assert_int_equal(d.n, 1);
        assert_true(startswith(d.messages[0], "t.yaml: database_password_credential: credential 'db-pass' "
                                              "not found in $CREDENTIALS_DIRECTORY") != NULL);
        diag_free(&d);

        assert_true(asprintf(&file, "%s/db-pass", dir) > 0);
        f = fopen(file, "w");
        assert_non_null(f);
        fputs("hunter2\n", f);
        assert_int_equal(fclose(f), 0);

        assert_int_equal(config_parse("t.yaml", yaml, strlen(yaml), CONFIG_LOAD_CREDENTIALS, &c, &d), 0);
        assert_string_equal(c->database_password.value, "hunter2");

        unlink(file);
        rmdir(dir);
        unsetenv("CREDENTIALS_DIRECTORY");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_syntax_error),
                cmocka_unit_test(test_unknown_key),
                cmocka_unit_test(test_wrong_type),
                cmocka_unit_test(test_bad_value),
                cmocka_unit_test(test_duplicate_key),
                cmocka_unit_test(test_anchor),
                cmocka_unit_test(test_alias),
                cmocka_unit_test(test_tag),
                cmocka_unit_test(test_two_documents),
                cmocka_unit_test(test_too_deep),
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_not_a_mapping),
                cmocka_unit_test(test_secret_in_file),
                cmocka_unit_test(test_several_errors_in_order),
                cmocka_unit_test(test_feed_errors),
                cmocka_unit_test(test_outreach_errors),
                cmocka_unit_test(test_access_errors),
                cmocka_unit_test(test_retention_parse),
        cmocka_unit_test(test_webhook_secret),
        cmocka_unit_test(test_web_block),
                cmocka_unit_test(test_languages),
        cmocka_unit_test(test_manual_feed_name_is_reserved),
        cmocka_unit_test(test_too_large),
                cmocka_unit_test(test_missing_file),
                cmocka_unit_test(test_example_loads),
                cmocka_unit_test(test_credentials_loaded_when_asked),
        };

        fixtures = getenv("FIXTURES");
        if (!fixtures) {
                fprintf(stderr, "FIXTURES is not set; run through meson test.\n");
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
