/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The frame every page shares: the document head (lang, title, our one
 * stylesheet), a skip link, the site header with who is signed on and the
 * navigation, the main landmark, the footer; and the pages for errors.
 * Texts go through _(): the caller has chosen the language (l10n_use). */
#pragma once

#include "bokvar/web/html.h"

/* Where a page sits in the navigation, so that its link is marked current. */
enum page_nav {
        PAGE_NAV_NONE,
        PAGE_NAV_WORKLIST,
        PAGE_NAV_NOTICE,
};

/* title is the page's own (the site's name is added). login may be NULL
 * (error pages before anyone is known). */
void page_begin(struct html *h, const char *title, const char *login, enum page_nav nav);
void page_end(struct html *h);

/* A whole page saying what went wrong and what to do: status's title and
 * the message (plain text; no personal data). */
void page_error(struct html *h, unsigned status, const char *login, const char *message);
/* The title of an HTTP status as people read it ("Page not found"). */
const char *page_status_title(unsigned status);

/* A CSRF token field for a form. */
void page_csrf_field(struct html *h, const char *token);
