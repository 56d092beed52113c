// SPDX-License-Identifier: GPL-2.0-only
/* txpace cleanup: restore what a crashed txpace left on an interface (the restore journal). */
#include <stdio.h>

#include "cli.h"
#include "txpace/caps.h"
#include "cmd.h"
#include "txpace/kpace.h"

/* kpace_cleanup's lines, each on stdout as it comes */
static void say_stdout(void *arg, const char *line)
{
	printf("%s\n", line);
}

const char cmd_cleanup_synopsis[] = "[IFACE]";

const struct cli_opt cmd_cleanup_opts[] = {
	CLI_OPT_HELP,
	{ 0 },
};

int cmd_cleanup(int argc, char **argv)
{
	struct cli c;
	int rc;

	cli_init(&c, "cleanup", cmd_cleanup_synopsis, cmd_cleanup_opts);
	rc = cli_parse(&c, argc, argv, NULL, NULL);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	rc = cli_caps(&(struct caps_req){ .cmd = CAPS_CLEANUP });
	if (rc) {
		return rc;
	}
	rc = kpace_cleanup(optind < argc ? argv[optind] : NULL, say_stdout, NULL);
	if (rc == 0) {
		printf("nothing to restore%s%s in %s\n", optind < argc ? " for " : "",
		       optind < argc ? argv[optind] : "", KPACE_STATE_DIR);
	}
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
