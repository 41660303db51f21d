/* SPDX-License-Identifier: GPL-3.0-or-later */
/* How much loading a configuration does, beyond reading the file: shared by
 * config.c and the readers of its sections, which config.c calls. */
#pragma once

enum {
        CONFIG_LOAD_CREDENTIALS = 1 << 0,  /* read every named credential */
        CONFIG_CHECK_FILES = 1 << 1,       /* check that files the config names exist (ca_file, rules...) */
        CONFIG_LOAD_WEB_CREDENTIALS = 1 << 2,  /* read the web: block's credentials (bokvar-web's own) */
};
