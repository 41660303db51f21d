/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The vocabulary's words as people read them: every word of every
 * generated list (sql/vocabulary.py) has a label, its own within its list,
 * and the label is translated in every language built in. A word added to
 * the vocabulary without a label, or a label left out of a catalogue,
 * fails here rather than showing a stored value on a page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/vocabulary.h"

static const struct {
        const char *what;
        const char *const *names;
        const char *(*label)(const char *name);
} lists[] = {
        { "signal kinds", signal_kind_names, label_signal_kind },
        { "feed sources", feed_source_names, label_feed_source },
        { "risk classes", risk_class_names, label_risk_class },
        { "outcomes", task_outcome_names, label_task_outcome },
        { "contact channels", contact_channel_names, label_contact_channel },
        { "functions of person", actor_function_names, label_actor_function },
};

static void check_language(const char *lang) {
        unsigned long before;

        l10n_use(lang ? l10n_find(lang) : NULL);
        before = l10n_misses();
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (size_t i = 0; lists[l].names[i]; i++) {
                        const char *label = lists[l].label(lists[l].names[i]);

                        assert_non_null(label);
                        if (!*label || streq(label, lists[l].names[i]))
                                fail_msg("%s: %s: \"%s\" has no label of its own", lang ? lang : "English",
                                         lists[l].what, lists[l].names[i]);
                        /* Two words one label: people could not tell them apart. */
                        for (size_t j = 0; j < i; j++)
                                if (streq(label, lists[l].label(lists[l].names[j])))
                                        fail_msg("%s: %s: \"%s\" and \"%s\" are both \"%s\"", lang ? lang : "English",
                                                 lists[l].what, lists[l].names[j], lists[l].names[i], label);
                }
        if (l10n_misses() != before)
                fail_msg("%s: %lu lookups of a label found no translation", lang ? lang : "English",
                         l10n_misses() - before);
        l10n_use(NULL);
}

static void test_every_word_has_a_label_in_every_language(void **state) {
        (void) state;
        check_language(NULL);
        for (const char *const *l = l10n_languages(); *l; l++)
                check_language(*l);
        l10n_done();
}

static void test_words_not_in_the_vocabulary(void **state) {
        (void) state;
        /* A value the vocabulary lacks (a newer database's) is shown as it is. */
        assert_string_equal(label_signal_kind("meteor_strike"), "meteor_strike");
        assert_null(label_task_outcome(NULL));
        l10n_use(l10n_find("nb"));
        assert_string_equal(label_risk_class("urgent"), "Haster");
        l10n_use(NULL);
        l10n_done();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_word_has_a_label_in_every_language),
                cmocka_unit_test(test_words_not_in_the_vocabulary),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
