/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzzes the rules loader: any input ends in a ruleset (which must turn
 * into JSON) or in reasons, never in a crash or a leak. */
#include <stdlib.h>

#include "bokvar/config/rules.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct ruleset *rs = NULL;
        struct diag d = {};
        struct buf json = {};
        int r;

        r = rules_parse("/fuzz/rules.yaml", (const char *) data, size, &rs, &d);
        if ((r == 0) != (rs != NULL) || (r < 0 && r != -ENOMEM && d.n == 0))
                abort();
        if (rs && (rules_to_json(rs, &json) < 0 || !json.data))
                abort();
        buf_free(&json);
        rules_free(rs);
        diag_free(&d);
        return 0;
}
