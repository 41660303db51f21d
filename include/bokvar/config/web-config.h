/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The web: block of bokvar.yaml, read by bokvar-web: how it reaches the
 * database, which header names the signed-on person and whom it believes,
 * when it exits for want of work. */
#pragma once

#include <stdbool.h>

#include "bokvar/basic/credential.h"
#include "bokvar/basic/duration.h"
#include "bokvar/basic/yamldoc.h"

#define WEB_IDENTITY_HEADER_DEFAULT "X-Remote-User"

struct web_config {
        char *database;                 /* the web service's own connection; NULL: the top-level one */
        struct secret database_password;
        char *identity_header;          /* the header the sign-on proxy sets */
        char **trusted_users;           /* Unix socket peers it believes (SO_PEERCRED); NULL: whoever the socket admits */
        usec_t idle_exit;               /* exit after this long without a request; 0: never */
        unsigned connections;           /* database connections */
        struct secret key;              /* signs CSRF tokens; unnamed: a random key per start */
};

void web_config_init(struct web_config *w);
void web_config_done(struct web_config *w);
/* Reads the web: mapping; every mistake is added to r's diagnostics. With
 * CONFIG_LOAD_WEB_CREDENTIALS in flags, the named credentials are read too. */
int web_config_parse(const struct yreader *r, const struct ynode *n, unsigned flags, struct web_config *w);
