/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The page frame and the error pages. */
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"

void page_begin(struct html *h, const char *title, const char *login, enum page_nav nav) {
        html_printf(h,
                    "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    "<title>%s – bokvar</title>\n"
                    "<link rel=\"stylesheet\" href=\"/bokvar.css\">\n</head>\n<body>\n"
                    "<a class=\"skip\" href=\"#main\">%s</a>\n"
                    "<header class=\"site\">\n<a class=\"brand\" href=\"/\">bokvar</a>\n",
                    catalog_lang(l10n_current()), title, _("Skip to the content"));
        if (login) {
                html_printf(h, "<nav aria-label=\"%s\">\n<ul>\n", _("Main menu"));
                html_markup(h, "<li><a href=\"/\"");
                if (nav == PAGE_NAV_WORKLIST)
                        html_markup(h, " aria-current=\"page\"");
                html_printf(h, ">%s</a></li>\n<li><a href=\"/notice\"", _("Worklist"));
                if (nav == PAGE_NAV_NOTICE)
                        html_markup(h, " aria-current=\"page\"");
                html_printf(h, ">%s</a></li>\n", _("Register a notice"));
                html_markup(h, "</ul>\n</nav>\n");
                html_printf(h, "<p class=\"who\">%s <strong>%s</strong></p>\n", _("Signed in as"), login);
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
        case 413: return _("Too much was sent");
        case 503: return _("The service is busy or cannot reach its database");
        default: return _("Something went wrong");
        }
}

void page_error(struct html *h, unsigned status, const char *login, const char *message) {
        const char *title = page_status_title(status);

        page_begin(h, title, login, PAGE_NAV_NONE);
        html_printf(h, "<h1>%s</h1>\n<p>%s</p>\n", title, message);
        if (login)
                html_printf(h, "<p><a href=\"/\">%s</a></p>\n", _("Back to the worklist"));
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
        const char *dot = strchr(numeric, '.');
        size_t whole = dot ? (size_t) (dot - numeric) : strlen(numeric);
        char out[64];
        size_t o = 0;

        if (whole > 24 || strspn(numeric, "0123456789") != whole) {
                html_text(h, numeric);
                return;
        }
        for (size_t i = 0; i < whole; i++) {
                /* Thousands apart by a no-break space, as Swedish writes them. */
                if (i > 0 && (whole - i) % 3 == 0) {
                        memcpy(out + o, "\xc2\xa0", 2);
                        o += 2;
                }
                out[o++] = numeric[i];
        }
        if (dot && strcmp(dot, ".00") != 0) {
                out[o++] = ',';
                for (const char *p = dot + 1; *p && o < sizeof out - 8; p++)
                        out[o++] = *p;
        }
        out[o] = 0;
        html_printf(h, "%s\xc2\xa0kr", out);
}

void page_time(struct html *h, const char *timestamp) {
        html_text_n(h, timestamp, MIN(strlen(timestamp), (size_t) 16));
}

void page_identity(struct html *h, const char *id) {
        if (strlen(id) == 12 && strspn(id, "0123456789") == 12) {
                html_text_n(h, id, 8);
                html_markup(h, "-");
                html_text(h, id + 8);
        } else
                html_text(h, id);
}
