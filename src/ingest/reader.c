/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Record boundaries in CSV, NDJSON and JSON bodies, found as bytes arrive. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-scan.h"
#include "bokvar/ingest/reader.h"

#define MAX_FIELDS 4096
#define RAW_SHOWN 4096        /* bytes of a bad record kept for the quarantine */

struct reader {
        const struct feed_config *feed;
        const struct reader_ops *ops;
        void *userdata;
        unsigned line;            /* physical line of the next byte, from 1 */
        unsigned record_line;     /* where the record being read started */
        bool at_start;            /* byte-order marks may come */
        char head[6];             /* the first bytes, while they may be BOMs */
        size_t head_len;
        bool done;                /* finished, or the document cannot be read further */
        char error[256];          /* why not, for reader_error() */

        /* CSV and NDJSON: the record being read */
        struct buf record;
        bool overflow;
        bool record_started;
        bool in_quotes;           /* CSV: inside a quoted field */
        bool quote_pending;       /* ... and just read a quote: "" or the end? */
        bool field_begins;        /* nothing but spaces read of this field yet */
        bool after_cr;            /* the last byte was a CR: a LF now ends no record */

        /* CSV */
        iconv_t cd;
        /* A single-byte encoding's bytes as UTF-8, as iconv converts each
         * (length 0: a byte it rejects). Most exports that are not UTF-8
         * are in one (Windows-1252, ISO-8859-1), and their records are
         * decoded by this table rather than by a call of iconv() each. */
        bool by_table;            /* ... one that keeps ASCII as it is */
        unsigned char table_len[256];
        char table[256][4];
        bool stops[256];          /* line ends and the quote: what a record's scan looks for */
        struct buf decoded;
        struct buf field_text;
        size_t field_start[MAX_FIELDS];
        bool field_null[MAX_FIELDS];
        char *fields[MAX_FIELDS];
        unsigned records_seen;
        size_t header_n;          /* 0 until the header is known */

        /* JSON */
        struct json_scan *scan;
        char **records_path;
        char **next_path;
};

static bool is_utf8_encoding(const char *e) {
        return !e || strcasecmp(e, "UTF-8") == 0 || strcasecmp(e, "UTF8") == 0;
}

/* Splits a dot path into keys ("" gives an empty list). */
static char **split_path(const char *path) {
        char **l = calloc(1, sizeof(char *));

        if (!l)
                return NULL;
        while (path && *path) {
                size_t n = strcspn(path, ".");
                _cleanup_free_ char *k = strndup(path, n);

                if (!k || strv_extend(&l, k) < 0)
                        return strv_free(l);
                path += n + (path[n] == '.');
        }
        return l;
}

int reader_render_raw(const char *raw, size_t len, size_t max, struct buf *out) {
        size_t n = MIN(len, max), i = 0;

        while (i < n) {
                size_t bad, run;

                if (utf8_valid(raw + i, n - i, &bad))
                        bad = n - i;
                /* raw[i, i + bad) is valid UTF-8; show it up to any NUL. */
                run = strnlen(raw + i, bad);
                if (buf_put(out, raw + i, run) < 0)
                        return -ENOMEM;
                i += run;
                if (i < n) {
                        /* A NUL, a broken sequence, or a sequence cut at n. */
                        if (buf_printf(out, "\\x%02X", (unsigned char) raw[i]) < 0)
                                return -ENOMEM;
                        i++;
                }
        }
        if (len > max && buf_puts(out, "…") < 0)
                return -ENOMEM;
        return 0;
}

static int report(struct reader *r, unsigned line, const char *raw, size_t len, const char *reason) {
        struct buf shown = {};
        int k;

        if (reader_render_raw(raw, len, RAW_SHOWN, &shown) < 0)
                return -ENOMEM;
        k = r->ops->error(r->userdata, line, shown.data ? shown.data : "", shown.len, reason);
        buf_free(&shown);
        return k;
}

static int reportf(struct reader *r, unsigned line, const char *raw, size_t len, const char *fmt, ...) _printf_(5, 6);
static int reportf(struct reader *r, unsigned line, const char *raw, size_t len, const char *fmt, ...) {
        char reason[256];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        return report(r, line, raw, len, reason);
}

/* The document cannot be read any further: the fetch fails with why. */
static int doc_fail(struct reader *r, const char *fmt, ...) _printf_(2, 3);
static int doc_fail(struct reader *r, const char *fmt, ...) {
        va_list ap;

        r->done = true;
        va_start(ap, fmt);
        (void) vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        return -EBADMSG;
}

const char *reader_error(const struct reader *r) {
        return r->error[0] ? r->error : NULL;
}

/* ---- CSV ---- */

static bool csv_space(const struct reader *r, char c) {
        return c == ' ' || c == '\r' || (c == '\t' && r->feed->csv.delimiter != '\t');
}

/* Splits a decoded record into fields; returns the count or -errno. */
static int csv_split(struct reader *r, const char *s, size_t len) {
        const char delim = r->feed->csv.delimiter, quote = r->feed->csv.quote;
        size_t i = 0, n = 0;

        buf_clear(&r->field_text);
        for (;;) {
                size_t start, end;
                bool quoted = false;

                if (n == MAX_FIELDS)
                        return -E2BIG;
                while (i < len && csv_space(r, s[i]))
                        i++;
                start = r->field_text.len;
                if (i < len && s[i] == quote) {
                        quoted = true;
                        i++;
                        while (i < len) {
                                const char *q = memchr(s + i, quote, len - i);
                                size_t run = q ? (size_t) (q - (s + i)) : len - i;

                                /* Up to the next quote in one go. */
                                if (buf_put(&r->field_text, s + i, run) < 0)
                                        return -ENOMEM;
                                i += run;
                                if (i >= len)
                                        break;
                                if (i + 1 < len && s[i + 1] == quote) {
                                        if (buf_putc(&r->field_text, quote) < 0)
                                                return -ENOMEM;
                                        i += 2;
                                        continue;
                                }
                                i++;
                                break;
                        }
                }
                /* Unquoted text, or anything after a closing quote. */
                if (i < len) {
                        const char *d = memchr(s + i, delim, len - i);
                        size_t run = d ? (size_t) (d - (s + i)) : len - i;

                        if (buf_put(&r->field_text, s + i, run) < 0)
                                return -ENOMEM;
                        i += run;
                }
                end = r->field_text.len;
                if (!quoted)
                        while (end > start && csv_space(r, r->field_text.data[end - 1]))
                                end--;
                r->field_text.len = end;
                if (buf_putc(&r->field_text, 0) < 0)
                        return -ENOMEM;
                r->field_start[n] = start;
                r->field_null[n] = end == start;
                n++;
                if (i >= len)
                        break;
                i++; /* the delimiter */
        }
        for (size_t k = 0; k < n; k++)
                r->fields[k] = r->field_null[k] ? NULL : r->field_text.data + r->field_start[k];
        return (int) n;
}

/* Converts the record to UTF-8 (or checks that it is): 1, or 0 with what
 * is wrong in problem. */
static int csv_decode(struct reader *r, const char *raw, size_t len, const char **ret, size_t *ret_len,
                      char *problem, size_t size) {
        const char *enc = r->feed->csv.encoding;
        size_t bad;

        if (r->cd == (iconv_t) -1) {
                if (!utf8_valid(raw, len, &bad)) {
                        (void) snprintf(problem, size,
                                        "invalid UTF-8 at byte %zu of the record (0x%02X); is csv.encoding right?",
                                        bad + 1, (unsigned char) raw[bad]);
                        return 0;
                }
                *ret = raw;
                *ret_len = len;
                return 1;
        } else {
                char *in = (char *) raw, *out;
                size_t inl = len, outl;

                buf_clear(&r->decoded);
                if (buf_reserve(&r->decoded, len * 4 + 4) < 0)
                        return -ENOMEM;
                out = r->decoded.data;
                if (r->by_table) {
                        for (size_t i = 0; i < len; i++) {
                                size_t run = ascii_prefix(raw + i, len - i);
                                unsigned char c;

                                memcpy(out, raw + i, run);
                                out += run;
                                i += run;
                                if (i == len)
                                        break;
                                c = (unsigned char) raw[i];
                                if (r->table_len[c] == 0) {
                                        (void) snprintf(problem, size, "byte %zu of the record (0x%02X) is not valid %s",
                                                        i + 1, c, enc);
                                        return 0;
                                }
                                memcpy(out, r->table[c], 4);
                                out += r->table_len[c];
                        }
                        r->decoded.len = (size_t) (out - r->decoded.data);
                        *ret = r->decoded.data;
                        *ret_len = r->decoded.len;
                        return 1;
                }
                outl = r->decoded.cap - 1;
                (void) iconv(r->cd, NULL, NULL, NULL, NULL);
                if (iconv(r->cd, &in, &inl, &out, &outl) == (size_t) -1) {
                        (void) snprintf(problem, size, "byte %zu of the record (0x%02X) is not valid %s",
                                        (size_t) (in - raw) + 1, (unsigned char) *in, enc);
                        return 0;
                }
                r->decoded.len = (size_t) (out - r->decoded.data);
                *ret = r->decoded.data;
                *ret_len = r->decoded.len;
                return 1;
        }
}

/* Whether the encoding converts byte by byte, each byte to one character
 * or to an error, the same alone as in a run (no state, no multi-byte
 * sequences), ASCII as it is: then its table is read off iconv, one byte
 * at a time. */
static void csv_make_table(struct reader *r) {
        char all_in[256], all_out[256 * 4], expect[256 * 4], *in, *out;
        size_t n_in = 0, n_expect = 0, inl, outl;

        for (unsigned b = 0; b < 256; b++) {
                char byte = (char) b, got[16];

                in = &byte;
                inl = 1;
                out = got;
                outl = sizeof got;
                (void) iconv(r->cd, NULL, NULL, NULL, NULL);
                if (iconv(r->cd, &in, &inl, &out, &outl) == (size_t) -1) {
                        if (errno != EILSEQ)
                                return;     /* the start of a longer sequence */
                        r->table_len[b] = 0;
                        continue;
                }
                if (iconv(r->cd, NULL, NULL, &out, &outl) == (size_t) -1 || out == got || out - got > 4)
                        return;
                r->table_len[b] = (unsigned char) (out - got);
                memcpy(r->table[b], got, r->table_len[b]);
                memcpy(expect + n_expect, got, r->table_len[b]);
                n_expect += r->table_len[b];
                all_in[n_in++] = byte;
        }
        in = all_in;
        inl = n_in;
        out = all_out;
        outl = sizeof all_out;
        (void) iconv(r->cd, NULL, NULL, NULL, NULL);
        if (iconv(r->cd, &in, &inl, &out, &outl) == (size_t) -1 || iconv(r->cd, NULL, NULL, &out, &outl) == (size_t) -1)
                return;
        if ((size_t) (out - all_out) != n_expect || memcmp(all_out, expect, n_expect) != 0)
                return;
        for (unsigned b = 0; b < 0x80; b++)
                if (r->table_len[b] != 1 || (unsigned char) r->table[b][0] != b)
                        return;
        r->by_table = true;
}

/* Without a header, columns are named by number: "1", "2", ... */
static int csv_numbered_header(struct reader *r, size_t n) {
        _cleanup_free_ char **names = calloc(n, sizeof(char *));
        _cleanup_free_ char *text = malloc(n * 6);
        int k;

        if (!names || !text)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                names[i] = text + i * 6;
                (void) snprintf(names[i], 6, "%u", (unsigned) (i + 1) % 100000u);
        }
        k = r->ops->header(r->userdata, names, n);
        return k;
}

static int csv_record(struct reader *r, bool at_eof) {
        const char *raw = r->record.data ? r->record.data : "", *s = NULL;
        size_t len = r->record.len, slen = 0;
        char problem[256] = "";
        int n = 0, k;

        r->record_started = false;
        if (r->overflow) {
                r->overflow = false;
                (void) snprintf(problem, sizeof problem, "the record is longer than %zu bytes", READER_MAX_RECORD);
        } else {
                k = csv_decode(r, raw, len, &s, &slen, problem, sizeof problem);
                if (k < 0)
                        return k;
                if (k > 0) {
                        if (memchr(s, 0, slen))
                                (void) snprintf(problem, sizeof problem, "the record contains a NUL byte");
                        else if (at_eof && r->in_quotes && !r->quote_pending)
                                (void) snprintf(problem, sizeof problem,
                                                "the file ends inside a quoted field (truncated?)");
                        else if ((n = csv_split(r, s, slen)) == -E2BIG)
                                (void) snprintf(problem, sizeof problem, "the record has more than %d fields",
                                                MAX_FIELDS);
                        else if (n < 0)
                                return n;
                }
        }
        if (problem[0]) {
                /* Lines above the header are skipped, whatever they hold. */
                if (r->records_seen < r->feed->csv.skip_lines) {
                        r->records_seen++;
                        return 0;
                }
                /* Without its header no row can be mapped, nor counted
                 * right: the next row would be taken for it. */
                if (r->header_n == 0 && r->feed->csv.header)
                        return doc_fail(r, "the header (line %u) cannot be read: %s", r->record_line, problem);
                return report(r, r->record_line, raw, len, problem);
        }

        /* Blank lines and rows of empty cells (";;;;" from spreadsheets). */
        k = 0;
        while (k < n && !r->fields[k])
                k++;
        if (k == n)
                return 0;

        if (r->records_seen++ < r->feed->csv.skip_lines)
                return 0;

        if (r->header_n == 0) {
                if (r->feed->csv.header) {
                        r->header_n = (size_t) n;
                        for (int i = 0; i < n; i++)
                                if (!r->fields[i])
                                        r->fields[i] = (char *) "";
                        return r->ops->header(r->userdata, r->fields, (size_t) n);
                }
                r->header_n = (size_t) n;
                k = csv_numbered_header(r, (size_t) n);
                if (k < 0)
                        return k;
                /* Without a header the first record is data: split it again. */
                n = csv_split(r, s, slen);
                if (n < 0)
                        return n;
        }

        /* Spreadsheets pad rows with empty cells; anything else is a mismatch. */
        while ((size_t) n > r->header_n && !r->fields[n - 1])
                n--;
        if ((size_t) n != r->header_n)
                return reportf(r, r->record_line, raw, len, "the record has %d field%s, the header has %zu%s", n,
                               n == 1 ? "" : "s", r->header_n,
                               at_eof && (size_t) n < r->header_n ? " (the file may be truncated)" : "");
        return r->ops->fields(r->userdata, r->record_line, r->fields, (size_t) n);
}

static int csv_append(struct reader *r, const char *p, size_t n) {
        if (!r->overflow && r->record.len + n > READER_MAX_RECORD)
                r->overflow = true;
        if (!r->overflow && buf_put(&r->record, p, n) < 0)
                return -ENOMEM;
        return 0;
}

/* Counts the lines in data[0, n): CR, LF and CRLF each end one, as
 * spreadsheet programs write them (Excel's "CSV (Macintosh)" ends lines
 * with CR alone). */
static void count_lines(struct reader *r, const char *data, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (data[i] == '\r' || (data[i] == '\n' && !r->after_cr))
                        r->line++;
                r->after_cr = data[i] == '\r';
        }
}

static bool is_line_end(char c) {
        return c == '\n' || c == '\r';
}

/* Finds record ends: CR, LF or CRLF outside quotes. A quote opens a quoted
 * field only at the start of a field (RFC 4180); inside one, "" is a quote,
 * and line ends are data. */
static int csv_feed(struct reader *r, const char *data, size_t n) {
        const char quote = r->feed->csv.quote, delim = r->feed->csv.delimiter;
        size_t i = 0;
        int k;

        while (i < n) {
                char c = data[i];
                size_t run;

                if (c == '\n' && r->after_cr) {
                        /* The LF of a CRLF: the CR ended the line already. */
                        r->after_cr = false;
                        i++;
                        if (r->in_quotes && !r->quote_pending && (k = csv_append(r, &c, 1)) < 0)
                                return k;
                        continue;
                }
                if (!r->record_started) {
                        r->record_started = true;
                        r->record_line = r->line;
                        r->field_begins = true;
                        buf_clear(&r->record);
                }
                if (r->in_quotes) {
                        if (r->quote_pending) {
                                r->quote_pending = false;
                                if (c == quote) {
                                        /* "" inside quotes: a quote character. */
                                        r->after_cr = false;
                                        if ((k = csv_append(r, &c, 1)) < 0)
                                                return k;
                                        i++;
                                        continue;
                                }
                                r->in_quotes = false;
                                /* c follows the closing quote: read it below. */
                        } else if (c == quote) {
                                r->quote_pending = true;
                                r->after_cr = false;
                                if ((k = csv_append(r, &c, 1)) < 0)
                                        return k;
                                i++;
                                continue;
                        } else {
                                for (run = i; run < n && data[run] != quote; run++)
                                        ;
                                count_lines(r, data + i, run - i);
                                if ((k = csv_append(r, data + i, run - i)) < 0)
                                        return k;
                                i = run;
                                continue;
                        }
                }
                if (is_line_end(c)) {
                        count_lines(r, &c, 1);
                        i++;
                        if ((k = csv_record(r, false)) < 0)
                                return k;
                        continue;
                }
                r->after_cr = false;
                if (c == quote && r->field_begins) {
                        r->in_quotes = true;
                        r->field_begins = false;
                        run = i + 1;
                } else {
                        /* Up to the line's end or a quote that opens a
                         * field, in one go. Whether a field has begun at
                         * a quote is told by the bytes before it: a
                         * delimiter and spaces (begun), spaces alone (as
                         * before them), or any other byte (not). */
                        size_t from = i, back;

                        for (run = i;;) {
                                while (run < n && !r->stops[(unsigned char) data[run]])
                                        run++;
                                for (back = run; back > from && data[back - 1] != delim &&
                                                 (data[back - 1] == ' ' || data[back - 1] == '\t');
                                     back--)
                                        ;
                                if (back > from)
                                        r->field_begins = data[back - 1] == delim;
                                if (run < n && data[run] == quote && !r->field_begins) {
                                        /* A quote inside a field's text is text. */
                                        from = ++run;
                                        continue;
                                }
                                break;
                        }
                }
                if ((k = csv_append(r, data + i, run - i)) < 0)
                        return k;
                i = run;
        }
        return 0;
}

/* ---- NDJSON ---- */

static int ndjson_line(struct reader *r) {
        const char *s = r->record.data ? r->record.data : "";
        size_t len = r->record.len, i = 0;
        char error[200];
        bool object;

        r->record_started = false;
        if (r->overflow) {
                r->overflow = false;
                return reportf(r, r->record_line, s, len, "the line is longer than %zu bytes", READER_MAX_RECORD);
        }
        if (len > 0 && s[len - 1] == '\r')
                len--;
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
                i++;
        if (i == len)
                return 0;
        if (json_validate(s, len, &object, error, sizeof error) < 0)
                return reportf(r, r->record_line, s, len, "JSON syntax error at %s",
                               startswith(error, "line 1, ") ? error + 8 : error);
        if (!object)
                return report(r, r->record_line, s, len, "the line is JSON but not an object");
        return r->ops->json(r->userdata, r->record_line, s, len);
}

static int ndjson_feed(struct reader *r, const char *data, size_t n) {
        size_t i = 0;

        while (i < n) {
                const char *nl;
                size_t run;
                int k;

                if (!r->record_started) {
                        r->record_started = true;
                        r->record_line = r->line;
                        buf_clear(&r->record);
                }
                nl = memchr(data + i, '\n', n - i);
                run = nl ? (size_t) (nl - (data + i)) : n - i;
                if (!r->overflow && r->record.len + run > READER_MAX_RECORD)
                        r->overflow = true;
                if (!r->overflow && buf_put(&r->record, data + i, run) < 0)
                        return -ENOMEM;
                i += run;
                if (!nl)
                        break;
                i++;
                r->line++;
                k = ndjson_line(r);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* ---- JSON ---- */

static int json_record(void *userdata, unsigned line, const char *text, size_t len, bool is_object,
                       const char *problem) {
        struct reader *r = userdata;

        if (problem)
                return reportf(r, line, text, len, "the record cannot be stored: %s", problem);
        if (!is_object)
                return report(r, line, text, len, "the record is JSON but not an object");
        return r->ops->json(r->userdata, line, text, len);
}

static int json_too_long(void *userdata, unsigned line, const char *head, size_t len) {
        return reportf(userdata, line, head, len, "the record is longer than %zu bytes", READER_MAX_RECORD);
}

static int json_next(void *userdata, const char *value) {
        struct reader *r = userdata;

        return r->ops->next ? r->ops->next(r->userdata, value) : 0;
}

/* After a syntax error nothing after it can be told apart reliably, and
 * keeping what came before would ingest a document by halves: the fetch
 * fails, and says where. */
static int json_feed(struct reader *r, const char *data, size_t n) {
        int k = json_scan_feed(r->scan, data, n);

        if (k == -EBADMSG)
                return doc_fail(r, "JSON error at %s", json_scan_error(r->scan));
        return k;
}

/* ---- common ---- */

int reader_new(const struct feed_config *f, const struct reader_ops *ops, void *userdata, struct reader **ret) {
        static const struct json_scan_ops scan_ops = {
                .record = json_record,
                .record_too_long = json_too_long,
                .next = json_next,
        };
        _cleanup_(reader_freep) struct reader *r = NULL;
        int k;

        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        *r = (struct reader){
                .feed = f,
                .ops = ops,
                .userdata = userdata,
                .line = 1,
                .at_start = true,
                .cd = (iconv_t) -1,
        };
        if (f->format == FEED_FORMAT_CSV && !is_utf8_encoding(f->csv.encoding)) {
                r->cd = iconv_open("UTF-8", f->csv.encoding);
                if (r->cd == (iconv_t) -1)
                        return -errno;
                csv_make_table(r);
        }
        r->stops[(unsigned char) '\n'] = r->stops[(unsigned char) '\r'] = true;
        r->stops[(unsigned char) f->csv.quote] = true;
        if (f->format == FEED_FORMAT_JSON) {
                r->records_path = split_path(f->records);
                r->next_path = f->paging.next ? split_path(f->paging.next) : NULL;
                if (!r->records_path || (f->paging.next && !r->next_path))
                        return -ENOMEM;
                k = json_scan_new(r->records_path, r->next_path, READER_MAX_RECORD, &scan_ops, r, &r->scan);
                if (k < 0)
                        return k;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

struct reader *reader_free(struct reader *r) {
        if (!r)
                return NULL;
        if (r->cd != (iconv_t) -1)
                iconv_close(r->cd);
        buf_free(&r->record);
        buf_free(&r->decoded);
        buf_free(&r->field_text);
        json_scan_free(r->scan);
        strv_free(r->records_path);
        strv_free(r->next_path);
        return mfree(r);
}

static int reader_dispatch(struct reader *r, const char *data, size_t n);

/* The bytes held while they might be byte-order marks are data after all,
 * but for a first whole BOM. */
static int head_done(struct reader *r) {
        size_t skip = r->head_len >= 3 ? 3 : 0;

        r->at_start = false;
        return reader_dispatch(r, r->head + skip, r->head_len - skip);
}

int reader_feed(struct reader *r, const char *data, size_t n) {
        static const char bom[] = "\xef\xbb\xbf";
        int k;

        if (r->done)
                return r->error[0] ? -EBADMSG : 0;
        if (n == 0)
                return 0;
        /* A UTF-8 byte-order mark, as spreadsheet exports write it, perhaps
         * split across reads. Not for other encodings, where those bytes mean
         * letters. A second one means a file saved twice with a BOM, whose
         * first column name (or record) would be wrong in every row. */
        if (r->at_start && r->cd != (iconv_t) -1)
                r->at_start = false;
        while (r->at_start && n > 0) {
                r->head[r->head_len] = *data++;
                n--;
                if (r->head[r->head_len] != bom[r->head_len % 3]) {
                        r->head_len++;
                        if ((k = head_done(r)) < 0)
                                return k;
                        break;
                }
                if (++r->head_len == sizeof r->head)
                        return doc_fail(r, "the body begins with two UTF-8 byte-order marks (EF BB BF EF BB BF): it "
                                           "was saved with a BOM twice; save it again as UTF-8 with one BOM, or none");
        }
        return reader_dispatch(r, data, n);
}

static int reader_dispatch(struct reader *r, const char *data, size_t n) {
        if (n == 0)
                return 0;
        switch (r->feed->format) {
        case FEED_FORMAT_CSV:
                return csv_feed(r, data, n);
        case FEED_FORMAT_NDJSON:
                return ndjson_feed(r, data, n);
        case FEED_FORMAT_JSON:
                return json_feed(r, data, n);
        }
        return -EINVAL;
}

int reader_finish(struct reader *r) {
        int k;

        if (r->done)
                return r->error[0] ? -EBADMSG : 0;
        if (r->at_start && r->head_len > 0 && (k = head_done(r)) < 0)
                return k;
        r->done = true;
        switch (r->feed->format) {
        case FEED_FORMAT_CSV:
                /* A last record without a final newline. */
                if (r->record_started && (r->record.len > 0 || r->overflow))
                        return csv_record(r, true);
                return 0;
        case FEED_FORMAT_NDJSON:
                if (r->record_started && (r->record.len > 0 || r->overflow))
                        return ndjson_line(r);
                return 0;
        case FEED_FORMAT_JSON:
                k = json_scan_finish(r->scan);
                if (k == -EBADMSG)
                        return doc_fail(r, "the JSON document is incomplete: %s", json_scan_error(r->scan));
                if (k < 0)
                        return k;
                if (!json_scan_found_records(r->scan)) {
                        if (r->records_path[0])
                                return doc_fail(r, "the records array '%s' was not found in the document",
                                                r->feed->records);
                        return doc_fail(r, "the document is not an array of records");
                }
                return 0;
        }
        return -EINVAL;
}
