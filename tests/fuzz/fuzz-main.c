/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Replays fuzz inputs without libFuzzer: each argument is a file or a
 * directory of files handed to LLVMFuzzerTestOneInput() in turn, so every
 * build runs the corpus as an ordinary test. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "fuzz.h"

static int run_file(const char *path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_full_file(path, 16 * 1024 * 1024, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
                return 1;
        }
        (void) LLVMFuzzerTestOneInput((const uint8_t *) data, size);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;
        int fail = 0;

        log_set_max_level(LOG_EMERG);
        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return 1;
                }
                if (S_ISDIR(st.st_mode)) {
                        struct dirent **list;
                        int k = scandir(argv[i], &list, NULL, alphasort);

                        if (k < 0) {
                                fprintf(stderr, "%s: %m\n", argv[i]);
                                return 1;
                        }
                        for (int j = 0; j < k; j++) {
                                _cleanup_free_ char *p = NULL;

                                if (list[j]->d_name[0] != '.' && asprintf(&p, "%s/%s", argv[i], list[j]->d_name) > 0) {
                                        fail |= run_file(p);
                                        n++;
                                }
                                free(list[j]);
                        }
                        free(list);
                } else {
                        fail |= run_file(argv[i]);
                        n++;
                }
        }
        printf("%u inputs replayed\n", n);
        return fail || n == 0;
}
