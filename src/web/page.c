/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The page frame and the error pages. */
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"

/* The pages each function of person has, in the menu's order. */
static const struct {
        enum page_nav nav;
        const char *path;
        const char *label;
        const char *functions;  /* who sees it: a space-separated list */
} menu[] = {
        { PAGE_NAV_WORKLIST, "/", N_("Worklist"), " caseworker coordinator " },
        { PAGE_NAV_TEAMS, "/teams", N_("Teams"), " coordinator " },
        { PAGE_NAV_ACCESS_LOG, "/access-log", N_("Access log"), " auditor " },
        { PAGE_NAV_REPORT, "/report", N_("Yearly report"), " coordinator auditor " },
        { PAGE_NAV_FEEDS, "/feeds", N_("Feeds and deliveries"), " coordinator operator " },
        { PAGE_NAV_NOTICE, "/notice", N_("Register a notice"), " caseworker coordinator " },
};

void page_begin(struct html *h, const char *title, const char *login, const char *function, enum page_nav nav) {
        const char *lang = catalog_lang(l10n_current());

        html_printf(h,
                    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>%s – bokvar</title>\n"
                    "<link rel=\"stylesheet\" href=\"/bokvar.css\">\n</head>\n<body>\n"
                    "<a class=\"skip\" href=\"#main\">%s</a>\n"
                    "<header class=\"site\">\n<a class=\"brand\" href=\"/\">bokvar</a>\n",
                    lang, title, _("Skip to the content"));
        if (login) {
                bool any = false;

                for (size_t i = 0; function && i < ELEMENTSOF(menu); i++) {
                        char who[64];

                        (void) snprintf(who, sizeof who, " %s ", function);
                        if (!strstr(menu[i].functions, who))
                                continue;
                        if (!any)
                                html_printf(h, "<nav aria-label=\"%s\">\n<ul>\n", _("Main menu"));
                        any = true;
                        html_printf(h, "<li><a href=\"%s\"", menu[i].path);
                        if (nav == menu[i].nav)
                                html_markup(h, " aria-current=\"page\"");
                        html_printf(h, ">%s</a></li>\n", _(menu[i].label));
                }
                if (any)
                        html_markup(h, "</ul>\n</nav>\n");
                html_printf(h, "<p class=\"who\">%s <strong>%s</strong>", _("Signed in as"), login);
                /* The language, named in itself too: findable by whoever
                 * cannot read the one shown. */
                html_markup(h, " · <a href=\"/settings\"");
                if (nav == PAGE_NAV_SETTINGS)
                        html_markup(h, " aria-current=\"page\"");
                html_printf(h, ">%s (<span lang=\"%s\">%s</span>)</a></p>\n", _("Language"), lang,
                            l10n_language_name(lang) ? l10n_language_name(lang) : lang);
        }
        html_markup(h, "</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

void page_end(struct html *h) {
        html_printf(h, "</main>\n<footer class=\"site\"><p>%s</p></footer>\n</body>\n</html>\n",
                    _("bokvar: early warning against evictions. Everything you open here is logged."));
}

const char *page_status_title(unsigned status) {
        switch (status) {
        case 400: return _("The request could not be read");
        case 401: return _("You are not signed in");
        case 403: return _("You do not have access");
        case 404: return _("Page not found");
        case 405: return _("That is not allowed here");
        case 409: return _("That cannot be done now");
        case 413: return _("Too much was sent");
        case 503: return _("The service is busy or cannot reach its database");
        default: return _("Something went wrong");
        }
}

void page_error(struct html *h, unsigned status, const char *login, const char *function, const char *message) {
        const char *title = page_status_title(status);

        page_begin(h, title, login, function, PAGE_NAV_NONE);
        html_printf(h, "<h1>%s</h1>\n<p>%s</p>\n", title, message);
        if (login)
                html_printf(h, "<p><a href=\"/\">%s</a></p>\n", _("Back to the start page"));
        page_end(h);
}

void page_csrf_field(struct html *h, const char *token) {
        html_printf(h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n", token);
}

void page_error_summary(struct html *h, const struct page_form *pf) {
        const struct form_errors *fe = pf->errors;

        if (!fe || fe->n == 0)
                return;
        html_printf(h,
                    "<div class=\"error-summary\" role=\"alert\" aria-labelledby=\"%s-errors\">\n"
                    "<h2 id=\"%s-errors\">%s</h2>\n<ul>\n",
                    pf->name, pf->name, _("The form was not saved. Correct this and send it again:"));
        for (size_t i = 0; i < fe->n; i++) {
                if (fe->e[i].field)
                        html_printf(h, "<li><a href=\"#%s-%s\">%s</a></li>\n", pf->name, fe->e[i].field,
                                    fe->e[i].message);
                else
                        html_printf(h, "<li>%s</li>\n", fe->e[i].message);
        }
        html_markup(h, "</ul>\n</div>\n");
}

static const char *or_empty(const char *s) {
        return s ? s : "";
}

/* What a field shows: what was sent, or the default. */
static const char *field_value(const struct page_form *pf, const char *field, const char *value) {
        if (pf->sent)
                return form_get(pf->sent, field, NULL);
        return value;
}

/* The label, hint and mistake of a field, and the attributes its control
 * needs to point at them. */
static void field_begin(struct html *h, const struct page_form *pf, const char *field, const char *label,
                        const char *hint, const char **ret_error) {
        const char *error = form_errors_get(pf->errors, field);

        html_printf(h, "<div class=\"field%s\">\n<label for=\"%s-%s\">%s</label>\n", error ? " invalid" : "",
                    pf->name, field, label);
        if (hint)
                html_printf(h, "<span class=\"hint\" id=\"%s-%s-hint\">%s</span>\n", pf->name, field, hint);
        if (error)
                html_printf(h, "<span class=\"field-error\" id=\"%s-%s-error\">%s</span>\n", pf->name, field, error);
        *ret_error = error;
}

static void control_attributes(struct html *h, const struct page_form *pf, const char *field, const char *hint,
                               const char *error) {
        html_printf(h, " id=\"%s-%s\" name=\"%s\"", pf->name, field, field);
        if (hint || error) {
                html_markup(h, " aria-describedby=\"");
                if (hint)
                        html_printf(h, "%s-%s-hint", pf->name, field);
                if (hint && error)
                        html_markup(h, " ");
                if (error)
                        html_printf(h, "%s-%s-error", pf->name, field);
                html_markup(h, "\"");
        }
        if (error)
                html_markup(h, " aria-invalid=\"true\"");
}

void page_input(struct html *h, const struct page_form *pf, const char *field, const char *label, const char *hint,
                enum page_input type, const char *value, bool required, size_t maxlength) {
        const char *error;

        field_begin(h, pf, field, label, hint, &error);
        html_markup(h, "<input");
        if (type == PAGE_INPUT_DATE)
                html_markup(h, " type=\"date\"");
        else if (type == PAGE_INPUT_NUMBER)
                html_markup(h, " type=\"text\" inputmode=\"numeric\"");
        else
                html_markup(h, " type=\"text\"");
        control_attributes(h, pf, field, hint, error);
        if (maxlength > 0 && type != PAGE_INPUT_DATE)
                html_printf(h, " maxlength=\"%zu\"", maxlength);
        if (required)
                html_markup(h, " required aria-required=\"true\"");
        html_printf(h, " value=\"%s\">\n</div>\n", or_empty(field_value(pf, field, value)));
}

void page_textarea(struct html *h, const struct page_form *pf, const char *field, const char *label,
                   const char *hint, const char *value, size_t maxlength) {
        const char *error;

        field_begin(h, pf, field, label, hint, &error);
        html_markup(h, "<textarea");
        control_attributes(h, pf, field, hint, error);
        if (maxlength > 0)
                html_printf(h, " maxlength=\"%zu\"", maxlength);
        html_printf(h, ">%s</textarea>\n</div>\n", or_empty(field_value(pf, field, value)));
}

void page_select(struct html *h, const struct page_form *pf, const char *field, const char *label, const char *hint,
                 const char *const *values, const char *const *labels, size_t n, const char *placeholder,
                 const char *value, bool required) {
        const char *error, *current = field_value(pf, field, value);

        field_begin(h, pf, field, label, hint, &error);
        html_markup(h, "<select");
        control_attributes(h, pf, field, hint, error);
        if (required)
                html_markup(h, " required aria-required=\"true\"");
        html_markup(h, ">\n");
        if (placeholder)
                html_printf(h, "<option value=\"\">%s</option>\n", placeholder);
        for (size_t i = 0; i < n; i++)
                html_printf(h, "<option value=\"%s\"%s>%s</option>\n", values[i],
                            current && streq(current, values[i]) ? " selected" : "", labels[i]);
        html_markup(h, "</select>\n</div>\n");
}

void page_radios(struct html *h, const struct page_form *pf, const char *field, const char *legend,
                 const char *const *values, const char *const *labels, size_t n, const char *value) {
        const char *error = form_errors_get(pf->errors, field), *current = field_value(pf, field, value);

        html_printf(h, "<fieldset class=\"field choice%s\" id=\"%s-%s\"", error ? " invalid" : "", pf->name, field);
        if (error)
                html_printf(h, " aria-describedby=\"%s-%s-error\"", pf->name, field);
        html_printf(h, ">\n<legend>%s</legend>\n", legend);
        if (error)
                html_printf(h, "<span class=\"field-error\" id=\"%s-%s-error\">%s</span>\n", pf->name, field, error);
        for (size_t i = 0; i < n; i++)
                html_printf(h,
                            "<input type=\"radio\" id=\"%s-%s-%s\" name=\"%s\" value=\"%s\"%s>"
                            "<label for=\"%s-%s-%s\">%s</label>\n",
                            pf->name, field, values[i], field, values[i],
                            current && streq(current, values[i]) ? " checked" : "", pf->name, field, values[i],
                            labels[i]);
        html_markup(h, "</fieldset>\n");
}

void page_amount(struct html *h, const char *numeric) {
        char out[L10N_TEXT_MAX];

        if (!numeric)
                return;
        html_text(h, l10n_amount(numeric, out) >= 0 ? out : numeric);
}

void page_int(struct html *h, long long v) {
        char out[L10N_TEXT_MAX];

        if (l10n_int(v, out) >= 0)
                html_text(h, out);
}

void page_date(struct html *h, const char *date) {
        char out[L10N_TEXT_MAX];

        if (!date)
                return;
        if (l10n_date(date, out) < 0) {
                html_text(h, date);
                return;
        }
        html_printf(h, "<time datetime=\"%s\">%s</time>", date, out);
}

const char *page_date_text(const char *date, char buf[static L10N_TEXT_MAX]) {
        return date && l10n_date(date, buf) >= 0 ? buf : date;
}

void page_time(struct html *h, const char *timestamp) {
        char out[L10N_TEXT_MAX], machine[17];

        if (!timestamp)
                return;
        if (l10n_timestamp(timestamp, out) < 0) {
                html_text(h, timestamp);
                return;
        }
        /* 2026-12-02T14:05: a valid local date and time string. */
        (void) snprintf(machine, sizeof machine, "%.10sT%.5s", timestamp, timestamp + 11);
        html_printf(h, "<time datetime=\"%s\">%s</time>", machine, out);
}

void page_identity(struct html *h, const char *id) {
        if (strlen(id) == 12 && strspn(id, "0123456789") == 12) {
                html_text_n(h, id, 8);
                html_markup(h, "-");
                html_text(h, id + 8);
        } else
                html_text(h, id);
}
