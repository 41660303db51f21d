/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The frame every page shares: the document head (lang, title, our one
 * stylesheet), a skip link, the site header with who is signed on and the
 * navigation, the main landmark, the footer; and the pages for errors.
 * Texts go through _(): the caller has chosen the language (l10n_use). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/l10n-format.h"
#include "bokvar/web/form.h"
#include "bokvar/web/html.h"

/* Where a page sits in the navigation, so that its link is marked current. */
enum page_nav {
        PAGE_NAV_NONE,
        PAGE_NAV_WORKLIST,
        PAGE_NAV_TEAMS,
        PAGE_NAV_REPORT,
        PAGE_NAV_FEEDS,
        PAGE_NAV_ACCESS_LOG,
        PAGE_NAV_NOTICE,
        PAGE_NAV_SETTINGS,
};

/* title is the page's own (the site's name is added). login may be NULL
 * (error pages before anyone is known); the menu shows the pages of the
 * person's function (NULL: not known yet, none). */
void page_begin(struct html *h, const char *title, const char *login, const char *function, enum page_nav nav);
void page_end(struct html *h);

/* A whole page saying what went wrong and what to do: status's title and
 * the message (plain text; no personal data). */
void page_error(struct html *h, unsigned status, const char *login, const char *function, const char *message);
/* The title of an HTTP status as people read it ("Page not found"). */
const char *page_status_title(unsigned status);

/* Values as the database writes them, as people read them in the page's
 * language (basic/l10n-format.h); what cannot be read so is shown as it
 * came. An amount of money (12345.50: 12 345,50 kr); a whole number; a
 * date and a timestamp (to the minute), each in a <time> element that
 * gives the machine-readable value too. NULL writes nothing. */
void page_amount(struct html *h, const char *numeric);
void page_int(struct html *h, long long v);
void page_date(struct html *h, const char *date);
void page_time(struct html *h, const char *timestamp);
/* A date as text in the page's language, for a sentence: into buf, or
 * date itself when it is no date. */
const char *page_date_text(const char *date, char buf[static L10N_TEXT_MAX]);
/* An identity number as stored (twelve digits for a Swedish one), as
 * people write it (YYYYMMDD-NNNN). */
void page_identity(struct html *h, const char *id);

/* A CSRF token field for a form. */
void page_csrf_field(struct html *h, const char *token);

/* A form on a page: its name (the fields' ids are NAME-FIELD), what was
 * sent (shown again as it was typed, escaped) or NULL for the defaults,
 * and its mistakes. Each field is labelled, points to its hint and its
 * mistake (aria-describedby) and is marked aria-invalid when wrong. */
struct page_form {
        const char *name;
        const struct form *sent;
        const struct form_errors *errors;
};

/* The summary of a refused form's mistakes, each linked to its field, at
 * the top of the form; nothing when there are none. */
void page_error_summary(struct html *h, const struct page_form *pf);

enum page_input {
        PAGE_INPUT_TEXT,
        PAGE_INPUT_DATE,
        PAGE_INPUT_NUMBER,     /* text with a numeric keyboard: what was typed can be shown again */
};
void page_input(struct html *h, const struct page_form *pf, const char *field, const char *label, const char *hint,
                enum page_input type, const char *value, bool required, size_t maxlength);
void page_textarea(struct html *h, const struct page_form *pf, const char *field, const char *label,
                   const char *hint, const char *value, size_t maxlength);
/* A drop-down: values[i] shown as labels[i]; with placeholder, a first
 * empty choice. */
void page_select(struct html *h, const struct page_form *pf, const char *field, const char *label, const char *hint,
                 const char *const *values, const char *const *labels, size_t n, const char *placeholder,
                 const char *value, bool required);
/* Radio buttons in a fieldset. */
void page_radios(struct html *h, const struct page_form *pf, const char *field, const char *legend,
                 const char *const *values, const char *const *labels, size_t n, const char *value);
