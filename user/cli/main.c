// SPDX-License-Identifier: GPL-2.0-only
/* txpace: the subcommand registry; main() only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

#ifndef TXPACE_VERSION
#define TXPACE_VERSION "0.1"
#endif

/* one row per subcommand: its name, function, --help line, synopsis and option table */
#define CMD(n, what) { #n, cmd_##n, what, cmd_##n##_synopsis, cmd_##n##_opts }
static const struct cli_cmd cmds[] = {
	CMD(send, "send an audio stream with precisely paced packets"),
	CMD(list, "the AirPlay 1 and 2 receivers on the network (mDNS)"),
	CMD(pair, "pair with an AirPlay 2 receiver that wants a PIN (kept for later streams)"),
	CMD(relay, "re-time an AES67/RTP stream onto this machine's PTP grid"),
	CMD(measure, "receive an RTP stream and measure how precisely it was paced"),
	CMD(demo, "txpace against a plain sleep-loop sender, side by side, in private namespaces"),
	CMD(probe, "what this machine can do for pacing, and the backend send would use"),
	CMD(cleanup, "restore what a crashed txpace left on an interface"),
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: txpace COMMAND [options]   (txpace COMMAND --help for its options)\n\n");
	for (size_t i = 0; i < NCMDS; i++) {
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
	/* (not in the usage: the build generates txpace.8 and the completion with these) */
	if (!strcmp(argv[1], "--man")) {
		cli_man(stdout, cmds, NCMDS, TXPACE_VERSION);
		return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	}
	if (!strcmp(argv[1], "--bash-completion")) {
		cli_completion(stdout, cmds, NCMDS);
		return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			return cmds[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "txpace: unknown command '%s' (see 'txpace --help')\n", argv[1]);
	return EXIT_USAGE;
}
