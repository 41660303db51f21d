/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An event's e-mail, in words. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/labels.h"
#include "bokvar/basic/util.h"
#include "bokvar/outreach/mail.h"

/* What the event says first: which of its figures go into the sentence. */
enum first_args {
        ARGS_CLASS_TASK_TEAM,
        ARGS_TASK_CLASS,
        ARGS_TASK_DUE,
};

/* What the event is, for the subject (task, class, team) and the text's
 * first line. */
static const struct {
        const char *kind;
        const char *subject;
        const char *first;
        enum first_args args;
} kinds[] = {
        { "created", N_("bokvar: task %1$s opened (%2$s, team %3$s)"),
          N_("A household reached the class %1$s: task %2$s is open for team %3$s."), ARGS_CLASS_TASK_TEAM },
        { "escalated", N_("bokvar: task %1$s escalated (%2$s, team %3$s)"),
          N_("Task %1$s is escalated: the household's class is now %2$s."), ARGS_TASK_CLASS },
        { "risk_lowered", N_("bokvar: task %1$s, risk lowered (%2$s, team %3$s)"),
          N_("Task %1$s: the household's risk fell to the class %2$s. The task stays open until someone closes it."),
          ARGS_TASK_CLASS },
        { "overdue", N_("bokvar: task %1$s overdue (%2$s, team %3$s)"),
          N_("Task %1$s is overdue: it was due %2$s and nobody has closed it."), ARGS_TASK_DUE },
};

static size_t width(const char *s) {
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        w++;
        return w;
}

static const char *or_text(const char *v, const char *none) {
        return isempty(v) ? none : v;
}

static int write_mail(const struct mail_event *ev, char **ret_subject, char **ret_text) {
        _cleanup_free_ char *subject = NULL, *first = NULL;
        char due[L10N_TEXT_MAX], deadline[L10N_TEXT_MAX];
        const char *risk_class = or_text(label_risk_class(ev->risk_class), "?");
        const char *subject_fmt = N_("bokvar: task %1$s (%2$s, team %3$s)"), *first_fmt = NULL;
        enum first_args args = ARGS_TASK_CLASS;
        struct buf text = {};
        size_t label_width = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq_ptr(ev->kind, kinds[i].kind)) {
                        subject_fmt = kinds[i].subject;
                        first_fmt = kinds[i].first;
                        args = kinds[i].args;
                }
        if (ev->due && l10n_date(ev->due, due) < 0)
                (void) snprintf(due, sizeof due, "%s", ev->due);
        if (ev->deadline && l10n_date(ev->deadline, deadline) < 0)
                (void) snprintf(deadline, sizeof deadline, "%s", ev->deadline);

        r = l10n_format(_(subject_fmt), (const char *const[]){ ev->task_id, risk_class, or_text(ev->team, "?"), NULL },
                        &subject);
        if (r >= 0 && first_fmt)
                r = l10n_format(_(first_fmt),
                                args == ARGS_CLASS_TASK_TEAM ? (const char *const[]){ risk_class, ev->task_id,
                                                                                      or_text(ev->team, "?"), NULL }
                                : args == ARGS_TASK_CLASS  ? (const char *const[]){ ev->task_id, risk_class, NULL }
                                                           : (const char *const[]){ ev->task_id, ev->due ? due : "?",
                                                                                    NULL },
                                &first);
        if (r < 0)
                return r;

        /* The facts, their labels aligned in the language's own widths. */
        const struct {
                const char *label, *value;
        } facts[] = {
                { _("Class:"), risk_class },
                { _("Score:"), or_text(ev->score, "?") },
                { _("Due:"), ev->due ? due : "?" },
                { _("Legal deadline:"), ev->deadline ? deadline : _("none known") },
                { _("Children:"), or_text(ev->children, _("unknown")) },
                { _("Rules that fired:"), or_text(ev->rules, _("none")) },
                { _("Assigned to:"), or_text(ev->assignee, _("the team")) },
        };
        for (size_t i = 0; i < ELEMENTSOF(facts); i++)
                label_width = MAX(label_width, width(facts[i].label));

        if (first && (buf_puts(&text, first) < 0 || buf_puts(&text, "\n\n") < 0))
                goto oom;
        for (size_t i = 0; i < ELEMENTSOF(facts); i++)
                if (buf_printf(&text, "%s%*s %s\n", facts[i].label, (int) (label_width - width(facts[i].label)), "",
                               facts[i].value) < 0)
                        goto oom;
        if (buf_printf(&text, "\n%s\n    bokvarctl task show %s\n\n-- \n%s\n",
                       _("The household, its signals and the score explained:"), ev->task_id,
                       _("bokvar sends no names, identity numbers or addresses by e-mail.")) < 0)
                goto oom;
        {
                _cleanup_free_ char *event = NULL;

                r = l10n_format(_("Event %s"), (const char *const[]){ ev->event_id, NULL }, &event);
                if (r < 0 || buf_puts(&text, event) < 0)
                        goto oom;
        }
        *ret_subject = TAKE_PTR(subject);
        *ret_text = buf_steal(&text);
        return *ret_text ? 0 : -ENOMEM;
oom:
        buf_free(&text);
        return -ENOMEM;
}

int mail_write(const struct mail_event *ev, const char *lang, char **ret_subject, char **ret_text) {
        const struct catalog *before = l10n_current();
        int r;

        if (isempty(ev->event_id) || isempty(ev->task_id))
                return -EINVAL;
        l10n_use(l10n_find(lang));
        r = write_mail(ev, ret_subject, ret_text);
        l10n_use(before);
        return r;
}
