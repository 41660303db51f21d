/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading teams, channels, task timing and dispatch settings. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/l10n.h"
#include "bokvar/basic/word.h"
#include "bokvar/config/access-config.h"
#include "bokvar/config/config-flags.h"
#include "bokvar/config/outreach-config.h"

void outreach_config_init(struct outreach_config *o) {
        *o = (struct outreach_config){
                .lead_time = 3 * USEC_PER_DAY,
                .service_urgent = 2 * USEC_PER_DAY,
                .service_outreach = 7 * USEC_PER_DAY,
                .max_attempts = 20,
                .concurrency = 16,
        };
}

void outreach_config_done(struct outreach_config *o) {
        for (size_t i = 0; i < o->n_teams; i++) {
                struct team_config *t = &o->teams[i];

                free(t->name);
                strv_free(t->postal_codes);
                strv_free(t->cities);
                strv_free(t->landlords);
                free(t->email);
                strv_free(t->caseworkers);
        }
        free(o->teams);
        for (size_t i = 0; i < o->n_channels; i++) {
                struct channel_config *c = &o->channels[i];

                free(c->name);
                free(c->url);
                secret_done(&c->secret);
                if (c->key)
                        explicit_bzero(c->key, c->key_size);
                free(c->key);
                EVP_MAC_CTX_free(c->signer);
                free(c->from);
                secret_done(&c->username);
                secret_done(&c->password);
                free(c->ca_file);
        }
        free(o->channels);
        outreach_config_init(o);
}

static int parse_name(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        if (!n->value[0] || strlen(n->value) > 64 ||
            strspn(n->value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(n->value))
                return y_error(r, n, "name '%s' must be 1 to 64 of a-z, 0-9, '_' and '-'", n->value);
        return 0;
}

static int parse_email(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *at;

        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        at = strchr(n->value, '@');
        if (!at || at == n->value || !strchr(at, '.') || strpbrk(n->value, " <>\r\n,;\""))
                return y_error(r, n, "'%s' is not an e-mail address", n->value);
        return 0;
}

int outreach_parse_language(const struct yreader *r, const struct ynode *n, void *dest) {
        _cleanup_free_ char *v = NULL, *list = NULL;
        struct buf b = {};
        const char *lang;

        if (y_string(r, n, &v) < 0)
                return -EINVAL;
        lang = l10n_known(v);
        if (lang) {
                *(const char **) dest = lang;
                return 0;
        }
        for (const char *const *l = l10n_languages(); *l; l++)
                if (buf_printf(&b, "%s%s", l == l10n_languages() ? "" : ", ", *l) < 0) {
                        buf_free(&b);
                        return -ENOMEM;
                }
        list = buf_steal(&b);
        return y_error(r, n, "language '%s' is not one bokvar speaks (%s)", v, list ? list : "");
}

const char *outreach_team_language(const struct outreach_config *o, const char *team, const char *default_language) {
        for (size_t i = 0; team && i < o->n_teams; i++)
                if (streq(o->teams[i].name, team) && o->teams[i].language)
                        return o->teams[i].language;
        return default_language;
}

static const struct yfield team_fields[] = {
        { "name", parse_name, offsetof(struct team_config, name), true },
        { "postal_codes", y_string_list, offsetof(struct team_config, postal_codes), false },
        { "cities", y_string_list, offsetof(struct team_config, cities), false },
        { "landlords", y_string_list, offsetof(struct team_config, landlords), false },
        { "default", y_bool, offsetof(struct team_config, is_default), false },
        { "email", parse_email, offsetof(struct team_config, email), false },
        { "caseworkers", access_parse_logins, offsetof(struct team_config, caseworkers), false },
        { "language", outreach_parse_language, offsetof(struct team_config, language), false },
        {}
};

int outreach_parse_teams(const struct yreader *r, const struct ynode *n, struct outreach_config *o) {
        const struct team_config *def = NULL;
        int ret = 0;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "teams must be a list (each team starts with '- name: ...')");
        o->teams = calloc(n->n_children + 1, sizeof *o->teams);
        if (!o->teams)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                struct team_config *t = &o->teams[i];

                t->line = n->children[i]->line;
                o->n_teams = i + 1;
                if (y_map(r, n->children[i], "a team", team_fields, t) < 0)
                        ret = -EINVAL;
                for (size_t j = 0; t->name && j < i; j++)
                        if (o->teams[j].name && streq(o->teams[j].name, t->name))
                                ret = y_error(r, n->children[i], "a team named '%s' is already defined at line %u",
                                              t->name, o->teams[j].line);
                if (t->is_default) {
                        if (def)
                                ret = y_error(r, n->children[i], "only one team can be the default (team '%s' at line "
                                                                 "%u is)", def->name, def->line);
                        def = t;
                }
        }
        if (n->n_children > 0 && !def)
                ret = y_error(r, n, "one team must have default: true: it gets what no other team covers");
        return ret;
}

/* The URL's scheme decides the channel's transport, and TLS is required. */
static int check_channel_url(const struct yreader *r, const struct ynode *n, struct channel_config *c) {
        const char *rest;

        if (c->type == CHANNEL_WEBHOOK) {
                if ((rest = startswith(c->url, "https://")))
                        return *rest ? 0 : y_error(r, n, "url has no host");
                if ((rest = startswith(c->url, "http://"))) {
                        if (url_host_is_loopback(rest)) {
                                c->plain_http = true;
                                return 0;
                        }
                        return y_error(r, n, "plain http:// is only allowed to this machine (localhost, 127.0.0.1, "
                                             "[::1]); use https://");
                }
                return y_error(r, n, "a webhook url starts with https:// (or http:// to this machine)");
        }
        if (startswith(c->url, "smtps://") || startswith(c->url, "smtp://"))
                return 0;
        return y_error(r, n, "an smtp url starts with smtps:// (TLS from the start) or smtp:// (STARTTLS is required)");
}

static int parse_channel_type(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_scalar(r, n, "webhook or smtp") < 0)
                return -EINVAL;
        if (streq(n->value, "webhook"))
                *(enum channel_type *) dest = CHANNEL_WEBHOOK;
        else if (streq(n->value, "smtp"))
                *(enum channel_type *) dest = CHANNEL_SMTP;
        else
                return y_error(r, n, "unknown channel type '%s' (webhook, smtp)", n->value);
        return 0;
}

static int parse_path(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *dir = r->userdata;
        char *p;

        if (y_scalar(r, n, "a file name") < 0)
                return -EINVAL;
        if (path_join_relative(dir, n->value, &p) < 0)
                return -ENOMEM;
        free(*(char **) dest);
        *(char **) dest = p;
        return 0;
}

static int parse_timeout(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_duration(r, n, dest) < 0)
                return -EINVAL;
        if (*(usec_t *) dest < USEC_PER_SEC || *(usec_t *) dest > 10 * USEC_PER_MINUTE)
                return y_error(r, n, "timeout must be between 1s and 10m");
        return 0;
}

static const struct yfield channel_fields[] = {
        { "name", parse_name, offsetof(struct channel_config, name), true },
        { "type", parse_channel_type, offsetof(struct channel_config, type), true },
        { "url", y_string, offsetof(struct channel_config, url), true },
        { "secret_credential", y_secret_name, offsetof(struct channel_config, secret), false },
        { "from", parse_email, offsetof(struct channel_config, from), false },
        { "username_credential", y_secret_name, offsetof(struct channel_config, username), false },
        { "password_credential", y_secret_name, offsetof(struct channel_config, password), false },
        { "ca_file", parse_path, offsetof(struct channel_config, ca_file), false },
        { "timeout", parse_timeout, offsetof(struct channel_config, timeout), false },
        {}
};

/* Standard Webhooks secrets read "whsec_" and the key in base64. */
static int decode_webhook_key(const struct yreader *r, const struct ynode *n, struct channel_config *c) {
        const char *b64 = startswith(c->secret.value, "whsec_");
        size_t len, pad = 0;
        int k;

        if (!b64 || !*b64 || strlen(b64) % 4 != 0 || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                 "0123456789+/=") != strlen(b64))
                return y_error(r, n, "channel '%s': the secret credential '%s' must read whsec_ and a base64 key", c->name,
                               c->secret.name);
        len = strlen(b64);
        while (pad < 2 && len > pad && b64[len - 1 - pad] == '=')
                pad++;
        c->key = malloc(len / 4 * 3);
        if (!c->key)
                return -ENOMEM;
        k = EVP_DecodeBlock(c->key, (const unsigned char *) b64, (int) len);
        if (k < 0)
                return y_error(r, n, "channel '%s': the secret credential '%s' is not valid base64", c->name,
                               c->secret.name);
        c->key_size = (size_t) k - pad;
        if (c->key_size < 16)
                return y_error(r, n, "channel '%s': the webhook key is %zu bytes; use at least 16 (24 to 64 is usual)",
                               c->name, c->key_size);
        k = hmac_sha256_key(c->key, c->key_size, &c->signer);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return y_error(r, n, "channel '%s': libcrypto cannot make an HMAC-SHA256 key of the secret credential '%s'",
                               c->name, c->secret.name);
        return 0;
}

int outreach_parse_channels(const struct yreader *r, const struct ynode *n, const char *config_dir, unsigned flags,
                            struct outreach_config *o) {
        struct yreader cr = *r;
        int ret = 0;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "channels must be a list (each channel starts with '- name: ...')");
        o->channels = calloc(n->n_children + 1, sizeof *o->channels);
        if (!o->channels)
                return -ENOMEM;
        cr.userdata = (void *) config_dir;
        for (size_t i = 0; i < n->n_children; i++) {
                const struct ynode *cn = n->children[i];
                struct channel_config *c = &o->channels[i];
                int k;

                c->line = cn->line;
                c->timeout = 30 * USEC_PER_SEC;
                o->n_channels = i + 1;
                k = y_map(&cr, cn, "a channel", channel_fields, c);
                if (k < 0)
                        ret = -EINVAL;
                for (size_t j = 0; c->name && j < i; j++)
                        if (o->channels[j].name && streq(o->channels[j].name, c->name))
                                ret = y_error(r, cn, "a channel named '%s' is already defined at line %u", c->name,
                                              o->channels[j].line);
                if (k < 0 || !c->url || !c->name)
                        continue;
                if (check_channel_url(r, ynode_find(cn, "url"), c) < 0)
                        ret = -EINVAL;
                if (c->type == CHANNEL_WEBHOOK && !c->secret.name)
                        ret = y_error(r, cn, "channel '%s': a webhook needs secret_credential (deliveries are signed)",
                                      c->name);
                if (c->type == CHANNEL_SMTP && !c->from)
                        ret = y_error(r, cn, "channel '%s': smtp needs from: (the sender address)", c->name);
                if (!!c->username.name != !!c->password.name)
                        ret = y_error(r, cn, "channel '%s': username_credential and password_credential go together",
                                      c->name);
                if (c->ca_file && (flags & CONFIG_CHECK_FILES) && access(c->ca_file, R_OK) < 0)
                        ret = y_error(r, cn, "channel '%s': cannot read ca_file %s: %s", c->name, c->ca_file,
                                      strerror(errno));
                if (k < 0 || ret < 0 || !(flags & CONFIG_LOAD_CREDENTIALS))
                        continue;
                if (y_secret_read(r, cn, "secret_credential", &c->secret) < 0 ||
                    y_secret_read(r, cn, "username_credential", &c->username) < 0 ||
                    y_secret_read(r, cn, "password_credential", &c->password) < 0 ||
                    (c->secret.value && decode_webhook_key(r, cn, c) < 0))
                        ret = -EINVAL;
        }
        return ret;
}

static int parse_days(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_duration(r, n, dest) < 0)
                return -EINVAL;
        if (*(usec_t *) dest % USEC_PER_DAY != 0 || *(usec_t *) dest > 365 * USEC_PER_DAY)
                return y_error(r, n, "'%s': write whole days, at most 365d", n->value);
        return 0;
}

static const struct yfield service_fields[] = {
        { "urgent", parse_days, offsetof(struct outreach_config, service_urgent), false },
        { "outreach", parse_days, offsetof(struct outreach_config, service_outreach), false },
        {}
};

static int parse_service(const struct yreader *r, const struct ynode *n, void *dest) {
        return y_map(r, n, "service_time", service_fields,
                     (char *) dest - offsetof(struct outreach_config, service_urgent));
}

static int parse_attempts(const struct yreader *r, const struct ynode *n, void *dest) {
        int64_t v;

        if (y_int64(r, n, 1, 100, &v) < 0)
                return -EINVAL;
        *(unsigned *) dest = (unsigned) v;
        return 0;
}

static const struct yfield task_fields[] = {
        { "lead_time", parse_days, offsetof(struct outreach_config, lead_time), false },
        { "service_time", parse_service, offsetof(struct outreach_config, service_urgent), false },
        { "max_attempts", parse_attempts, offsetof(struct outreach_config, max_attempts), false },
        {}
};

int outreach_parse_tasks(const struct yreader *r, const struct ynode *n, struct outreach_config *o) {
        return y_map(r, n, "tasks", task_fields, o);
}

static int parse_concurrency(const struct yreader *r, const struct ynode *n, void *dest) {
        int64_t v;

        if (y_int64(r, n, 1, 256, &v) < 0)
                return -EINVAL;
        *(unsigned *) dest = (unsigned) v;
        return 0;
}

static const struct yfield dispatch_fields[] = {
        { "concurrency", parse_concurrency, offsetof(struct outreach_config, concurrency), false },
        {}
};

int outreach_parse_dispatch(const struct yreader *r, const struct ynode *n, struct outreach_config *o) {
        return y_map(r, n, "dispatch", dispatch_fields, o);
}

/* The words of l as routing compares them (basic/word.h), those that are
 * not nothing. */
static void write_keys(struct json_writer *w, const char *key, char *const *l) {
        struct buf b = {};

        json_key(w, key);
        json_array_begin(w);
        for (size_t i = 0; l && l[i]; i++) {
                buf_clear(&b);
                if (word_normalize(l[i], &b) > 0)
                        json_string(w, b.data);
        }
        json_array_end(w);
        buf_free(&b);
}

void outreach_write_json(const struct outreach_config *o, struct json_writer *w) {
        json_key(w, "teams");
        json_array_begin(w);
        for (size_t i = 0; i < o->n_teams; i++) {
                const struct team_config *t = &o->teams[i];

                json_object_begin(w);
                json_key_string(w, "name", t->name);
                json_key(w, "postal_codes");
                json_strv(w, t->postal_codes);
                json_key(w, "cities");
                json_strv(w, t->cities);
                json_key(w, "landlords");
                json_strv(w, t->landlords);
                json_key(w, "caseworkers");
                json_strv(w, t->caseworkers);
                /* What routing compares: the same words as the households'. */
                write_keys(w, "postal_keys", t->postal_codes);
                write_keys(w, "city_keys", t->cities);
                write_keys(w, "landlord_keys", t->landlords);
                json_key_bool(w, "default", t->is_default);
                json_key_string(w, "email", t->email);
                json_object_end(w);
        }
        json_array_end(w);
        json_key(w, "channels");
        json_array_begin(w);
        for (size_t i = 0; i < o->n_channels; i++) {
                const struct channel_config *c = &o->channels[i];

                json_object_begin(w);
                json_key_string(w, "name", c->name);
                json_key_string(w, "type", c->type == CHANNEL_WEBHOOK ? "webhook" : "smtp");
                json_object_end(w);
        }
        json_array_end(w);
        json_key(w, "tasks");
        json_object_begin(w);
        json_key_uint(w, "lead_days", o->lead_time / USEC_PER_DAY);
        json_key_uint(w, "service_urgent_days", o->service_urgent / USEC_PER_DAY);
        json_key_uint(w, "service_outreach_days", o->service_outreach / USEC_PER_DAY);
        json_key_uint(w, "max_attempts", o->max_attempts);
        json_object_end(w);
}

const struct channel_config *outreach_channel(const struct outreach_config *o, const char *name) {
        for (size_t i = 0; i < o->n_channels; i++)
                if (streq(o->channels[i].name, name))
                        return &o->channels[i];
        return NULL;
}
