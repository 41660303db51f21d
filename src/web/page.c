/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The page frame and the error pages. */
#include "bokvar/basic/l10n.h"
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
                html_printf(h, "<li><a href=\"/\"%s>%s</a></li>\n",
                            nav == PAGE_NAV_WORKLIST ? " aria-current=\"page\"" : "", _("Worklist"));
                html_printf(h, "<li><a href=\"/notice\"%s>%s</a></li>\n",
                            nav == PAGE_NAV_NOTICE ? " aria-current=\"page\"" : "", _("Register a notice"));
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
