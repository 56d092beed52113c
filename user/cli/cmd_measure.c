// SPDX-License-Identifier: GPL-2.0-only
/* `txpace measure`: the receiver side for any RTP stream. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "txpace/caps.h"
#include "txpace/clock.h"
#include "cmd.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/measure.h"

/* The options: the capture's own configuration, and what only the command line has. */
struct measure_cli {
	struct measure_cfg cfg;
	const char *listen, *group;
	long packets, media_clock;
	int json;
};

const char cmd_measure_synopsis[] = "--listen ADDR:PORT [options]";

const struct cli_opt cmd_measure_opts[] = {
	CLI_OPT_STR("listen", 'L' + 256, "ADDR:PORT", "address and port to receive on (0.0.0.0:PORT, [::]:PORT, or a group)", struct measure_cli, listen),
	CLI_OPT_STR("group", 'G' + 256, "G", "join multicast group G", struct measure_cli, group),
	CLI_OPT_STR("iface", 'I' + 256, "IF", "interface for the multicast join", struct measure_cli, cfg.iface),
	CLI_OPT_DUR("seconds", 'S' + 256, "N", "stop after N seconds (default: at SIGINT/SIGTERM)",
		    struct measure_cli, cfg.seconds_ns, NSEC_PER_MSEC, (int64_t)30 * 24 * 3600 * NSEC_PER_SEC, NSEC_PER_SEC),
	CLI_OPT_LONG("packets", 'P' + 256, "N", "stop after N packets", struct measure_cli, packets, 1, 0x7fffffffL),
	CLI_OPT_SET("json", 'J' + 256, "print the report as JSON", struct measure_cli, json),
	CLI_OPT_STR("payload", 'Y' + 256, "FILE", "write the payload bytes in sequence order", struct measure_cli, cfg.payload_path),
	CLI_OPT_STR("plot", 'T' + 256, "FILE.svg", "draw the deviation histogram and time series", struct measure_cli, cfg.plot_path),
	CLI_OPT_LONG("media-clock", 'C' + 256, "HZ", "compare RTP time with arrival x HZ on CLOCK_REALTIME (AES67 media clock)",
		     struct measure_cli, media_clock, 8000, 384000),
	/* (64-bit: +-100 s in ns does not fit a 32-bit long) */
	CLI_OPT_I64("media-offset", 'O' + 256, "NS", "PTP time - CLOCK_REALTIME for --media-clock (default 0)",
		    struct measure_cli, cfg.media_offset_ns, -100000000000LL, 100000000000LL),
	CLI_OPT_CALL("verbose", no_argument, 'v', NULL, "more messages"),
	CLI_OPT_HELP,
	{ 0 },
};

static int on_opt(struct cli *c, int key, const char *arg, void *dst)
{
	log_level = LOG_DEBUG;	/* -v, the only CLI_CALL row */
	return 0;
}

/* --listen and --group into addresses (the group takes the listening port). */
static int addresses(struct cli *c, struct measure_cli *m)
{
	char tmp[300];

	if (!m->listen) {
		cli_usage_error(c, "needs --listen ADDR:PORT");
		return -EINVAL;
	}
	if (net_parse(m->listen, 0, &m->cfg.listen)) {
		cli_usage_error(c, "--listen: '%s' is not ADDR:PORT", m->listen);
		return -EINVAL;
	}
	if (!m->group) {
		return 0;
	}
	snprintf(tmp, sizeof(tmp), strchr(m->group, ':') && m->group[0] != '[' ? "[%s]:1" : "%s:1",
		 m->group);
	if (net_parse(tmp, 0, &m->cfg.group) || !net_is_multicast(&m->cfg.group)) {
		cli_usage_error(c, "--group: '%s' is not a multicast address", m->group);
		return -EINVAL;
	}
	m->cfg.have_group = 1;
	return 0;
}

int cmd_measure(int argc, char **argv)
{
	struct measure_cli m = { .cfg = { .stop = &cli_stop } };
	struct measure_report r;
	struct cli c;
	char err[512];
	int rc;

	cli_init(&c, "measure", cmd_measure_synopsis, cmd_measure_opts);
	rc = cli_parse(&c, argc, argv, &m, on_opt);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc) {
		cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (addresses(&c, &m)) {
		return EXIT_USAGE;
	}
	m.cfg.max_packets = (uint64_t)m.packets;
	m.cfg.media_clock = (uint32_t)m.media_clock;
	if (cli_caps(&(struct caps_req){ .cmd = CAPS_MEASURE })) {
		return EXIT_FAIL;
	}
	cli_signals();
	rc = measure_run(&m.cfg, &r, -1, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		return EXIT_FAIL;
	}
	if (m.json) {
		struct json j;

		json_init(&j, stdout);
		measure_report_json(&j, NULL, &r);
		json_done(&j);
	} else {
		measure_report_text(stdout, "received", &r);
	}
	if (r.packets == 0) {
		pr_err("no RTP packets received");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
