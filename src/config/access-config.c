/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Reading people: and retention:. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bokvar/basic/json-writer.h"
#include "bokvar/basic/util.h"
#include "bokvar/config/access-config.h"

void access_config_init(struct access_config *a) {
        /* domain.md: signals that never led to contact go after 6 months,
         * closed cases after 18; the logs are kept 2 years. */
        *a = (struct access_config){
                .signals_without_task = { .months = 6 },
                .households_with_tasks = { .months = 18 },
                .quarantine = { .days = 30 },
                .access_log = { .months = 24 },
                .audit_log = { .months = 24 },
        };
}

void access_config_done(struct access_config *a) {
        strv_free(a->coordinators);
        strv_free(a->operators);
        strv_free(a->auditors);
        for (size_t i = 0; i < a->n_case_systems; i++) {
                free(a->case_systems[i].login);
                strv_free(a->case_systems[i].teams);
        }
        free(a->case_systems);
        access_config_init(a);
}

bool access_login_valid(const char *s) {
        static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_";
        size_t l = strlen(s);

        return l >= 1 && l <= 63 && strchr(first, s[0]) && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                                     "0123456789_.@-") == l;
}

int access_parse_logins(const struct yreader *r, const struct ynode *n, void *dest) {
        int ret = 0;

        if (y_string_list(r, n, dest) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n->n_children; i++) {
                const struct ynode *c = n->children[i];

                if (!access_login_valid(c->value)) {
                        ret = y_error(r, c, "'%s' is not a login: a PostgreSQL role name of letters, digits, '_', "
                                            "'.', '@' and '-' (at most 63, not starting with '.', '@' or '-')",
                                      c->value);
                        continue;
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(n->children[j]->value, c->value)) {
                                ret = y_error(r, c, "login '%s' is listed twice (first at line %u)", c->value,
                                              n->children[j]->line);
                                break;
                        }
        }
        return ret;
}

static int parse_login(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string(r, n, dest) < 0)
                return -EINVAL;
        if (!access_login_valid(n->value))
                return y_error(r, n, "'%s' is not a login: a PostgreSQL role name of letters, digits, '_', '.', '@' "
                                     "and '-' (at most 63, not starting with '.', '@' or '-')", n->value);
        return 0;
}

static int parse_team_names(const struct yreader *r, const struct ynode *n, void *dest) {
        if (y_string_list(r, n, dest) < 0)
                return -EINVAL;
        if (n->n_children == 0)
                return y_error(r, n, "a case system serves at least one team");
        return 0;
}

static const struct yfield case_system_fields[] = {
        { "login", parse_login, offsetof(struct case_system_config, login), true },
        { "teams", parse_team_names, offsetof(struct case_system_config, teams), true },
        {}
};

static int parse_case_systems(const struct yreader *r, const struct ynode *n, void *dest) {
        struct access_config *a = (struct access_config *) ((char *) dest - offsetof(struct access_config, case_systems));
        int ret = 0;

        if (n->type != YNODE_SEQUENCE)
                return y_error(r, n, "case_systems must be a list (each starts with '- login: ...')");
        a->case_systems = calloc(n->n_children + 1, sizeof *a->case_systems);
        if (!a->case_systems)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_children; i++) {
                a->case_systems[i].line = n->children[i]->line;
                a->n_case_systems = i + 1;
                if (y_map(r, n->children[i], "a case system", case_system_fields, &a->case_systems[i]) < 0)
                        ret = -EINVAL;
        }
        return ret;
}

static const struct yfield people_fields[] = {
        { "coordinators", access_parse_logins, offsetof(struct access_config, coordinators), false },
        { "operators", access_parse_logins, offsetof(struct access_config, operators), false },
        { "auditors", access_parse_logins, offsetof(struct access_config, auditors), false },
        { "case_systems", parse_case_systems, offsetof(struct access_config, case_systems), false },
        {}
};

int access_parse_people(const struct yreader *r, const struct ynode *n, struct access_config *a) {
        return y_map(r, n, "people", people_fields, a);
}

static int fail(const char **ret_reason, const char *reason) {
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

int retention_parse(const char *s, struct retention_period *ret, const char **ret_reason) {
        static const struct {
                const char *unit;
                unsigned months, days;
        } units[] = {
                /* "mo" before "m", which is minutes elsewhere and refused here. */
                { "mo", 1, 0 }, { "y", 12, 0 }, { "w", 0, 7 }, { "d", 0, 1 },
        };
        uint64_t months = 0, days = 0;
        const char *p = s;

        if (!s || !*s)
                return fail(ret_reason, "empty; write e.g. 30d, 6mo or 2y");
        while (*p) {
                uint64_t v = 0;
                size_t i;

                if (*p < '0' || *p > '9')
                        return fail(ret_reason, "a retention period is a number and a unit: d, w, mo or y (e.g. 6mo)");
                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (uint64_t) (*p++ - '0');
                        if (v > 100000)
                                return fail(ret_reason, "too long (at most 100 years)");
                }
                if (!*p)
                        return fail(ret_reason, "a number without a unit; add d, w, mo or y (e.g. 30d, 6mo, 2y)");
                for (i = 0; i < ELEMENTSOF(units); i++)
                        if (startswith(p, units[i].unit))
                                break;
                if (i == ELEMENTSOF(units))
                        return fail(ret_reason, strchr("hms", *p) ? "retention is counted in whole days: use d, w, mo "
                                                                    "or y (months are mo; m is minutes)"
                                                                  : "unknown unit; use d, w, mo or y");
                months += v * units[i].months;
                days += v * units[i].days;
                if (months > 1200 || days > 36525)
                        return fail(ret_reason, "too long (at most 100 years)");
                p += strlen(units[i].unit);
        }
        if (months == 0 && days == 0)
                return fail(ret_reason, "must be at least a day");
        *ret = (struct retention_period){ .months = (unsigned) months, .days = (unsigned) days };
        return 0;
}

static int parse_period(const struct yreader *r, const struct ynode *n, void *dest) {
        const char *reason;

        if (y_scalar(r, n, "a retention period such as 6mo") < 0)
                return -EINVAL;
        if (retention_parse(n->value, dest, &reason) < 0)
                return y_error(r, n, "invalid retention period '%s': %s", n->value, reason);
        return 0;
}

static const struct yfield retention_fields[] = {
        { "signals_without_task", parse_period, offsetof(struct access_config, signals_without_task), false },
        { "households_with_tasks", parse_period, offsetof(struct access_config, households_with_tasks), false },
        { "quarantine", parse_period, offsetof(struct access_config, quarantine), false },
        { "access_log", parse_period, offsetof(struct access_config, access_log), false },
        { "audit_log", parse_period, offsetof(struct access_config, audit_log), false },
        {}
};

int access_parse_retention(const struct yreader *r, const struct ynode *n, struct access_config *a) {
        return y_map(r, n, "retention", retention_fields, a);
}

static void write_period(struct json_writer *w, const char *key, const struct retention_period *p) {
        json_key(w, key);
        json_object_begin(w);
        json_key_uint(w, "months", p->months);
        json_key_uint(w, "days", p->days);
        json_object_end(w);
}

void access_write_json(const struct access_config *a, struct json_writer *w) {
        json_key(w, "people");
        json_object_begin(w);
        json_key(w, "coordinators");
        json_strv(w, a->coordinators);
        json_key(w, "operators");
        json_strv(w, a->operators);
        json_key(w, "auditors");
        json_strv(w, a->auditors);
        json_key(w, "case_systems");
        json_array_begin(w);
        for (size_t i = 0; i < a->n_case_systems; i++) {
                json_object_begin(w);
                json_key_string(w, "login", a->case_systems[i].login);
                json_key(w, "teams");
                json_strv(w, a->case_systems[i].teams);
                json_object_end(w);
        }
        json_array_end(w);
        json_object_end(w);
        json_key(w, "retention");
        json_object_begin(w);
        write_period(w, "signals_without_task", &a->signals_without_task);
        write_period(w, "households_with_tasks", &a->households_with_tasks);
        write_period(w, "quarantine", &a->quarantine);
        write_period(w, "access_log", &a->access_log);
        write_period(w, "audit_log", &a->audit_log);
        json_object_end(w);
}
