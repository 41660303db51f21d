/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every e-mail an event sends, in every language bokvar speaks: each text
 * translated (no English of the sources left in a Swedish or Norwegian
 * mail), the dates and labels in the language's own words, the figures
 * aligned in its own widths. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/outreach/mail.h"

static const char *const kinds[] = { "created", "escalated", "risk_lowered", "overdue", "something_new" };

static struct mail_event event(const char *kind) {
        return (struct mail_event){
                .event_id = "evt_0123abcd",
                .kind = kind,
                .task_id = "17",
                .team = "norr",
                .risk_class = "urgent",
                .score = "125",
                .due = "2026-12-02",
                .deadline = "2026-12-06",
                .children = "2",
                .assignee = "anna.k",
                .rules = "termination-notice, children",
        };
}

static void test_every_template_in_every_language(void **state) {
        (void) state;
        for (const char *const *lang = l10n_languages(); *lang; lang++)
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        struct mail_event ev = event(kinds[k]);
                        unsigned long before = l10n_misses();
                        _cleanup_free_ char *subject = NULL, *text = NULL;

                        assert_int_equal(mail_write(&ev, *lang, &subject, &text), 0);
                        /* Every text it asked for is in the catalogue. */
                        if (l10n_misses() != before)
                                fail_msg("the %s e-mail of a %s event uses a text %s.po does not translate:\n%s\n%s",
                                         *lang, kinds[k], *lang, subject, text);
                        assert_null(strchr(subject, '\n'));
                        assert_non_null(strstr(text, "bokvarctl task show 17\n"));
                        assert_non_null(strstr(text, "termination-notice, children\n"));
                        assert_non_null(strstr(text, " anna.k\n"));
                        assert_non_null(strstr(text, "evt_0123abcd"));
                        /* The catalogue in use is left as it was. */
                        assert_null(l10n_current());
                }
        l10n_done();
}

static void test_words(void **state) {
        struct mail_event ev = event("created");
        _cleanup_free_ char *s1 = NULL, *t1 = NULL, *s2 = NULL, *t2 = NULL, *s3 = NULL, *t3 = NULL, *s4 = NULL,
                            *t4 = NULL;

        (void) state;
        assert_int_equal(mail_write(&ev, "sv", &s1, &t1), 0);
        assert_string_equal(s1, "bokvar: uppgift 17 öppnad (Akut, team norr)");
        assert_true(startswith(t1, "Ett hushåll nådde klassen Akut: uppgift 17 är öppen för team norr.\n\n"));
        /* Labels aligned in Swedish widths; the dates in full, in Swedish. */
        assert_non_null(strstr(t1, "\nSka vara klar:          2 december 2026\n"));
        assert_non_null(strstr(t1, "\nLagstadgad frist:       6 december 2026\n"));
        assert_non_null(strstr(t1, "\nReglerna som gav poäng: termination-notice, children\n"));

        ev = event("overdue");
        assert_int_equal(mail_write(&ev, "nb", &s2, &t2), 0);
        assert_string_equal(s2, "bokvar: oppgave 17 forsinket (Haster, team norr)");
        assert_true(startswith(t2, "Oppgave 17 er forsinket: den skulle vært ferdig 2. desember 2026, og ingen har "
                                   "lukket den.\n"));

        ev = event("escalated");
        ev.deadline = NULL;
        ev.assignee = NULL;
        assert_int_equal(mail_write(&ev, "en", &s3, &t3), 0);
        assert_string_equal(s3, "bokvar: task 17 escalated (Urgent, team norr)");
        assert_true(startswith(t3, "Task 17 is escalated: the household's class is now Urgent.\n\n"));
        assert_non_null(strstr(t3, "\nLegal deadline:   none known\n"));
        assert_non_null(strstr(t3, "\nAssigned to:      the team\n"));

        /* A language not built in: the English of the sources. */
        ev = event("risk_lowered");
        assert_int_equal(mail_write(&ev, "de", &s4, &t4), 0);
        assert_string_equal(s4, "bokvar: task 17, risk lowered (Urgent, team norr)");

        ev.task_id = NULL;
        assert_int_equal(mail_write(&ev, "sv", &s4, &t4), -EINVAL);
        l10n_done();
}

/* Children nobody reported (NULL from the claim, never 0) read as unknown in
 * each language; none is 0. */
static void test_children_unknown(void **state) {
        static const struct {
                const char *lang, *line;
        } unknown[] = {
                { "sv", "\nBarn:                   okänt\n" },
                { "nb", "\nBarn:  " },
                { "en", "\nChildren:         unknown\n" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(unknown); i++) {
                struct mail_event ev = event("created");
                _cleanup_free_ char *s1 = NULL, *t1 = NULL, *s2 = NULL, *t2 = NULL;

                ev.children = NULL;
                assert_int_equal(mail_write(&ev, unknown[i].lang, &s1, &t1), 0);
                assert_non_null(strstr(t1, unknown[i].line));
                if (streq(unknown[i].lang, "nb"))
                        assert_non_null(strstr(t1, " ukjent\n"));
                ev.children = "0";
                assert_int_equal(mail_write(&ev, unknown[i].lang, &s2, &t2), 0);
                assert_null(strstr(t2, unknown[i].lang[0] == 's' ? "okänt" : unknown[i].lang[0] == 'n' ? "ukjent" : "unknown"));
                assert_non_null(strstr(t2, " 0\n"));
        }
        l10n_done();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_template_in_every_language),
                cmocka_unit_test(test_words),
                cmocka_unit_test(test_children_unknown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
