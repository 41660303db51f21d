/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzzes the configuration loader: the YAML tree, the strict readers and
 * every section's parser. Any input must end in a config or in diagnostics,
 * never in a crash or a leak. */
#include <stdlib.h>

#include "bokvar/basic/util.h"
#include "bokvar/config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct config *c = NULL;
        struct diag d = {};
        int r;

        r = config_parse("/fuzz/bokvar.yaml", (const char *) data, size, 0, &c, &d);
        /* Either a configuration or at least one reason, never both or neither. */
        if ((r == 0) != (c != NULL) || (r < 0 && r != -ENOMEM && d.n == 0))
                abort();
        config_unref(c);
        diag_free(&d);
        return 0;
}
