/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A feed as an operator describes it in bokvar.yaml: where it is, how often
 * to fetch it, how to read it, and how its columns or JSON paths map onto
 * the canonical signal. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/duration.h"
#include "bokvar/basic/vocabulary.h"
#include "bokvar/basic/yamldoc.h"
#include "bokvar/config/config-flags.h"

enum feed_format {
        FEED_FORMAT_CSV,
        FEED_FORMAT_NDJSON,
        FEED_FORMAT_JSON,
};

enum feed_scheme {
        FEED_SCHEME_HTTPS,
        FEED_SCHEME_HTTP,     /* loopback only */
        FEED_SCHEME_SFTP,
        FEED_SCHEME_FILE,
};

/* The canonical signal's fields, in the order the SQL knows them. */
enum canonical_field {
        FIELD_EXTERNAL_ID,
        FIELD_KIND,
        FIELD_OCCURRED_AT,
        FIELD_DEADLINE,
        FIELD_PERSON_ID,
        FIELD_NAME,
        FIELD_ADDRESS,
        FIELD_POSTAL_CODE,
        FIELD_CITY,
        FIELD_APARTMENT,
        FIELD_CHILDREN,
        FIELD_AMOUNT,
        FIELD_MONTHS_IN_ARREARS,
        FIELD_LANDLORD,
        /* Read in C only, never stored: what the deadline and the regional
         * filter (only:) are computed from. */
        FIELD_NOTIFIED_AT,         /* the day social services were notified */
        FIELD_MUNICIPALITY_CODE,   /* the municipality's official code (kommunkod, kommunenummer) */
        _FIELD_MAX,
};

/* Whose law sets the deadlines a feed's signals get (jurisdiction:). */
enum jurisdiction {
        JURISDICTION_SE,
        JURISDICTION_NO,
        _JURISDICTION_MAX,
};
extern const char *const jurisdiction_names[_JURISDICTION_MAX + 1];

/* Where one canonical field comes from. */
struct field_map {
        bool set;
        char *from;          /* CSV column name, or JSON dot path */
        char *value;         /* a constant instead */
        char **values;       /* kind only: pairs source value, signal kind; NULL-terminated */
};

struct feed_config {
        char *name;
        enum feed_source source;
        char *url;               /* as written; file: URLs resolved to an absolute path */
        enum feed_scheme scheme;
        char *path;              /* file feeds: the path (absolute, or relative as the config's is) */
        char *const *file_roots; /* file feeds: where they may read from, the config's file_roots (borrowed) */
        bool drop;               /* a drop folder: url names a directory (ends in '/'), pattern: its files */
        char *pattern;           /* drop folders: a glob (fnmatch) of the names of the files to ingest */
        usec_t interval;
        enum feed_format format;
        struct {
                char delimiter;
                char quote;
                char *encoding;   /* NULL or "UTF-8": UTF-8 (a BOM is skipped) */
                bool header;
                unsigned skip_lines;
        } csv;
        char *records;           /* json: dot path to the array of records; NULL: the top level */
        bool decimal_comma;
        char *date_format;
        char **identity;         /* accepted identity number countries: se, no, nl */
        enum jurisdiction jurisdiction;
        struct {
                /* A regional feed's area (only:): a row is in it when its
                 * postal code or its municipality code is listed; rows
                 * outside are counted as filtered and never stored. Both
                 * NULL: no filter. Postal codes are normalised words
                 * (word.h); one ending in '*' is a prefix. */
                char **postal_codes;
                char **municipality_codes;
        } only;
        struct field_map map[_FIELD_MAX];
        struct {
                struct secret bearer;     /* bearer_credential */
                struct secret basic;      /* basic_credential: "user:password" */
                char *client_cert;        /* client_cert_credential: the credential file's path */
                char *client_key;         /* client_key_credential */
                char *ssh_key;            /* ssh_key_credential */
                char *client_cert_name, *client_key_name, *ssh_key_name;
                char *ca_file;
                char *known_hosts;
        } auth;
        struct {
                char *next;               /* dot path in the body to the next page's URL or cursor */
                bool link;                /* follow Link: <...>; rel="next" */
                char *param;              /* next is a cursor: add ?param=cursor to the feed URL */
        } paging;
        usec_t timeout;
        usec_t connect_timeout;
        uint64_t max_body;
        unsigned line, column;   /* where the feed is defined */
};

/* Names of the canonical fields, for messages and the mapping sent to SQL. */
extern const char *const canonical_field_names[_FIELD_MAX];
/* The canonical field named by the n bytes at name, or -1. */
int canonical_field_find(const char *name, size_t n);
const char *feed_format_to_string(enum feed_format f);

/* Reads the feeds: list (n must be a sequence) into *ret / *ret_n. With
 * check_files, ca_file and known_hosts must exist and be readable (file:
 * feeds' files need not exist; config.c checks them against file_roots and
 * sets file_roots). Credentials are resolved to paths when load_credentials. */
int feed_configs_parse(const struct yreader *r, const struct ynode *n, const char *config_dir, unsigned flags,
                       struct feed_config **ret, size_t *ret_n);
void feed_configs_free(struct feed_config *f, size_t n);
