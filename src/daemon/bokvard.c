/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bokvard: the eviction-prevention early-warning daemon. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "bokvar-build.h"
#include "bokvar/basic/exit-status.h"
#include "bokvar/basic/log.h"
#include "bokvar/basic/util.h"
#include "bokvar/daemon/daemon.h"

static void help(void) {
        printf("Usage: bokvard [OPTIONS]\n"
               "\n"
               "Polls landlord and enforcement-agency feeds, scores households at risk of\n"
               "eviction, and pushes outreach tasks to caseworkers.\n"
               "\n"
               "  -c, --config FILE        configuration file (default %s)\n"
               "      --once               run the pipeline once and exit: 0 when every step\n"
               "                           succeeded, non-zero otherwise\n"
               "      --log-target TARGET  auto, journal or console (default auto: the journal\n"
               "                           when stderr is connected to it)\n"
               "      --log-level LEVEL    err, warning, notice, info or debug (overrides the file)\n"
               "      --version            print the version and exit\n"
               "  -h, --help               print this help and exit\n"
               "\n"
               "Signals: SIGHUP reloads the configuration; SIGTERM and SIGINT stop.\n"
               "Exit status: 0 ok, 1 failure or invalid configuration, 2 usage,\n"
               "3 database unreachable, 4 schema mismatch (run bokvarctl migrate).\n",
               CONFIG_DEFAULT_PATH);
}

int main(int argc, char *argv[]) {
        enum { ARG_ONCE = 0x100, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "once", no_argument, NULL, ARG_ONCE },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "version", no_argument, NULL, ARG_VERSION },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(daemon_freep) struct daemon *d = NULL;
        enum log_target target = LOG_TARGET_AUTO;
        const char *config = CONFIG_DEFAULT_PATH;
        int c, level = -1, r;
        bool once = false;

        while ((c = getopt_long(argc, argv, "c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case ARG_ONCE:
                        once = true;
                        break;
                case ARG_LOG_TARGET:
                        if (log_target_from_string(optarg, &target) < 0) {
                                fprintf(stderr, "bokvard: unknown log target '%s' (auto, journal, console)\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_LOG_LEVEL:
                        if (log_level_from_string(optarg, &level) < 0) {
                                fprintf(stderr, "bokvard: unknown log level '%s'\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case ARG_VERSION:
                        printf("bokvard %s\n", BOKVAR_VERSION);
                        return EXIT_OK;
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        fprintf(stderr, "Try 'bokvard --help'.\n");
                        return EXIT_USAGE;
                }
        if (optind < argc) {
                fprintf(stderr, "bokvard: unexpected argument '%s'\n", argv[optind]);
                return EXIT_USAGE;
        }

        log_setup("bokvard", target);
        if (level >= 0)
                log_set_max_level(level);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("Cannot initialise libcurl.");
                return EXIT_FAIL;
        }
        r = daemon_start(config, once, level, &d);
        if (r == EXIT_OK)
                r = daemon_run(d);
        d = daemon_free(d);
        curl_global_cleanup();
        return r;
}
