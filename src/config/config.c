/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loading bokvar.yaml into struct config. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/basic/yamldoc.h"
#include "bokvar/config/config.h"
#include "bokvar/config/feed-config.h"
#include "bokvar/config/rules.h"

struct config *config_new(void) {
        struct config *c = calloc(1, sizeof *c);

        if (!c)
                return NULL;
        c->refs = 1;
        outreach_config_init(&c->outreach);
        access_config_init(&c->access);
        web_config_init(&c->web);
        c->log_level = LOG_INFO;
        c->max_parallel_fetches = 4;
        c->language = CONFIG_DEFAULT_LANGUAGE;
        return c;
}

struct config *config_ref(struct config *c) {
        if (c)
                c->refs++;
        return c;
}

struct config *config_unref(struct config *c) {
        if (!c || --c->refs > 0)
                return NULL;
        feed_configs_free(c->feeds, c->n_feeds);
        outreach_config_done(&c->outreach);
        access_config_done(&c->access);
        web_config_done(&c->web);
        rules_free(c->rules);
        free(c->rules_path);
        strv_free(c->file_roots);
        free(c->path);
        free(c->dir);
        free(c->database);
        secret_done(&c->database_password);
        return mfree(c);
}

static int parse_log_level(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_scalar(r, n, "a log level") < 0)
                return -EINVAL;
        if (log_level_from_string(n->value, dest) < 0)
                return y_error(r, n, "unknown log level '%s' (use err, warning, notice, info or debug)", n->value);
        return 0;
}

static int parse_feeds(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        struct config *c = r->userdata;

        return feed_configs_parse(r, n, c->dir, c->load_flags, &c->feeds, &c->n_feeds);
}

/* rules: the rules file, next to the configuration unless absolute; read
 * and checked too when the configuration's files are checked. */
static int parse_rules(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        struct config *c = r->userdata;

        if (y_scalar(r, n, "a file name") < 0)
                return -EINVAL;
        if (path_join_relative(c->dir, n->value, &c->rules_path) < 0)
                return -ENOMEM;
        if (c->load_flags & CONFIG_CHECK_FILES)
                return rules_load(c->rules_path, &c->rules, r->diag);
        return 0;
}

static bool endswith_dot(const char *p) {
        size_t n = strlen(p);

        return n >= 3 && streq(p + n - 2, "/.");
}

/* file_roots: directories, next to the configuration unless absolute. */
static int parse_file_roots(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        struct config *c = r->userdata;
        int ret = 0;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "file_roots must be a list of directories");
        c->file_roots = strv_free(c->file_roots);
        c->file_roots = calloc(1, sizeof(char *));
        if (!c->file_roots)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                const struct ynode *e = n->children[i];
                _cleanup_free_ char *p = NULL;

                if (y_scalar(r, e, "a directory") < 0 || ynode_is_null(e)) {
                        ret = -EINVAL;
                        continue;
                }
                if (path_has_dotdot(e->value)) {
                        ret = y_error(r, e, "file_roots: write '%s' without '..'", e->value);
                        continue;
                }
                if (path_join_relative(c->dir, e->value, &p) < 0)
                        return -ENOMEM;
                /* "." and "./feeds" name the configuration's directory and
                 * one below it: "dir/." would match nothing. */
                for (char *dot; (dot = strstr(p, "/./"));)
                        memmove(dot, dot + 2, strlen(dot + 2) + 1);
                if (endswith_dot(p))
                        p[strlen(p) - 2] = 0;
                if (strv_extend(&c->file_roots, p) < 0)
                        return -ENOMEM;
        }
        return ret;
}

/* A file: feed must lie under one of file_roots: as written (every load),
 * and with every symlink resolved when the files are checked. Reported at
 * the feed's url. A feed's file need not exist yet: it is read at each
 * fetch, and checked again then. */
static int check_file_feeds(const struct yreader *r, const struct ynode *root, struct config *c) {
        const struct ynode *list = ynode_find(root, "feeds");
        int ret = 0;

        for (size_t i = 0; i < c->n_feeds; i++) {
                struct feed_config *f = &c->feeds[i];
                const struct ynode *url = list && i < list->n_children ? ynode_find(list->children[i], "url") : NULL;
                _cleanup_free_ char *resolved = NULL;
                _cleanup_(buf_free) struct buf roots = {};
                bool under = false, symlink = false;

                f->file_roots = c->file_roots;
                if (f->scheme != FEED_SCHEME_FILE)
                        continue;
                for (size_t j = 0; c->file_roots[j]; j++)
                        under = under || path_is_under(f->path, c->file_roots[j]);
                if (under && (c->load_flags & CONFIG_CHECK_FILES)) {
                        int k = path_resolve_under(f->path, c->file_roots, true, &resolved);

                        if (k == -ENOMEM)
                                return k;
                        /* Not there (yet): the fetch will say so. */
                        symlink = k == -EPERM;
                        under = !symlink;
                }
                if (under)
                        continue;
                for (size_t j = 0; c->file_roots[j]; j++)
                        if (buf_printf(&roots, "%s%s", j ? ", " : "", c->file_roots[j]) < 0)
                                return -ENOMEM;
                ret = y_error(r, url ? url : root,
                              "feed '%s': %s is outside file_roots (%s)%s; add its directory there if it is meant "
                              "to be read",
                              f->name, f->path, roots.data ? roots.data : "",
                              symlink ? ", once its symlinks are followed" : "");
        }
        return ret;
}

static int parse_parallel(const struct yreader *r, const struct ynode *n, void *dest) {
        int64_t v;

        if (y_int64(r, n, 1, 64, &v) < 0)
                return -EINVAL;
        *(unsigned *) dest = (unsigned) v;
        return 0;
}

static int parse_teams(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        return outreach_parse_teams(r, n, &((struct config *) r->userdata)->outreach);
}

static int parse_channels(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        struct config *c = r->userdata;

        return outreach_parse_channels(r, n, c->dir, c->load_flags, &c->outreach);
}

static int parse_tasks(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        return outreach_parse_tasks(r, n, &((struct config *) r->userdata)->outreach);
}

static int parse_dispatch(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        return outreach_parse_dispatch(r, n, &((struct config *) r->userdata)->outreach);
}

static int parse_people(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        return access_parse_people(r, n, &((struct config *) r->userdata)->access);
}

static int parse_retention(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        return access_parse_retention(r, n, &((struct config *) r->userdata)->access);
}

static int parse_web(const struct yreader *r, const struct ynode *n, void *dest _unused_) {
        struct config *c = r->userdata;

        return web_config_parse(r, n, c->load_flags, &c->web);
}

static const struct yfield top_fields[] = {
        { "database", y_string, offsetof(struct config, database), false },
        { "database_password_credential", y_secret_name, offsetof(struct config, database_password), false },
        { "log_level", parse_log_level, offsetof(struct config, log_level), false },
        { "language", outreach_parse_language, offsetof(struct config, language), false },
        { "max_parallel_fetches", parse_parallel, offsetof(struct config, max_parallel_fetches), false },
        { "file_roots", parse_file_roots, 0, false },
        { "rules", parse_rules, offsetof(struct config, rules), false },
        { "feeds", parse_feeds, offsetof(struct config, feeds), false },
        { "teams", parse_teams, 0, false },
        { "channels", parse_channels, 0, false },
        { "tasks", parse_tasks, 0, false },
        { "dispatch", parse_dispatch, 0, false },
        { "people", parse_people, 0, false },
        { "retention", parse_retention, 0, false },
        { "web", parse_web, 0, false },
        {}
};

/* A login and where the file gives it a function. */
struct actor_node {
        const struct ynode *node;
        const char *function;
};

static int actor_nodes_add(struct actor_node **l, size_t *n, const struct ynode *list, const char *function) {
        struct actor_node *x;

        if (!list || list->type != YNODE_SEQUENCE)
                return 0;
        x = reallocarray(*l, *n + list->n_children + 1, sizeof **l);
        if (!x)
                return -ENOMEM;
        *l = x;
        for (size_t i = 0; i < list->n_children; i++)
                if (list->children[i]->type == YNODE_SCALAR)
                        x[(*n)++] = (struct actor_node){ list->children[i], function };
        return 0;
}

/* Each login has one function: caseworker (in one team or several),
 * coordinator, operator, auditor or case system, since the database maps a
 * session to one actor. And a case system serves teams that exist. Read
 * from the document, for the places to point at. */
static int check_actors(const struct yreader *r, const struct ynode *root, const struct config *c) {
        _cleanup_free_ struct actor_node *l = NULL;
        const struct ynode *teams = ynode_find(root, "teams"), *people = ynode_find(root, "people"), *cs;
        size_t n = 0;
        int ret = 0;

        for (size_t i = 0; teams && teams->type == YNODE_SEQUENCE && i < teams->n_children; i++)
                if (teams->children[i]->type == YNODE_MAPPING &&
                    actor_nodes_add(&l, &n, ynode_find(teams->children[i], "caseworkers"), "caseworker") < 0)
                        return -ENOMEM;
        if (people && people->type == YNODE_MAPPING) {
                if (actor_nodes_add(&l, &n, ynode_find(people, "coordinators"), "coordinator") < 0 ||
                    actor_nodes_add(&l, &n, ynode_find(people, "operators"), "operator") < 0 ||
                    actor_nodes_add(&l, &n, ynode_find(people, "auditors"), "auditor") < 0)
                        return -ENOMEM;
                cs = ynode_find(people, "case_systems");
                for (size_t i = 0; cs && cs->type == YNODE_SEQUENCE && i < cs->n_children; i++) {
                        const struct ynode *login = cs->children[i]->type == YNODE_MAPPING
                                                            ? ynode_find(cs->children[i], "login") : NULL;
                        struct actor_node *x;

                        if (!login || login->type != YNODE_SCALAR)
                                continue;
                        x = reallocarray(l, n + 1, sizeof *l);
                        if (!x)
                                return -ENOMEM;
                        l = x;
                        l[n++] = (struct actor_node){ login, "case system" };
                }
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < i; j++) {
                        if (!streq(l[i].node->value, l[j].node->value))
                                continue;
                        /* A caseworker in two teams is one actor; the same
                         * list twice is reported where the list is read. */
                        if (streq(l[i].function, l[j].function) && !streq(l[i].function, "case system"))
                                continue;
                        ret = y_error(r, l[i].node, "login '%s' is already a%s %s (line %u): a login has one function",
                                      l[i].node->value, strchr("aeiou", l[j].function[0]) ? "n" : "", l[j].function,
                                      l[j].node->line);
                        break;
                }

        cs = people && people->type == YNODE_MAPPING ? ynode_find(people, "case_systems") : NULL;
        for (size_t i = 0; cs && cs->type == YNODE_SEQUENCE && i < cs->n_children; i++) {
                const struct ynode *t = cs->children[i]->type == YNODE_MAPPING ? ynode_find(cs->children[i], "teams")
                                                                               : NULL;

                for (size_t k = 0; t && t->type == YNODE_SEQUENCE && k < t->n_children; k++) {
                        bool found = false;

                        for (size_t m = 0; m < c->outreach.n_teams && !found; m++)
                                found = streq_ptr(c->outreach.teams[m].name, t->children[k]->value);
                        if (!found && t->children[k]->type == YNODE_SCALAR)
                                ret = y_error(r, t->children[k], "a case system serves team '%s', which teams: does "
                                                                 "not define", t->children[k]->value);
                }
        }
        return ret;
}

/* Reads the database password, reporting a missing one at file level (the
 * connection needs it, whichever node named it). */
static int password_load(struct config *c, struct secret *s, const char *key, struct diag *d) {
        _cleanup_free_ char *reason = NULL;
        int r;

        if (!s->name || s->value)
                return 0;
        r = credential_read(s->name, &s->value, &s->size, &reason);
        if (r < 0)
                return diag_add(d, c->path, 0, 0, "%s: %s", key, reason ? reason : strerror(-r));
        return 0;
}

/* Builds the config from a parsed document. */
static int config_from_document(const char *path, const struct ynode *root, unsigned flags, struct config **ret,
                                struct diag *d) {
        _cleanup_(config_unrefp) struct config *c = NULL;
        struct yreader r = { .path = path, .diag = d };
        int k;

        if (!root)
                return diag_add(d, path, 0, 0, "the configuration is empty");

        c = config_new();
        if (!c)
                return -ENOMEM;
        c->load_flags = flags;
        c->path = strdup(path);
        if (!c->path || path_dirname(path, &c->dir) < 0)
                return -ENOMEM;
        r.userdata = c;

        k = y_map(&r, root, "the configuration", top_fields, c);
        if (root->type == YNODE_MAPPING && check_actors(&r, root, c) < 0)
                k = -EINVAL;
        if (isempty(c->database))
                c->database = mfree(c->database);
        if (!c->file_roots && (strv_extend(&c->file_roots, c->dir) < 0 ||
                               strv_extend(&c->file_roots, CONFIG_DEFAULT_FILE_ROOT) < 0))
                return -ENOMEM;
        if (k == 0)
                k = check_file_feeds(&r, root, c);

        if (k == 0 && (flags & CONFIG_LOAD_CREDENTIALS))
                k = password_load(c, &c->database_password, "database_password_credential", d);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_parse(const char *path, const char *data, size_t size, unsigned flags, struct config **ret,
                 struct diag *d) {
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        _cleanup_(config_unrefp) struct config *c = NULL;
        int r, k;

        size_t first = d->n;

        r = ydoc_parse(path, data, size, &root, d);
        if (r < 0 && !root)
                return r;
        /* Go on after errors that left the document readable: report them all. */
        k = config_from_document(path, root, flags, &c, d);
        diag_sort(d, first);
        if (r < 0 || k < 0)
                return r < 0 ? r : k;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load(const char *path, unsigned flags, struct config **ret, struct diag *d) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = ydoc_read(path, &data, &size, d);
        if (r < 0)
                return r;
        return config_parse(path, data, size, flags, ret, d);
}
