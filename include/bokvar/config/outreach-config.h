/* SPDX-License-Identifier: GPL-3.0-or-later */
/* teams:, channels:, tasks: and dispatch: in bokvar.yaml: who gets the
 * outreach tasks, how they are told, and when tasks are due. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/duration.h"
#include "bokvar/basic/hmac.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/yamldoc.h"

struct json_writer;

struct team_config {
        char *name;
        char **postal_codes;      /* prefixes of the normalised postal code */
        char **cities;
        char **landlords;
        bool is_default;
        char *email;
        char **caseworkers;
        const char *language;     /* its e-mails' language (built in); NULL: the installation's */
        unsigned line;
};

enum channel_type {
        CHANNEL_WEBHOOK,
        CHANNEL_SMTP,
};

struct channel_config {
        char *name;
        enum channel_type type;
        char *url;
        bool plain_http;          /* http:// to this machine only */
        struct secret secret;     /* webhook: whsec_<base64 key> */
        unsigned char *key;       /* ... its key, decoded */
        size_t key_size;
        EVP_MAC_CTX *signer;      /* ... as a keyed HMAC-SHA256 context (basic/hmac.h), made
                                   * once with the key: each webhook is signed on a copy */
        char *from;               /* smtp */
        struct secret username, password;
        char *ca_file;
        usec_t timeout;
        unsigned line;
};

struct outreach_config {
        struct team_config *teams;
        size_t n_teams;
        struct channel_config *channels;
        size_t n_channels;
        usec_t lead_time;
        usec_t service_urgent, service_outreach;
        unsigned max_attempts;
        unsigned concurrency;     /* deliveries in flight at once */
};

/* A language: key: one of the languages built in (po/LINGUAS), stored as
 * l10n_known() gives it (const char *; nothing to free). */
int outreach_parse_language(const struct yreader *r, const struct ynode *n, void *dest);
/* The language a team's e-mails are written in: its own, else default_language. */
const char *outreach_team_language(const struct outreach_config *o, const char *team, const char *default_language);
int outreach_parse_teams(const struct yreader *r, const struct ynode *n, struct outreach_config *o);
int outreach_parse_channels(const struct yreader *r, const struct ynode *n, const char *config_dir, unsigned flags,
                            struct outreach_config *o);
int outreach_parse_tasks(const struct yreader *r, const struct ynode *n, struct outreach_config *o);
int outreach_parse_dispatch(const struct yreader *r, const struct ynode *n, struct outreach_config *o);
void outreach_config_done(struct outreach_config *o);
void outreach_config_init(struct outreach_config *o);

/* Writes "teams", "channels" and "tasks", the keys bokvar.config_sync()
 * takes for them, into the object w has open. Each team also gets the
 * words routing compares (postal_keys, city_keys, landlord_keys): its
 * postal codes, cities and landlords through word_normalize(), as the
 * ingest normalises a household's. */
void outreach_write_json(const struct outreach_config *o, struct json_writer *w);
const struct channel_config *outreach_channel(const struct outreach_config *o, const char *name);
