/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading and checking the feeds: section of bokvar.yaml. */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/feed-config.h"

const char *const canonical_field_names[_FIELD_MAX] = {
        [FIELD_EXTERNAL_ID] = "external_id",
        [FIELD_KIND] = "kind",
        [FIELD_OCCURRED_AT] = "occurred_at",
        [FIELD_DEADLINE] = "deadline",
        [FIELD_PERSON_ID] = "person_id",
        [FIELD_NAME] = "name",
        [FIELD_ADDRESS] = "address",
        [FIELD_POSTAL_CODE] = "postal_code",
        [FIELD_CITY] = "city",
        [FIELD_APARTMENT] = "apartment",
        [FIELD_CHILDREN] = "children",
        [FIELD_AMOUNT] = "amount",
        [FIELD_MONTHS_IN_ARREARS] = "months_in_arrears",
        [FIELD_LANDLORD] = "landlord",
        [FIELD_NOTIFIED_AT] = "notified_at",
        [FIELD_MUNICIPALITY_CODE] = "municipality_code",
};

int canonical_field_find(const char *name, size_t n) {
        for (int f = 0; f < _FIELD_MAX; f++)
                if (strlen(canonical_field_names[f]) == n && memcmp(canonical_field_names[f], name, n) == 0)
                        return f;
        return -1;
}

const char *const jurisdiction_names[_JURISDICTION_MAX + 1] = {
        [JURISDICTION_SE] = "se",
        [JURISDICTION_NO] = "no",
        [_JURISDICTION_MAX] = NULL,
};

static const char *const format_names[] = {
        [FEED_FORMAT_CSV] = "csv",
        [FEED_FORMAT_NDJSON] = "ndjson",
        [FEED_FORMAT_JSON] = "json",
};

static const char *const date_formats[] = {
        "YYYY-MM-DD", "YYYYMMDD", "YYYY/MM/DD", "DD.MM.YYYY", "DD-MM-YYYY", "DD/MM/YYYY", "MM/DD/YYYY", NULL,
};

const char *feed_format_to_string(enum feed_format f) {
        return format_names[f];
}

/* What parsing one feed needs besides the node. */
struct feed_ctx {
        struct feed_config *feed;
        const char *config_dir;
        unsigned flags;
};

static int parse_word_of(const struct yreader *r, const struct ynode *n, const char *const *names, size_t n_names,
                         const char *what, int *ret) {
        struct buf all = {};
        int k;

        if (y_scalar(r, n, what) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n_names; i++)
                if (names[i] && streq(n->value, names[i])) {
                        *ret = (int) i;
                        return 0;
                }
        for (size_t i = 0; i < n_names; i++)
                if (names[i])
                        (void) buf_printf(&all, "%s%s", all.len ? ", " : "", names[i]);
        k = y_error(r, n, "unknown %s '%s' (one of: %s)", what, n->value, all.data ? all.data : "");
        buf_free(&all);
        return k;
}

static int parse_source(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *names[_FEED_SOURCE_MAX];
        int v = 0, k;

        /* manual is the source of notices registered by hand, no feed's. */
        memcpy(names, feed_source_names, sizeof names);
        names[FEED_SOURCE_MANUAL] = NULL;
        k = parse_word_of(r, n, names, _FEED_SOURCE_MAX, "source", &v);

        if (k == 0)
                *(enum feed_source *) dest = (enum feed_source) v;
        return k;
}

static int parse_format(const struct yreader *r, const struct ynode *n, void *dest) {
        int v = 0, k = parse_word_of(r, n, format_names, ELEMENTSOF(format_names), "format", &v);

        if (k == 0)
                *(enum feed_format *) dest = (enum feed_format) v;
        return k;
}

static int parse_date_format(const struct yreader *r, const struct ynode *n, void *dest) {
        int v = 0, k = parse_word_of(r, n, date_formats, ELEMENTSOF(date_formats) - 1, "date_format", &v);

        if (k < 0)
                return k;
        free(*(char **) dest);
        *(char **) dest = strdup(date_formats[v]);
        return *(char **) dest ? 0 : -ENOMEM;
}

static int parse_name(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        if (strlen(n->value) > 64 || n->value[0] == 0 || strspn(n->value, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
                                                               strlen(n->value))
                return y_error(r, n, "feed name '%s' must be 1 to 64 of a-z, 0-9, '_' and '-'", n->value);
        /* The feed of notices registered by hand (bokvar.signal_register). */
        if (streq(n->value, "manual"))
                return y_error(r, n, "feed name 'manual' is bokvar's own, for notices registered by hand; "
                                     "choose another");
        return 0;
}

static int parse_positive_duration(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_duration(r, n, dest) < 0)
                return -EINVAL;
        if (*(usec_t *) dest < USEC_PER_SEC)
                return y_error(r, n, "'%s' is too short: at least 1s", n->value);
        return 0;
}

/* Sizes: 1048576, 64KiB, 256MiB, 2GiB, 100MB. */
static int parse_size(const struct yreader *r, const struct ynode *n, void *dest) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = {
                { "KiB", 1024ULL }, { "MiB", 1024ULL * 1024 }, { "GiB", 1024ULL * 1024 * 1024 },
                { "kB", 1000ULL },  { "MB", 1000ULL * 1000 },  { "GB", 1000ULL * 1000 * 1000 },
                { "B", 1 },         { "", 1 },
        };
        char *end;
        unsigned long long v;

        if (y_scalar(r, n, "a size such as 256MiB") < 0)
                return -EINVAL;
        errno = 0;
        v = strtoull(n->value, &end, 10);
        if (errno != 0 || end == n->value || n->value[0] == '-')
                goto bad;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(end, units[i].suffix)) {
                        uint64_t total;

                        if (__builtin_mul_overflow((uint64_t) v, units[i].factor, &total) || total == 0)
                                goto bad;
                        *(uint64_t *) dest = total;
                        return 0;
                }
bad:
        return y_error(r, n, "'%s' is not a size (write e.g. 64KiB, 256MiB, 2GiB)", n->value);
}

static int parse_char(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_scalar(r, n, "a single character") < 0)
                return -EINVAL;
        if (streq(n->value, "tab") || streq(n->value, "\t"))
                *(char *) dest = '\t';
        else if (strlen(n->value) == 1 && n->value[0] > 0x20 && n->value[0] < 0x7f)
                *(char *) dest = n->value[0];
        else
                return y_error(r, n, "expected one printable ASCII character (or \"tab\"), got '%s'", n->value);
        return 0;
}

static int parse_uint_small(const struct yreader *r, const struct ynode *n, void *dest) {
        int64_t v;

        if (y_int64(r, n, 0, 1000, &v) < 0)
                return -EINVAL;
        *(unsigned *) dest = (unsigned) v;
        return 0;
}

/* An encoding name iconv knows that keeps ASCII as ASCII, so that record
 * boundaries can be found before decoding. */
static int parse_encoding(const struct yreader *r, const struct ynode *n, void *dest) {
        static const char probe[] = "\"azAZ09;,.\t\r\n -";
        char out[64], *in = (char *) probe, *o = out;
        size_t inl = sizeof probe - 1, outl = sizeof out;
        iconv_t cd;

        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        cd = iconv_open("UTF-8", n->value);
        if (cd == (iconv_t) -1)
                return y_error(r, n, "unknown encoding '%s' (names such as UTF-8, WINDOWS-1252, ISO-8859-1, ISO-8859-15)",
                               n->value);
        if (iconv(cd, &in, &inl, &o, &outl) == (size_t) -1 || (size_t) (o - out) != sizeof probe - 1 ||
            memcmp(out, probe, sizeof probe - 1) != 0) {
                iconv_close(cd);
                return y_error(r, n, "encoding '%s' does not keep ASCII as it is; bokvar reads single-byte encodings "
                               "such as WINDOWS-1252 and UTF-8", n->value);
        }
        iconv_close(cd);
        return 0;
}

static int parse_identity(const struct yreader *r, const struct ynode *n, void *dest) {
        char ***l = dest;

        if (y_string_list(r, n, dest) < 0)
                return -EINVAL;
        for (size_t i = 0; (*l)[i]; i++)
                if (!streq((*l)[i], "se") && !streq((*l)[i], "no") && !streq((*l)[i], "nl"))
                        return y_error(r, n->children[i], "identity '%s' is not one of se, no, nl", (*l)[i]);
        if (!(*l)[0])
                return y_error(r, n, "identity needs at least one of se, no, nl");
        return 0;
}

static int parse_jurisdiction(const struct yreader *r, const struct ynode *n, void *dest) {
        int v = 0, k = parse_word_of(r, n, jurisdiction_names, _JURISDICTION_MAX, "jurisdiction", &v);

        if (k == 0)
                *(enum jurisdiction *) dest = (enum jurisdiction) v;
        return k;
}

/* A list of codes for only:, each 1 to 20 characters of letters, digits,
 * spaces and '-' ('*' at the end of a postal code: a prefix). */
static int parse_codes(const struct yreader *r, const struct ynode *n, void *dest, const char *what, bool prefix) {
        char ***l = dest;
        int ret = 0;

        if (y_string_list(r, n, dest) < 0)
                return -EINVAL;
        if (!(*l)[0])
                return y_error(r, n, "only.%s needs at least one code", what);
        for (size_t i = 0; (*l)[i]; i++) {
                const char *c = (*l)[i];
                size_t len = strlen(c), body = prefix && len > 1 && c[len - 1] == '*' ? len - 1 : len;

                if (len == 0 || len > 20 ||
                    strspn(c, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -") != body)
                        ret = y_error(r, n->children[i], "only.%s: '%s' is not a code (1 to 20 letters, digits, "
                                                         "spaces or '-'%s)",
                                      what, c, prefix ? "; a '*' at the end makes it a prefix" : "");
        }
        return ret;
}

static int parse_postal_codes(const struct yreader *r, const struct ynode *n, void *dest) {
        return parse_codes(r, n, dest, "postal_codes", true);
}

static int parse_municipality_codes(const struct yreader *r, const struct ynode *n, void *dest) {
        return parse_codes(r, n, dest, "municipality_codes", false);
}

/* A drop folder's glob: a file name pattern, no directories. */
static int parse_pattern(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        if (!n->value[0] || strchr(n->value, '/') || strlen(n->value) > 255)
                return y_error(r, n, "pattern '%s' must be a file name glob such as \"*.csv\" (no '/')", n->value);
        return 0;
}

static const struct yfield only_fields[] = {
        { "postal_codes", parse_postal_codes, offsetof(struct feed_config, only.postal_codes), false },
        { "municipality_codes", parse_municipality_codes, offsetof(struct feed_config, only.municipality_codes),
          false },
        {}
};

static int parse_only(const struct yreader *r, const struct ynode *n, void *dest) {
        struct feed_config *f = (struct feed_config *) ((char *) dest - offsetof(struct feed_config, only));

        if (y_map(r, n, "only", only_fields, f) < 0)
                return -EINVAL;
        if (!f->only.postal_codes && !f->only.municipality_codes)
                return y_error(r, n, "only needs postal_codes, municipality_codes or both");
        return 0;
}

static int parse_path_option(const struct yreader *r, const struct ynode *n, void *dest) {
        const struct feed_ctx *ctx = r->userdata;
        char *p;

        if (y_scalar(r, n, "a file name") < 0)
                return -EINVAL;
        if (path_join_relative(ctx->config_dir, n->value, &p) < 0)
                return -ENOMEM;
        free(*(char **) dest);
        *(char **) dest = p;
        if ((ctx->flags & CONFIG_CHECK_FILES) && access(p, R_OK) < 0)
                return y_error(r, n, "cannot read %s: %s", p, strerror(errno));
        return 0;
}

static const struct yfield csv_fields[] = {
        { "delimiter", parse_char, offsetof(struct feed_config, csv.delimiter), false },
        { "quote", parse_char, offsetof(struct feed_config, csv.quote), false },
        { "encoding", parse_encoding, offsetof(struct feed_config, csv.encoding), false },
        { "header", y_bool, offsetof(struct feed_config, csv.header), false },
        { "skip_lines", parse_uint_small, offsetof(struct feed_config, csv.skip_lines), false },
        {}
};

static int parse_csv(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_map(r, n, "csv", csv_fields, (char *) dest - offsetof(struct feed_config, csv));
}

static const struct yfield auth_fields[] = {
        { "bearer_credential", y_secret_name, offsetof(struct feed_config, auth.bearer), false },
        { "basic_credential", y_secret_name, offsetof(struct feed_config, auth.basic), false },
        { "client_cert_credential", y_credential_name, offsetof(struct feed_config, auth.client_cert_name), false },
        { "client_key_credential", y_credential_name, offsetof(struct feed_config, auth.client_key_name), false },
        { "ssh_key_credential", y_credential_name, offsetof(struct feed_config, auth.ssh_key_name), false },
        { "ca_file", parse_path_option, offsetof(struct feed_config, auth.ca_file), false },
        { "known_hosts", parse_path_option, offsetof(struct feed_config, auth.known_hosts), false },
        {}
};

static int parse_auth(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_map(r, n, "auth", auth_fields, (char *) dest - offsetof(struct feed_config, auth));
}

static const struct yfield paging_fields[] = {
        { "next", y_string, offsetof(struct feed_config, paging.next), false },
        { "link", y_bool, offsetof(struct feed_config, paging.link), false },
        { "param", y_string, offsetof(struct feed_config, paging.param), false },
        {}
};

static int parse_paging(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_map(r, n, "paging", paging_fields, (char *) dest - offsetof(struct feed_config, paging));
}

static bool is_signal_kind(const char *s) {
        for (size_t i = 0; signal_kind_names[i]; i++)
                if (streq(s, signal_kind_names[i]))
                        return true;
        return false;
}

/* One entry of map: a column/path, {from: X, values: {...}} or {value: C}. */
static int parse_field_map(const struct yreader *r, const struct ynode *key, const struct ynode *n, size_t field,
                           struct field_map *m) {
        const char *name = canonical_field_names[field];
        const struct ynode *from = NULL, *value = NULL, *values = NULL;
        int ret = 0;

        m->set = true;
        if (n->type == YNODE_SCALAR) {
                if (ynode_is_null(n))
                        return y_error(r, n, "map.%s needs a column, a path or {value: ...}", name);
                m->from = strdup(n->value);
                return m->from ? 0 : -ENOMEM;
        }
        if (n->type != YNODE_MAPPING)
                return y_error(r, n, "map.%s must be a column name, a path, or a mapping with from/values or value",
                               name);
        for (size_t i = 0; i + 1 < n->n_children; i += 2) {
                const struct ynode *k = n->children[i], *v = n->children[i + 1];

                if (streq(k->value, "from"))
                        from = v;
                else if (streq(k->value, "value"))
                        value = v;
                else if (streq(k->value, "values"))
                        values = v;
                else
                        ret = y_error(r, k, "unknown key '%s' in map.%s (from, values, value)", k->value, name);
        }
        if ((from != NULL) == (value != NULL))
                return y_error(r, n, "map.%s needs either from: (a column or path) or value: (a constant)", name);
        if (value) {
                if (field == FIELD_PERSON_ID)
                        return y_error(r, value, "map.person_id cannot be a constant");
                if (y_scalar(r, value, "a constant") < 0 || ynode_is_null(value))
                        return y_error(r, value, "map.%s: value must be a single constant", name);
                if (field == FIELD_KIND && !is_signal_kind(value->value))
                        return y_error(r, value, "'%s' is not a signal kind", value->value);
                if (!(m->value = strdup(value->value)))
                        return -ENOMEM;
        }
        if (from) {
                if (y_scalar(r, from, "a column or path") < 0 || ynode_is_null(from))
                        return -EINVAL;
                if (!(m->from = strdup(from->value)))
                        return -ENOMEM;
        }
        if (values) {
                size_t k = 0;

                if (field != FIELD_KIND)
                        return y_error(r, values, "values: translates source words into signal kinds; it is only "
                                                  "supported for map.kind");
                if (values->type != YNODE_MAPPING)
                        return y_error(r, values, "values must map the feed's words to signal kinds");
                m->values = calloc(values->n_children + 1, sizeof(char *));
                if (!m->values)
                        return -ENOMEM;
                for (size_t i = 0; i + 1 < values->n_children; i += 2) {
                        const struct ynode *w = values->children[i], *t = values->children[i + 1];

                        if (t->type != YNODE_SCALAR || !is_signal_kind(t->value)) {
                                struct buf all = {};

                                for (size_t j = 0; signal_kind_names[j]; j++)
                                        (void) buf_printf(&all, "%s%s", j ? ", " : "", signal_kind_names[j]);
                                ret = y_error(r, t, "'%s' is not a signal kind (%s)",
                                              t->type == YNODE_SCALAR ? t->value : "?", all.data);
                                buf_free(&all);
                                continue;
                        }
                        if (!(m->values[k++] = strdup(w->value)) || !(m->values[k++] = strdup(t->value)))
                                return -ENOMEM;
                }
        }
        (void) key;
        return ret;
}

static int parse_map(const struct yreader *r, const struct ynode *n, void *dest) {
        struct field_map *map = dest;
        int ret = 0;

        if (n->type != YNODE_MAPPING)
                return y_error(r, n, "map must be a mapping of canonical fields to columns or paths");
        for (size_t i = 0; i + 1 < n->n_children; i += 2) {
                const struct ynode *k = n->children[i], *v = n->children[i + 1];
                int f = canonical_field_find(k->value, strlen(k->value));

                if (f < 0) {
                        struct buf all = {};

                        for (size_t j = 0; j < _FIELD_MAX; j++)
                                (void) buf_printf(&all, "%s%s", j ? ", " : "", canonical_field_names[j]);
                        ret = y_error(r, k, "'%s' is not a canonical field (%s)", k->value, all.data);
                        buf_free(&all);
                        continue;
                }
                if (parse_field_map(r, k, v, f, &map[f]) < 0)
                        ret = -EINVAL;
        }
        for (size_t f = 0; f <= FIELD_OCCURRED_AT; f++)
                if (!map[f].set)
                        ret = y_error(r, n, "map is missing the required field '%s'", canonical_field_names[f]);
        return ret;
}

static const struct yfield feed_fields[] = {
        { "name", parse_name, offsetof(struct feed_config, name), true },
        { "source", parse_source, offsetof(struct feed_config, source), true },
        { "url", y_string, offsetof(struct feed_config, url), true },
        { "interval", parse_positive_duration, offsetof(struct feed_config, interval), false },
        { "format", parse_format, offsetof(struct feed_config, format), true },
        { "csv", parse_csv, offsetof(struct feed_config, csv), false },
        { "records", y_string, offsetof(struct feed_config, records), false },
        { "decimal_comma", y_bool, offsetof(struct feed_config, decimal_comma), false },
        { "date_format", parse_date_format, offsetof(struct feed_config, date_format), false },
        { "identity", parse_identity, offsetof(struct feed_config, identity), false },
        { "jurisdiction", parse_jurisdiction, offsetof(struct feed_config, jurisdiction), false },
        { "only", parse_only, offsetof(struct feed_config, only), false },
        { "pattern", parse_pattern, offsetof(struct feed_config, pattern), false },
        { "map", parse_map, offsetof(struct feed_config, map), true },
        { "auth", parse_auth, offsetof(struct feed_config, auth), false },
        { "paging", parse_paging, offsetof(struct feed_config, paging), false },
        { "timeout", parse_positive_duration, offsetof(struct feed_config, timeout), false },
        { "connect_timeout", parse_positive_duration, offsetof(struct feed_config, connect_timeout), false },
        { "max_body", parse_size, offsetof(struct feed_config, max_body), false },
        {}
};

/* The URL's scheme, loopback rule for http, and file: paths. */
static int check_url(const struct yreader *r, const struct ynode *n, struct feed_config *f) {
        const struct feed_ctx *ctx = r->userdata;
        const char *rest;

        if ((rest = startswith(f->url, "https://")))
                f->scheme = FEED_SCHEME_HTTPS;
        else if ((rest = startswith(f->url, "http://"))) {
                if (!url_host_is_loopback(rest))
                        return y_error(r, n, "plain http:// is only allowed to this machine (localhost, 127.0.0.1, "
                                             "[::1]); use https://");
                f->scheme = FEED_SCHEME_HTTP;
        } else if ((rest = startswith(f->url, "sftp://")))
                f->scheme = FEED_SCHEME_SFTP;
        else if ((rest = startswith(f->url, "file:"))) {
                /* file:///abs/path, or file:relative/path next to the config. */
                if (startswith(rest, "//")) {
                        rest += 2;
                        if (rest[0] != '/')
                                return y_error(r, n, "file:// URLs take an absolute path (file:///srv/feed.csv)");
                }
                if (!*rest)
                        return y_error(r, n, "file: URL without a path");
                if (path_has_dotdot(rest))
                        return y_error(r, n, "file: URLs must not contain '..': name the file below one of "
                                             "file_roots");
                if (path_join_relative(ctx->config_dir, rest, &f->path) < 0)
                        return -ENOMEM;
                f->scheme = FEED_SCHEME_FILE;
        } else
                return y_error(r, n, "url must start with https://, http:// (this machine only), sftp:// or file:");
        if (f->scheme != FEED_SCHEME_FILE && (!*rest || rest[0] == '/'))
                return y_error(r, n, "url has no host");
        /* A URL that names a directory is a drop folder. */
        f->drop = f->url[0] && f->url[strlen(f->url) - 1] == '/';
        if (f->drop && f->scheme != FEED_SCHEME_FILE && f->scheme != FEED_SCHEME_SFTP)
                return y_error(r, n, "a url that ends in '/' is a drop folder, which is a file: or sftp:// directory; "
                                     "an http(s) feed names one document");
        return 0;
}

/* What no single key can check: combinations. Credentials are read only
 * when the feed was otherwise read without errors (load). */
static int check_feed(const struct yreader *r, const struct ynode *n, struct feed_config *f, bool load) {
        const struct feed_ctx *ctx = r->userdata;
        const struct ynode *k;
        int ret = 0;

        if (!f->url || !f->name)
                return -EINVAL;
        k = ynode_find(n, "url");
        if (check_url(r, k, f) < 0)
                ret = -EINVAL;
        if (f->format != FEED_FORMAT_CSV && (k = ynode_find(n, "csv")))
                ret = y_error(r, k, "csv: applies to format: csv only");
        if (f->format == FEED_FORMAT_CSV && (k = ynode_find(n, "records")))
                ret = y_error(r, k, "records: applies to JSON feeds only");
        if (f->format == FEED_FORMAT_NDJSON && (k = ynode_find(n, "records")))
                ret = y_error(r, k, "records: applies to format: json (NDJSON has one record a line)");
        if ((k = ynode_find(n, "paging"))) {
                if (f->format != FEED_FORMAT_JSON)
                        ret = y_error(r, k, "paging: applies to format: json only");
                else if (!!f->paging.next == f->paging.link)
                        ret = y_error(r, k, "paging needs exactly one of next: (a path in the body) or link: true");
                else if (f->paging.param && !f->paging.next)
                        ret = y_error(r, k, "paging.param needs paging.next");
                if (f->scheme == FEED_SCHEME_FILE || f->scheme == FEED_SCHEME_SFTP)
                        ret = y_error(r, k, "paging applies to http(s) feeds only");
        }
        if (f->drop && !f->pattern)
                ret = y_error(r, ynode_find(n, "url"), "feed '%s': a drop folder (a url ending in '/') needs "
                                                        "pattern: (a glob such as \"*.csv\")",
                              f->name);
        if (!f->drop && (k = ynode_find(n, "pattern")))
                ret = y_error(r, k, "pattern: applies to drop folders only (a url that ends in '/')");
        if (f->drop && (k = ynode_find(n, "paging")))
                ret = y_error(r, k, "paging does not apply to drop folders: each file is a fetch of its own");
        if (f->scheme == FEED_SCHEME_SFTP && (!f->auth.ssh_key_name || !f->auth.known_hosts))
                ret = y_error(r, n, "feed '%s': sftp needs auth.ssh_key_credential and auth.known_hosts (the server's "
                                    "host key is always verified)",
                              f->name);
        if ((f->auth.bearer.name || f->auth.basic.name) && f->scheme != FEED_SCHEME_HTTPS &&
            f->scheme != FEED_SCHEME_HTTP)
                ret = y_error(r, n, "feed '%s': bearer and basic credentials apply to http(s) feeds", f->name);
        if (!!f->auth.client_cert_name != !!f->auth.client_key_name)
                ret = y_error(r, n, "feed '%s': client_cert_credential and client_key_credential go together", f->name);
        if (f->format == FEED_FORMAT_CSV && !f->csv.header)
                for (size_t i = 0; i < _FIELD_MAX; i++)
                        if (f->map[i].from && strspn(f->map[i].from, "0123456789") != strlen(f->map[i].from))
                                ret = y_error(r, n,
                                              "feed '%s' has csv.header: false, so map.%s must name a column by "
                                              "its number (1, 2, ...), not '%s'",
                                              f->name, canonical_field_names[i], f->map[i].from);
        if (ret < 0 || !load || !(ctx->flags & CONFIG_LOAD_CREDENTIALS))
                return ret;

        if (y_secret_read(r, n, "auth.bearer_credential", &f->auth.bearer) < 0 ||
            y_secret_read(r, n, "auth.basic_credential", &f->auth.basic) < 0)
                ret = -EINVAL;
        if (f->auth.client_cert_name &&
            (y_credential_path(r, n, "auth.client_cert_credential", f->auth.client_cert_name, &f->auth.client_cert) < 0 ||
             y_credential_path(r, n, "auth.client_key_credential", f->auth.client_key_name, &f->auth.client_key) < 0))
                ret = -EINVAL;
        if (f->auth.ssh_key_name &&
            y_credential_path(r, n, "auth.ssh_key_credential", f->auth.ssh_key_name, &f->auth.ssh_key) < 0)
                ret = -EINVAL;
        if (f->auth.basic.value && !strchr(f->auth.basic.value, ':'))
                ret = y_error(r, n, "feed '%s': the basic credential must hold user:password", f->name);
        return ret;
}

static void feed_config_done(struct feed_config *f) {
        free(f->name);
        free(f->url);
        free(f->path);
        free(f->pattern);
        free(f->csv.encoding);
        free(f->records);
        free(f->date_format);
        strv_free(f->identity);
        strv_free(f->only.postal_codes);
        strv_free(f->only.municipality_codes);
        for (size_t i = 0; i < _FIELD_MAX; i++) {
                free(f->map[i].from);
                free(f->map[i].value);
                strv_free(f->map[i].values);
        }
        secret_done(&f->auth.bearer);
        secret_done(&f->auth.basic);
        free(f->auth.client_cert);
        free(f->auth.client_key);
        free(f->auth.ssh_key);
        free(f->auth.client_cert_name);
        free(f->auth.client_key_name);
        free(f->auth.ssh_key_name);
        free(f->auth.ca_file);
        free(f->auth.known_hosts);
        free(f->paging.next);
        free(f->paging.param);
}

void feed_configs_free(struct feed_config *f, size_t n) {
        for (size_t i = 0; i < n; i++)
                feed_config_done(&f[i]);
        free(f);
}

int feed_configs_parse(const struct yreader *r, const struct ynode *n, const char *config_dir, unsigned flags,
                       struct feed_config **ret, size_t *ret_n) {
        struct feed_ctx ctx = { .config_dir = config_dir, .flags = flags };
        struct yreader fr = *r;
        struct feed_config *feeds;
        int result = 0, k;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "feeds must be a list (each feed starts with '- name: ...')");
        feeds = calloc(n->n_children > 0 ? n->n_children : 1, sizeof *feeds);
        if (!feeds)
                return -ENOMEM;
        fr.userdata = &ctx;

        for (size_t i = 0; i < n->n_children; i++) {
                const struct ynode *fn = n->children[i];
                struct feed_config *f = &feeds[i];
                const struct ynode *name = ynode_find(fn, "name");
                _cleanup_free_ char *what = NULL;

                *f = (struct feed_config){
                        .interval = 15 * USEC_PER_MINUTE,
                        .csv = { .delimiter = ',', .quote = '"', .header = true },
                        .timeout = 10 * USEC_PER_MINUTE,
                        .connect_timeout = 30 * USEC_PER_SEC,
                        .max_body = 1024ULL * 1024 * 1024,
                        .line = fn->line,
                        .column = fn->column,
                };
                ctx.feed = f;
                if (asprintf(&what, "feed '%s'", name && name->type == YNODE_SCALAR ? name->value : "?") < 0)
                        return feed_configs_free(feeds, n->n_children), -ENOMEM;
                /* Every mistake is reported, even in a feed with others. */
                k = y_map(&fr, fn, what, feed_fields, f);
                if (check_feed(&fr, fn, f, k == 0) < 0 || k < 0)
                        result = -EINVAL;
                for (size_t j = 0; f->name && j < i; j++)
                        if (feeds[j].name && streq(feeds[j].name, f->name))
                                result = y_error(&fr, name, "a feed named '%s' is already defined at line %u", f->name,
                                                 feeds[j].line);
        }
        if (result < 0) {
                feed_configs_free(feeds, n->n_children);
                return result;
        }
        *ret = feeds;
        *ret_n = n->n_children;
        return 0;
}
