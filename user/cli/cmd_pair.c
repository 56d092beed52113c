// SPDX-License-Identifier: GPL-2.0-only
/* txpace pair: PIN pairing with an AirPlay 2 receiver that demands it, kept for later streams. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "txpace/airplay2.h"
#include "txpace/profile.h"

struct pair_args {
	const char *pin, *dir;
	int64_t timeout_ms;
	int forget;
};

const char cmd_pair_synopsis[] =
	"[--pin PIN] [--pair-dir DIR] NAME|HOST[:PORT]    (or: --forget DEVICEID)\n\n"
	"  NAME      the AirPlay 2 receiver's name (txpace list), or its address (port 7000)\n"
	"  PIN       the PIN the receiver shows or was configured with (asked for when left out)";

const struct cli_opt cmd_pair_opts[] = {
	CLI_OPT_STR("pin", 'p', "PIN", "the receiver's PIN (default: ask on the terminal)",
		    struct pair_args, pin),
	CLI_OPT_STR("pair-dir", 'd', "DIR", "where the keys are kept (default /var/lib/txpace)",
		    struct pair_args, dir),
	CLI_OPT_I64("timeout", 't', "MS", "wait at most MS for each answer 100..60000 (default 5000)",
		    struct pair_args, timeout_ms, 100, 60000),
	CLI_OPT_SET("forget", 'f', "forget the receiver with this device id (from a pairing's line)",
		    struct pair_args, forget),
	CLI_OPT_HELP,
	{ 0 },
};

/* The PIN from the terminal, not echoed. @return 0, or -EINVAL with no terminal or no PIN */
static int ask_pin(char *pin, size_t cap)
{
	struct termios t, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &t) == 0;
	size_t n;

	if (!tty) {
		return -EINVAL;
	}
	fprintf(stderr, "PIN shown on the receiver: ");
	quiet = t;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	if (!fgets(pin, (int)cap, stdin)) {
		pin[0] = '\0';
	}
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
	fprintf(stderr, "\n");
	n = strcspn(pin, "\r\n");
	pin[n] = '\0';
	return n ? 0 : -EINVAL;
}

int cmd_pair(int argc, char **argv)
{
	struct pair_args a = { .timeout_ms = 5000 };
	struct profile_opts o = { 0 };
	char err[512], id[64], pin[64];
	struct cli c;
	int rc;

	cli_init(&c, "pair", cmd_pair_synopsis, cmd_pair_opts);
	rc = cli_parse(&c, argc, argv, &a, NULL);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (argc - optind != 1) {
		cli_usage_error(&c, "needs the receiver: NAME or HOST[:PORT]");
		return EXIT_USAGE;
	}
	cli_signals();
	o.pair_dir = a.dir;
	o.timeout_ms = a.timeout_ms;
	o.stop = &cli_stop;
	if (a.forget) {
		rc = airplay2_unpair(&o, argv[optind], err, sizeof(err));
		if (rc) {
			fprintf(stderr, "txpace: error: %s\n", err);
			return EXIT_FAIL;
		}
		printf("forgot %s\n", argv[optind]);
		return EXIT_OK;
	}
	/* an address has a dot or a colon; anything else is a name from mDNS */
	if (strpbrk(argv[optind], ".:[")) {
		o.dest_s = argv[optind];
	} else {
		o.to_name = argv[optind];
	}
	if (!a.pin && ask_pin(pin, sizeof(pin))) {
		fprintf(stderr, "txpace: error: no PIN: give --pin PIN (no terminal to ask on)\n");
		return EXIT_USAGE;
	}
	rc = airplay2_pair_pin(&o, a.pin ? a.pin : pin, id, sizeof(id), err, sizeof(err));
	if (rc) {
		fprintf(stderr, "txpace: error: %s\n", err);
		return EXIT_FAIL;
	}
	printf("paired with %s (device %s): its key is kept in %s; streams to it now pair-verify\n",
	       argv[optind], id, a.dir ? a.dir : "/var/lib/txpace");
	return EXIT_OK;
}
