/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A byte-at-a-time JSON scanner that keeps only a stack of open containers
 * and the record being captured, so a document of any size is read in
 * constant memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-scan.h"

#define KEY_MAX 256       /* longer keys are still checked, never matched */
#define NEXT_MAX 8192     /* a next-page URL or cursor */
#define NUMBER_MAX 100    /* digits and signs of one number */

enum lex {
        LEX_NONE,
        LEX_STRING,
        LEX_NUMBER,
        LEX_LITERAL,
};

enum expect {
        EXPECT_VALUE,            /* any value */
        EXPECT_VALUE_OR_CLOSE,   /* just after '[' */
        EXPECT_KEY,              /* after ',' in an object */
        EXPECT_KEY_OR_CLOSE,     /* just after '{' */
        EXPECT_COLON,
        EXPECT_COMMA_OR_CLOSE,
        EXPECT_END,              /* the top-level value is complete */
};

enum number_state {
        N_MINUS,
        N_ZERO,
        N_INT,
        N_DOT,
        N_FRAC,
        N_E,
        N_E_SIGN,
        N_EXP,
};

struct frame {
        bool object;
        int records_match;   /* how many keys of the records path lead here, or -1 */
        int next_match;      /* the same for the next path */
};

struct json_scan {
        char *const *records;
        size_t records_len;
        bool want_records;
        char *const *next;
        size_t next_len;
        size_t max_record;
        const struct json_scan_ops *ops;
        void *userdata;

        struct frame stack[JSON_SCAN_MAX_DEPTH];
        size_t depth;
        enum expect expect;
        enum lex lex;

        /* strings */
        bool is_key;
        bool escape;
        int hex_left;            /* \uXXXX digits still to come */
        unsigned hex;
        unsigned high_surrogate; /* waiting for its low half */
        int utf8_left;
        unsigned char utf8_lo, utf8_hi;   /* bounds of the next continuation byte */
        /* numbers and literals */
        enum number_state num;
        size_t num_len;
        int exp_digits;
        const char *literal;
        size_t literal_pos;

        /* the key just read, and what the value after it will match */
        char key[KEY_MAX + 1];
        size_t key_len;
        bool key_overflow;
        int child_records_match, child_next_match;

        /* the record being captured */
        bool capturing;
        bool capture_overflow;
        bool capture_is_object;
        char capture_problem[160];   /* the first thing in it PostgreSQL cannot store */
        size_t capture_depth;
        unsigned capture_line;
        struct buf capture;
        bool found_records;

        /* the next-page value being captured */
        bool capturing_next;
        struct buf next_value;

        unsigned line;
        unsigned column;
        bool failed;
        char error[160];
};

static int fail(struct json_scan *s, const char *what) {
        if (!s->failed) {
                s->failed = true;
                (void) snprintf(s->error, sizeof s->error, "line %u, column %u: %s", s->line, s->column, what);
        }
        return -EBADMSG;
}

static void scan_init(struct json_scan *s, char *const *records, char *const *next, size_t max_record,
                      const struct json_scan_ops *ops, void *userdata) {
        *s = (struct json_scan){
                .records = records,
                .want_records = records != NULL,
                .next = next,
                .max_record = max_record,
                .ops = ops,
                .userdata = userdata,
                .expect = EXPECT_VALUE,
                .line = 1,
                .column = 0,
        };
        while (records && records[s->records_len])
                s->records_len++;
        while (next && next[s->next_len])
                s->next_len++;
        /* The top-level value sits at the empty path. */
        s->child_records_match = 0;
        s->child_next_match = 0;
}

int json_scan_new(char *const *records, char *const *next, size_t max_record, const struct json_scan_ops *ops,
                  void *userdata, struct json_scan **ret) {
        struct json_scan *s = malloc(sizeof *s);

        if (!s)
                return -ENOMEM;
        scan_init(s, records, next, max_record, ops, userdata);
        *ret = s;
        return 0;
}

struct json_scan *json_scan_free(struct json_scan *s) {
        if (!s)
                return NULL;
        buf_free(&s->capture);
        buf_free(&s->next_value);
        return mfree(s);
}

const char *json_scan_error(const struct json_scan *s) {
        return s->failed ? s->error : NULL;
}

bool json_scan_found_records(const struct json_scan *s) {
        return s->found_records;
}

/* Appends one byte of the record being captured, within the size limit. */
static void capture_byte(struct json_scan *s, char c) {
        if (!s->capturing || s->capture_overflow)
                return;
        if (s->capture.len >= s->max_record) {
                s->capture_overflow = true;
                return;
        }
        if (buf_putc(&s->capture, c) < 0)
                s->capture_overflow = true;
}

/* A value is starting: is it a record, or the next-page value? */
static void value_start(struct json_scan *s, char c) {
        const struct frame *top = s->depth > 0 ? &s->stack[s->depth - 1] : NULL;

        if (s->want_records && !s->capturing && top && !top->object &&
            top->records_match == (int) s->records_len) {
                s->capturing = true;
                s->capture_overflow = false;
                s->capture_is_object = c == '{';
                s->capture_problem[0] = 0;
                s->capture_depth = s->depth;
                s->capture_line = s->line;
                buf_clear(&s->capture);
                s->found_records = true;
        }
        if (s->next && s->child_next_match == (int) s->next_len && c == '"') {
                s->capturing_next = true;
                buf_clear(&s->next_value);
        }
}

/* A value has ended at the current depth. */
static int value_done(struct json_scan *s) {
        int r = 0;

        if (s->capturing && s->depth == s->capture_depth) {
                s->capturing = false;
                if (s->capture_overflow)
                        r = s->ops->record_too_long(s->userdata, s->capture_line, s->capture.data, s->capture.len);
                else
                        r = s->ops->record(s->userdata, s->capture_line, s->capture.data ? s->capture.data : "",
                                           s->capture.len, s->capture_is_object,
                                           s->capture_problem[0] ? s->capture_problem : NULL);
                buf_clear(&s->capture);
        }
        if (s->depth == 0)
                s->expect = EXPECT_END;
        else
                s->expect = EXPECT_COMMA_OR_CLOSE;
        return r;
}

/* What a value inside the top container matches, before its key is known. */
static void child_matches(struct json_scan *s) {
        const struct frame *top = &s->stack[s->depth - 1];

        /* Array elements: paths never pass through arrays. */
        if (!top->object) {
                s->child_records_match = -1;
                s->child_next_match = -1;
        }
}

static void key_done(struct json_scan *s) {
        const struct frame *top = &s->stack[s->depth - 1];
        int rm = top->records_match, nm = top->next_match;

        s->child_records_match = -1;
        s->child_next_match = -1;
        if (s->key_overflow)
                return;
        if (rm >= 0 && (size_t) rm < s->records_len && strlen(s->records[rm]) == s->key_len &&
            memcmp(s->records[rm], s->key, s->key_len) == 0)
                s->child_records_match = rm + 1;
        if (nm >= 0 && (size_t) nm < s->next_len && strlen(s->next[nm]) == s->key_len &&
            memcmp(s->next[nm], s->key, s->key_len) == 0)
                s->child_next_match = nm + 1;
}

/* Decoded string content: to the key, or to the next-page value. */
static void string_out(struct json_scan *s, const char *p, size_t n) {
        if (s->is_key) {
                if (s->key_len + n > KEY_MAX)
                        s->key_overflow = true;
                else {
                        memcpy(s->key + s->key_len, p, n);
                        s->key_len += n;
                }
        } else if (s->capturing_next && s->next_value.len + n <= NEXT_MAX)
                (void) buf_put(&s->next_value, p, n);
}

static void string_codepoint(struct json_scan *s, unsigned cp) {
        char u[4];

        string_out(s, u, utf8_encode(u, cp));
}

static int string_end(struct json_scan *s) {
        s->lex = LEX_NONE;
        if (s->is_key) {
                key_done(s);
                s->expect = EXPECT_COLON;
                return 0;
        }
        if (s->capturing_next) {
                int r;

                s->capturing_next = false;
                r = s->ops->next(s->userdata, s->next_value.data ? s->next_value.data : "");
                if (r < 0)
                        return r;
        }
        return value_done(s);
}

/* Something inside a string or a number that PostgreSQL cannot store, in
 * a document whose shape is still clear: inside a record, the record is
 * refused and the scan goes on; in the next-page value, or when validating
 * one value, it is an error; elsewhere nothing is kept, so it does not
 * matter. Returns 0 to go on, or -EBADMSG. */
static int problem(struct json_scan *s, const char *what) {
        if (s->capturing) {
                if (!s->capture_problem[0])
                        (void) snprintf(s->capture_problem, sizeof s->capture_problem, "line %u, column %u: %s",
                                        s->line, s->column, what);
                return 0;
        }
        if (s->want_records && !s->capturing_next)
                return 0;
        return fail(s, what);
}

static int string_byte(struct json_scan *s, unsigned char c) {
        int r;

        if (s->utf8_left > 0) {
                if (c >= s->utf8_lo && c <= s->utf8_hi) {
                        s->utf8_left--;
                        s->utf8_lo = 0x80;
                        s->utf8_hi = 0xbf;
                        string_out(s, (const char *) &c, 1);
                        return 0;
                }
                /* A sequence cut short: c is read on its own below (it may
                 * be the closing quote). */
                s->utf8_left = 0;
                if ((r = problem(s, "invalid UTF-8 in a string")) < 0)
                        return r;
        }
        if (s->hex_left > 0) {
                unsigned v;

                if (c >= '0' && c <= '9')
                        v = c - '0';
                else if (c >= 'a' && c <= 'f')
                        v = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v = c - 'A' + 10;
                else {
                        s->hex_left = 0;
                        s->high_surrogate = 0;
                        if ((r = problem(s, "\\u must be followed by four hex digits")) < 0)
                                return r;
                        goto plain;
                }
                s->hex = s->hex * 16 + v;
                if (--s->hex_left > 0)
                        return 0;
                if (s->hex == 0) {
                        s->high_surrogate = 0;
                        return problem(s, "\\u0000 is not allowed in text");
                }
                if (s->hex >= 0xd800 && s->hex <= 0xdbff) {
                        if (s->high_surrogate) {
                                s->high_surrogate = 0;
                                return problem(s, "a high surrogate \\u escape must be followed by a low one");
                        }
                        s->high_surrogate = s->hex;
                        return 0;
                }
                if (s->hex >= 0xdc00 && s->hex <= 0xdfff) {
                        if (!s->high_surrogate)
                                return problem(s, "a low surrogate \\u escape without a high one before it");
                        string_codepoint(s, 0x10000 + ((s->high_surrogate - 0xd800) << 10) + (s->hex - 0xdc00));
                        s->high_surrogate = 0;
                        return 0;
                }
                if (s->high_surrogate) {
                        s->high_surrogate = 0;
                        return problem(s, "a high surrogate \\u escape must be followed by a low one");
                }
                string_codepoint(s, s->hex);
                return 0;
        }
        if (s->escape) {
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                const char *e = c ? strchr(from, c) : NULL;

                s->escape = false;
                if (c == 'u') {
                        s->hex_left = 4;
                        s->hex = 0;
                        return 0;
                }
                if (s->high_surrogate) {
                        s->high_surrogate = 0;
                        if ((r = problem(s, "a high surrogate \\u escape must be followed by a low one")) < 0)
                                return r;
                }
                if (!e)
                        return problem(s, "unknown escape in a string");
                string_out(s, &to[e - from], 1);
                return 0;
        }
plain:
        if (s->high_surrogate && c != '\\') {
                s->high_surrogate = 0;
                if ((r = problem(s, "a high surrogate \\u escape must be followed by a low one")) < 0)
                        return r;
        }
        if (c == '"')
                return string_end(s);
        if (c == '\\') {
                s->escape = true;
                return 0;
        }
        if (c < 0x20)
                return problem(s, "control character inside a string (write it as an escape)");
        if (c >= 0x80) {
                s->utf8_lo = 0x80;
                s->utf8_hi = 0xbf;
                if (c >= 0xc2 && c <= 0xdf)
                        s->utf8_left = 1;
                else if (c >= 0xe0 && c <= 0xef) {
                        s->utf8_left = 2;
                        if (c == 0xe0)
                                s->utf8_lo = 0xa0;
                        else if (c == 0xed)
                                s->utf8_hi = 0x9f;   /* no surrogates */
                } else if (c >= 0xf0 && c <= 0xf4) {
                        s->utf8_left = 3;
                        if (c == 0xf0)
                                s->utf8_lo = 0x90;
                        else if (c == 0xf4)
                                s->utf8_hi = 0x8f;
                } else
                        return problem(s, "invalid UTF-8 in a string");
        }
        string_out(s, (const char *) &c, 1);
        return 0;
}

/* Returns 1 when c continues the number, 0 when the number ended before c. */
static int number_byte(struct json_scan *s, unsigned char c) {
        bool digit = c >= '0' && c <= '9';

        if (++s->num_len == NUMBER_MAX + 1 && problem(s, "number too long") < 0)
                return -EBADMSG;
        switch (s->num) {
        case N_MINUS:
                if (!digit)
                        return fail(s, "'-' must be followed by a digit");
                s->num = c == '0' ? N_ZERO : N_INT;
                return 1;
        case N_ZERO:
                if (digit)
                        return fail(s, "numbers must not start with 0");
                /* fall through */
        case N_INT:
                if (digit)
                        return 1;
                if (c == '.') {
                        s->num = N_DOT;
                        return 1;
                }
                if (c == 'e' || c == 'E') {
                        s->num = N_E;
                        return 1;
                }
                return 0;
        case N_DOT:
                if (!digit)
                        return fail(s, "a digit must follow the decimal point");
                s->num = N_FRAC;
                return 1;
        case N_FRAC:
                if (digit)
                        return 1;
                if (c == 'e' || c == 'E') {
                        s->num = N_E;
                        return 1;
                }
                return 0;
        case N_E:
                if (c == '+' || c == '-') {
                        s->num = N_E_SIGN;
                        return 1;
                }
                /* fall through */
        case N_E_SIGN:
                if (!digit)
                        return fail(s, "a digit must follow the exponent");
                s->num = N_EXP;
                s->exp_digits = 1;
                return 1;
        case N_EXP:
                if (!digit)
                        return 0;
                if (++s->exp_digits == 4 && problem(s, "number out of range") < 0)
                        return -EBADMSG;
                return 1;
        }
        return 0;
}

/* One byte outside strings, numbers and literals. */
static int structural_byte(struct json_scan *s, unsigned char c) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                if (s->capturing && s->depth > s->capture_depth)
                        capture_byte(s, (char) c);
                return 0;
        }
        switch (s->expect) {
        case EXPECT_END:
                return fail(s, "unexpected data after the end of the JSON value");
        case EXPECT_COLON:
                if (c != ':')
                        return fail(s, "expected ':' after a key");
                capture_byte(s, (char) c);
                s->expect = EXPECT_VALUE;
                return 0;
        case EXPECT_KEY_OR_CLOSE:
        case EXPECT_KEY:
                if (c == '}' && s->expect == EXPECT_KEY_OR_CLOSE)
                        goto close;
                if (c != '"')
                        return fail(s, "expected a key in double quotes");
                capture_byte(s, (char) c);
                s->lex = LEX_STRING;
                s->is_key = true;
                s->key_len = 0;
                s->key_overflow = false;
                return 0;
        case EXPECT_COMMA_OR_CLOSE:
                if (c == ',') {
                        capture_byte(s, (char) c);
                        if (s->stack[s->depth - 1].object)
                                s->expect = EXPECT_KEY;
                        else {
                                s->expect = EXPECT_VALUE;
                                child_matches(s);
                        }
                        return 0;
                }
                if (c == '}' || c == ']')
                        goto close;
                return fail(s, s->stack[s->depth - 1].object ? "expected ',' or '}'" : "expected ',' or ']'");
        case EXPECT_VALUE_OR_CLOSE:
                if (c == ']')
                        goto close;
                /* fall through */
        case EXPECT_VALUE:
                break;
        }

        /* A value starts. */
        value_start(s, (char) c);
        capture_byte(s, (char) c);
        switch (c) {
        case '{':
        case '[':
                if (s->depth >= JSON_SCAN_MAX_DEPTH)
                        return fail(s, "nested deeper than 64 levels");
                s->stack[s->depth++] = (struct frame){
                        .object = c == '{',
                        .records_match = s->child_records_match,
                        .next_match = s->child_next_match,
                };
                s->expect = c == '{' ? EXPECT_KEY_OR_CLOSE : EXPECT_VALUE_OR_CLOSE;
                /* The records array, even an empty one (a change feed with
                 * nothing new). */
                if (c == '[' && s->want_records && !s->capturing &&
                    s->stack[s->depth - 1].records_match == (int) s->records_len)
                        s->found_records = true;
                if (c == '[')
                        child_matches(s);
                return 0;
        case '"':
                s->lex = LEX_STRING;
                s->is_key = false;
                return 0;
        case '-':
                s->lex = LEX_NUMBER;
                s->num = N_MINUS;
                s->num_len = 1;
                return 0;
        case 't':
        case 'f':
        case 'n':
                s->lex = LEX_LITERAL;
                s->literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
                s->literal_pos = 1;
                return 0;
        default:
                if (c >= '0' && c <= '9') {
                        s->lex = LEX_NUMBER;
                        s->num = c == '0' ? N_ZERO : N_INT;
                        s->num_len = 1;
                        return 0;
                }
                return fail(s, c >= 0x80 ? "unexpected non-ASCII byte outside a string" : "unexpected character");
        }

close:
        {
                bool object = c == '}';

                if (s->stack[s->depth - 1].object != object)
                        return fail(s, object ? "'}' closes an array" : "']' closes an object");
                capture_byte(s, (char) c);
                s->depth--;
                return value_done(s);
        }
}

static int scan_byte(struct json_scan *s, unsigned char c) {
        int r;

        if (c == '\n') {
                s->line++;
                s->column = 0;
        } else
                s->column++;

        switch (s->lex) {
        case LEX_STRING:
                capture_byte(s, (char) c);
                return string_byte(s, c);
        case LEX_NUMBER:
                r = number_byte(s, c);
                if (r < 0)
                        return r;
                if (r == 1) {
                        capture_byte(s, (char) c);
                        return 0;
                }
                s->lex = LEX_NONE;
                if (s->expect != EXPECT_END && s->depth == 0)
                        s->expect = EXPECT_END;
                if (s->num != N_ZERO && s->num != N_INT && s->num != N_FRAC && s->num != N_EXP)
                        return fail(s, "incomplete number");
                r = value_done(s);
                if (r < 0)
                        return r;
                return structural_byte(s, c);
        case LEX_LITERAL:
                if ((char) c != s->literal[s->literal_pos])
                        return fail(s, "unknown word (true, false and null are the only ones)");
                capture_byte(s, (char) c);
                if (s->literal[++s->literal_pos] == 0) {
                        s->lex = LEX_NONE;
                        if (s->capturing_next)
                                s->capturing_next = false;
                        if (s->next && s->child_next_match == (int) s->next_len && s->literal[0] == 'n') {
                                r = s->ops->next(s->userdata, NULL);
                                if (r < 0)
                                        return r;
                        }
                        return value_done(s);
                }
                return 0;
        case LEX_NONE:
                return structural_byte(s, c);
        }
        return 0;
}

int json_scan_feed(struct json_scan *s, const char *data, size_t n) {
        if (s->failed)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                int r = scan_byte(s, (unsigned char) data[i]);

                if (r < 0)
                        return r;
        }
        return 0;
}

int json_scan_finish(struct json_scan *s) {
        int r;

        if (s->failed)
                return -EBADMSG;
        if (s->lex == LEX_NUMBER) {
                /* A number at the very end has no byte after it. */
                s->lex = LEX_NONE;
                if (s->num != N_ZERO && s->num != N_INT && s->num != N_FRAC && s->num != N_EXP)
                        return fail(s, "incomplete number");
                r = value_done(s);
                if (r < 0)
                        return r;
        }
        if (s->lex != LEX_NONE)
                return fail(s, s->lex == LEX_STRING ? "the document ends inside a string"
                                                    : "the document ends inside a word");
        if (s->expect != EXPECT_END)
                return fail(s, s->depth > 0 || s->expect != EXPECT_VALUE ? "the document ends before its last value "
                                                                           "is complete (truncated?)"
                                                                         : "the document is empty");
        return 0;
}

static int validate_record(void *u _unused_, unsigned l _unused_, const char *t _unused_, size_t n _unused_,
                           bool o _unused_, const char *p _unused_) {
        return 0;
}

static int validate_long(void *u _unused_, unsigned l _unused_, const char *t _unused_, size_t n _unused_) {
        return 0;
}

static int validate_next(void *u _unused_, const char *v _unused_) {
        return 0;
}

int json_validate(const char *text, size_t len, bool *ret_is_object, char *error, size_t error_size) {
        static const struct json_scan_ops ops = {
                .record = validate_record,
                .record_too_long = validate_long,
                .next = validate_next,
        };
        struct json_scan s;
        size_t i = 0;
        int r;

        scan_init(&s, NULL, NULL, 0, &ops, NULL);
        r = json_scan_feed(&s, text, len);
        if (r == 0)
                r = json_scan_finish(&s);
        if (r < 0 && error)
                (void) snprintf(error, error_size, "%s", s.error);
        while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
                i++;
        if (ret_is_object)
                *ret_is_object = i < len && text[i] == '{';
        buf_free(&s.capture);
        buf_free(&s.next_value);
        return r;
}
