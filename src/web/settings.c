/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The person's own settings: the language bokvar-web shows them, kept in
 * the database (bokvar.my_language_set), or none, to follow the browser. */
#include <stdio.h>
#include <string.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/util.h"
#include "bokvar/web/page.h"
#include "bokvar/web/settings.h"
#include "bokvar/web/web.h"

static const char SQL_LANGUAGE_SET[] = "SELECT bokvar.my_language_set($1)";

static void render(struct web_request *wr, unsigned status) {
        const char *lang = catalog_lang(wr->catalog);
        const char *error = form_errors_get(&wr->errors, "language");
        struct html h;

        html_init(&h);
        page_begin(&h, _("Language"), wr->login, wr->function, PAGE_NAV_SETTINGS);
        html_printf(&h, "<h1>%s</h1>\n", _("Language"));
        if (streq_ptr(request_query(wr->rq, "done"), "saved") && !wr->failed_form)
                html_printf(&h, "<p class=\"notice\" role=\"status\">%s</p>\n", _("Your choice is saved."));
        html_printf(&h, "<p>%s</p>\n",
                    _("Choose the language bokvar shows you. Without a choice, the pages follow the language your "
                      "browser asks for."));
        html_markup(&h, "<form method=\"post\" action=\"/settings\">\n");
        page_csrf_field(&h, wr->csrf);
        html_printf(&h, "<fieldset class=\"field choice%s\" id=\"settings-language\"", error ? " invalid" : "");
        if (error)
                html_markup(&h, " aria-describedby=\"settings-language-error\"");
        html_printf(&h, ">\n<legend>%s</legend>\n", _("Language of the pages"));
        if (error)
                html_printf(&h, "<span class=\"field-error\" id=\"settings-language-error\">%s</span>\n", error);
        html_markup(&h, "<div><input type=\"radio\" id=\"settings-language-browser\" name=\"language\" value=\"\"");
        if (!wr->language_chosen)
                html_markup(&h, " checked");
        html_printf(&h, "><label for=\"settings-language-browser\">%s</label></div>\n", _("As my browser asks"));
        /* Each language named in itself, marked as such for screen readers. */
        for (const char *const *l = l10n_languages(); *l; l++) {
                html_printf(&h, "<div><input type=\"radio\" id=\"settings-language-%s\" name=\"language\" value=\"%s\"",
                            *l, *l);
                if (wr->language_chosen && streq(*l, lang))
                        html_markup(&h, " checked");
                html_printf(&h, "><label for=\"settings-language-%s\" lang=\"%s\">%s</label></div>\n", *l, *l,
                            l10n_language_name(*l) ? l10n_language_name(*l) : *l);
        }
        html_printf(&h, "</fieldset>\n<button type=\"submit\">%s</button>\n</form>\n", _("Save"));
        page_end(&h);
        web_respond(wr, status, &h);
}

static void on_settings(struct web_request *wr, PGresult *const *r _unused_, size_t n _unused_) {
        render(wr, 200);
}

void settings_page(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;

        /* Only the first statement: who they are, and their language. */
        if (web_batch_new(wr, &b) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_settings);
}

static void on_saved(struct web_request *wr, PGresult *const *r, size_t n) {
        if (n != 1 || !web_result_ok(r[0])) {
                web_fail(wr, n == 1 ? r[0] : NULL);
                return;
        }
        web_redirect(wr, "/settings?done=saved");
}

static void on_refused(struct web_request *wr, PGresult *const *r _unused_, size_t n _unused_) {
        render(wr, 422);
}

void settings_save(struct web_request *wr) {
        _cleanup_(db_batch_freep) struct db_batch *b = NULL;
        const struct form *f;
        const char *v, *lang = NULL;

        if (request_form(wr->rq, &f) < 0) {
                web_error(wr, 400, _("The form could not be read. Go back, reload the page and try again."));
                return;
        }
        v = form_get(f, "language", NULL);
        if (!isempty(v)) {
                lang = l10n_known(v);
                if (!lang) {
                        form_errors_add(&wr->errors, "language", _("Choose one of the languages shown."));
                        wr->failed_form = "settings";
                        wr->sent = f;
                        /* The page again, with the mistake: who they are first. */
                        if (web_batch_new(wr, &b) < 0) {
                                web_fail(wr, NULL);
                                return;
                        }
                        web_submit(wr, TAKE_PTR(b), on_refused);
                        return;
                }
        }
        if (web_batch_new(wr, &b) < 0 || db_batch_add(b, SQL_LANGUAGE_SET, 1, (const char *const[]){ lang }) < 0) {
                web_fail(wr, NULL);
                return;
        }
        web_submit(wr, TAKE_PTR(b), on_saved);
}
