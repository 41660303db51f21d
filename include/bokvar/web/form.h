/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Form fields from a POST body (application/x-www-form-urlencoded), and
 * the checks every field of every form gets before anything reads it as
 * text: valid UTF-8, no control characters, no more than a field holds.
 * Values are kept as the bytes sent, so that a refused form can show back
 * exactly what was typed (escaped, by the HTML writer). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct form_field {
        char *name;
        char *value;       /* NUL-terminated; may hold other NULs (value_len counts them) */
        size_t value_len;
};

struct form {
        struct form_field *fields;
        size_t n;
};

/* Parses a urlencoded body; -EBADMSG for a broken %-escape, -E2BIG for
 * more than FORM_MAX_FIELDS fields. */
#define FORM_MAX_FIELDS 64
int form_parse(const char *body, size_t len, struct form *ret);
void form_done(struct form *f);

/* The first value of field name, or NULL; *ret_len (optional) its length. */
const char *form_get(const struct form *f, const char *name, size_t *ret_len);

/* What is wrong with a field's text, in the order they are checked. */
enum form_problem {
        FORM_OK,
        FORM_MISSING,       /* absent or blank, where a value is required */
        FORM_NOT_TEXT,      /* not UTF-8, or control characters (NUL among them) */
        FORM_TOO_LONG,      /* more characters than the field takes */
};

/* The field as text: trimmed of surrounding blanks; NULL (and FORM_OK)
 * when absent or blank and not required. multiline allows line breaks
 * (notes); max_chars counts characters, not bytes. */
enum form_problem form_text(const struct form *f, const char *name, bool required, bool multiline, size_t max_chars,
                            const char **ret, size_t *ret_len);

/* Mistakes in a form, field by field, shown all at once. Messages are
 * static texts (translated ones are: they live in the catalogue). */
#define FORM_MAX_ERRORS 24
struct form_errors {
        struct {
                const char *field;      /* NULL: the form as a whole */
                const char *message;
        } e[FORM_MAX_ERRORS];
        size_t n;
};

/* Adds one; a second mistake of the same field is left out (one message a
 * field), and so is anything beyond FORM_MAX_ERRORS. */
void form_errors_add(struct form_errors *fe, const char *field, const char *message);
/* The message for field (NULL: the form's own), or NULL. */
const char *form_errors_get(const struct form_errors *fe, const char *field);
