// SPDX-License-Identifier: GPL-2.0-only
/* txpace relay: an AES67/RTP stream re-timed onto this machine's PTP grid (txpace/relay.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "txpace/caps.h"
#include "cmd.h"
#include "stream_opts.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/relay.h"

struct relay_args {
	struct relay_cfg cfg;
	struct pace_opts pace;
	const char *report_path;
	int quiet;
};

enum { O_FROM = 256, O_TO, O_FROM_IFACE, O_LINK, O_SECONDS, O_REPORT, O_SAP_TIMEOUT };

/* the rows' destination */
#define ARGS struct relay_args
const char cmd_relay_synopsis[] = "--from SDP|sap:NAME|GROUP:PORT --to GROUP[:PORT] [options]";

const struct cli_opt cmd_relay_opts[] = {
	CLI_OPT_STR("from", O_FROM, "SRC",
		    "input: an SDP file, sap:NAME (a SAP-announced session), or GROUP:PORT",
		    ARGS, cfg.from),
	CLI_OPT_STR("to", O_TO, "GROUP[:PORT]", "output multicast group (port 5004 by default)",
		    ARGS, cfg.out.dest_s),
	CLI_OPT_STR("from-iface", O_FROM_IFACE, "IF", "interface to receive the input (and SAP) on",
		    ARGS, cfg.from_iface),
	CLI_OPT_CALL("iface", required_argument, SO_IFACE, "IF", "interface to send the output on"),
	CLI_OPT_DUR("link-offset", O_LINK, "T",
		    "output leaves this long after the input's arrival 1ms..1s (default 10ms)",
		    ARGS, cfg.link_offset_ns, NSEC_PER_MSEC, NSEC_PER_SEC, NSEC_PER_MSEC),
	CLI_OPT_DUR("seconds", O_SECONDS, "N",
		    "stop after N seconds of output (default: at SIGINT)",
		    ARGS, cfg.seconds_ns, NSEC_PER_MSEC, (int64_t)30 * 24 * 3600 * NSEC_PER_SEC,
		    NSEC_PER_SEC),
	CLI_OPT_STR("report", O_REPORT, "FILE", "write a JSON report to FILE", ARGS, report_path),
	CLI_OPT_WORDS("format", SO_FORMAT, "L16|L24",
		      "GROUP:PORT input: sample format (default L24)", "L16 L24"),
	CLI_OPT_CALL("rate", required_argument, SO_RATE, "HZ",
		     "GROUP:PORT input: sample rate (default 48000)"),
	CLI_OPT_CALL("channels", required_argument, SO_CHANNELS, "N",
		     "GROUP:PORT input: channels (default 2)"),
	CLI_OPT_CALL("ptime", required_argument, SO_PTIME, "T",
		     "GROUP:PORT input: packet time (default: from the first packet)"),
	CLI_OPT_CALL("ttl", required_argument, SO_TTL, "N", "output TTL 1..255 (default 1)"),
	CLI_OPT_WORDS("dscp", SO_DSCP, "N|aes67|dante", "output DSCP (default 34)", "aes67 dante"),
	CLI_OPT_CALL("ptp-socket", required_argument, SO_PTP_SOCKET, "PATH",
		     "ptp4l's management socket (default /var/run/ptp4l)"),
	CLI_OPT_CALL("ptp-domain", required_argument, SO_PTP_DOMAIN, "N",
		     "PTP domain 0..127 of ptp4l and the output's SDP (default 0; Livewire: 1)"),
	CLI_OPT_CALL("require-lock", no_argument, SO_REQUIRE_LOCK, NULL,
		     "wait until ptp4l is locked (the output starts after the lock)"),
	CLI_OPT_CALL("lock-timeout", required_argument, SO_LOCK_TIMEOUT, "S",
		     "give up waiting for the lock after S seconds (default 60)"),
	CLI_OPT_CALL("sap-interval", required_argument, SO_SAP, "S",
		     "announce the output every S seconds, 0 = none (default 30)"),
	CLI_OPT_CALL("name", required_argument, SO_NAME, "TEXT",
		     "the output's session name (default: txpace relay)"),
	CLI_OPT_DUR("sap-timeout", O_SAP_TIMEOUT, "S",
		    "sap:NAME: wait this long for the announcement (default 35)",
		    ARGS, cfg.sap_timeout_ns, NSEC_PER_SEC / 10, 3600 * NSEC_PER_SEC, NSEC_PER_SEC),
	CLI_OPT_CALL("spin", required_argument, SO_SPIN, "US|auto",
		     "pacer spin before each deadline; auto follows the wake-ups (default auto)"),
	CLI_OPT_CALL("prio", required_argument, SO_PRIO, "N",
		     "pacer SCHED_FIFO priority, 0 = normal (default 80)"),
	CLI_OPT_CALL("cpu", required_argument, SO_CPU, "N", "pin the pacer to CPU N"),
	CLI_OPT_SET("quiet", 'q', "no summary", ARGS, quiet),
	CLI_OPT_CALL("verbose", no_argument, 'v', NULL, "more messages"),
	CLI_OPT_HELP,
	{ 0 },
};
#undef ARGS

/* The options send shares (stream_opt), and -v. */
static int relay_opt(struct cli *c, int key, const char *arg, void *dst)
{
	struct relay_args *a = dst;

	if (key == 'v') {
		log_level = LOG_DEBUG;
		return 0;
	}
	return stream_opt(c, key, arg, &a->cfg.out, &a->pace) == 1 ? 0 : -EINVAL;
}

/* @return 0, 1 after --help, or -EINVAL after a usage error (reported) */
static int parse(struct relay_args *a, int argc, char **argv)
{
	struct cli c;
	int rc;

	relay_cfg_init(&a->cfg);
	a->pace = (struct pace_opts){ .spin_ns = a->cfg.spin_ns, .prio = a->cfg.prio,
				      .cpu = a->cfg.cpu };
	cli_init(&c, "relay", cmd_relay_synopsis, cmd_relay_opts);
	rc = cli_parse(&c, argc, argv, a, relay_opt);
	if (rc) {
		return rc;
	}
	if (optind != argc) {
		cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!a->cfg.from || !a->cfg.out.dest_s) {
		cli_usage_error(&c, "needs --from and --to");
		return -EINVAL;
	}
	a->cfg.spin_ns = a->pace.spin_ns;
	a->cfg.prio = (int)a->pace.prio;
	a->cfg.cpu = (int)a->pace.cpu;
	a->cfg.stop = &cli_stop;
	return 0;
}

/* The summary and the report of a relay that ran. @return the exit code */
static int conclude(struct relay *r, const struct relay_args *a)
{
	int rc = relay_finish(r);

	if (!a->quiet) {
		relay_summary(r, stdout);
	}
	if (a->report_path) {
		FILE *f = fopen(a->report_path, "w");

		if (!f) {
			pr_err("cannot write %s: %s", a->report_path, strerror(errno));
			return EXIT_FAIL;
		}
		relay_report(r, f);
		fclose(f);
	}
	return rc ? EXIT_FAIL : EXIT_OK;
}

int cmd_relay(int argc, char **argv)
{
	struct relay_args a = { 0 };
	struct relay *r;
	char err[512] = "";
	int rc, ret = EXIT_FAIL;

	rc = parse(&a, argc, argv);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	rc = cli_caps(&(struct caps_req){ .cmd = CAPS_RELAY, .fifo = a.cfg.prio > 0 });
	if (rc) {
		return rc;
	}
	cli_signals();
	r = relay_open(&a.cfg, err, sizeof(err));
	if (!r) {
		pr_err("%s", err);
		return EXIT_FAIL;
	}
	rc = relay_start(r, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		goto out;
	}
	rc = relay_run(r, err, sizeof(err));
	if (rc == 0) {
		ret = conclude(r, &a);
	} else if (rc == -EINTR) {
		ret = EXIT_OK;	/* stopped before the first input packet: nothing to report */
	} else {
		pr_err("%s", err);
	}
out:
	relay_close(r);
	return ret;
}
