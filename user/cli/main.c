// SPDX-License-Identifier: GPL-2.0-only
/* txpace: the subcommand table; main() only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#ifndef TXPACE_VERSION
#define TXPACE_VERSION "0.1"
#endif

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} cmds[] = {
	{ "send", cmd_send, "send an audio stream with precisely paced packets" },
	{ "list", cmd_list, "the AirPlay receivers on the network (mDNS)" },
	{ "relay", cmd_relay, "re-time an AES67/RTP stream onto this machine's PTP grid" },
	{ "measure", cmd_measure, "receive an RTP stream and measure how precisely it was paced" },
	{ "demo", cmd_demo, "txpace against a plain sleep-loop sender, side by side, in private namespaces" },
	{ "probe", cmd_probe, "what this machine can do for pacing, and the backend send would use" },
	{ "cleanup", cmd_cleanup, "restore what a crashed txpace left on an interface" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: txpace COMMAND [options]   (txpace COMMAND --help for its options)\n\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
	}
}

int main(int argc, char **argv)
{
	log_set_sink(cli_log_stderr, NULL);
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("txpace %s\n", TXPACE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "txpace: unknown command '%s' (see 'txpace --help')\n", argv[1]);
	return EXIT_USAGE;
}
