// SPDX-License-Identifier: GPL-2.0-only
/* `txpace measure`: the receiver side for any RTP stream. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "txpace/clock.h"
#include "cmd.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/measure.h"

enum { O_LISTEN = 256, O_GROUP, O_IFACE, O_SECONDS, O_JSON, O_PAYLOAD, O_PLOT, O_PACKETS,
       O_MEDIA, O_MEDIA_OFF };

static const struct cli_opt measure_opts[] = {
	{ "listen", required_argument, O_LISTEN, "ADDR:PORT", "address and port to receive on (0.0.0.0:PORT, [::]:PORT, or a group)" },
	{ "group", required_argument, O_GROUP, "G", "join multicast group G" },
	{ "iface", required_argument, O_IFACE, "IF", "interface for the multicast join" },
	{ "seconds", required_argument, O_SECONDS, "N", "stop after N seconds (default: at SIGINT/SIGTERM)" },
	{ "packets", required_argument, O_PACKETS, "N", "stop after N packets" },
	{ "json", no_argument, O_JSON, NULL, "print the report as JSON" },
	{ "payload", required_argument, O_PAYLOAD, "FILE", "write the payload bytes in sequence order" },
	{ "plot", required_argument, O_PLOT, "FILE.svg", "draw the deviation histogram and time series" },
	{ "media-clock", required_argument, O_MEDIA, "HZ", "compare RTP time with arrival x HZ on CLOCK_REALTIME (AES67 media clock)" },
	{ "media-offset", required_argument, O_MEDIA_OFF, "NS", "PTP time - CLOCK_REALTIME for --media-clock (default 0)" },
	{ "verbose", no_argument, 'v', NULL, "more messages" },
	{ "help", no_argument, 'h', NULL, "this help" },
	{ 0 },
};

int cmd_measure(int argc, char **argv)
{
	struct measure_cfg cfg = { .stop = &cli_stop };
	struct measure_report r;
	const char *listen = NULL, *group = NULL;
	int json = 0, k, rc;
	long v;
	struct cli c;

	cli_init(&c, "measure", "--listen ADDR:PORT [options]", measure_opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		switch (k) {
		case O_LISTEN:
			listen = optarg;
			break;
		case O_GROUP:
			group = optarg;
			break;
		case O_IFACE:
			cfg.iface = optarg;
			break;
		case O_SECONDS:
			if (cli_duration(&c, "seconds", optarg, NSEC_PER_SEC, NSEC_PER_MSEC,
					 (int64_t)30 * 24 * 3600 * NSEC_PER_SEC, &cfg.seconds_ns)) {
				return EXIT_USAGE;
			}
			break;
		case O_PACKETS:
			if (cli_long(&c, "packets", optarg, 1, 0x7fffffffL, &v)) {
				return EXIT_USAGE;
			}
			cfg.max_packets = (uint64_t)v;
			break;
		case O_JSON:
			json = 1;
			break;
		case O_MEDIA:
			if (cli_long(&c, "media-clock", optarg, 8000, 384000, &v)) {
				return EXIT_USAGE;
			}
			cfg.media_clock = (uint32_t)v;
			break;
		case O_MEDIA_OFF: {
			int64_t ns;

			/* (64-bit: +-100 s in ns does not fit a 32-bit long) */
			if (cli_i64(&c, "media-offset", optarg, -100000000000LL, 100000000000LL, &ns)) {
				return EXIT_USAGE;
			}
			cfg.media_offset_ns = ns;
			break;
		}
		case O_PAYLOAD:
			cfg.payload_path = optarg;
			break;
		case O_PLOT:
			cfg.plot_path = optarg;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			cli_help(&c, stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!listen) {
		cli_usage_error(&c, "needs --listen ADDR:PORT");
		return EXIT_USAGE;
	}
	rc = net_parse(listen, 0, &cfg.listen);
	if (rc) {
		cli_usage_error(&c, "--listen: '%s' is not ADDR:PORT", listen);
		return EXIT_USAGE;
	}
	if (group) {
		/* the group takes the listening port */
		char tmp[300];

		snprintf(tmp, sizeof(tmp), strchr(group, ':') && group[0] != '[' ? "[%s]:1" : "%s:1",
			 group);
		rc = net_parse(tmp, 0, &cfg.group);
		if (rc || !net_is_multicast(&cfg.group)) {
			cli_usage_error(&c, "--group: '%s' is not a multicast address", group);
			return EXIT_USAGE;
		}
		cfg.have_group = 1;
	}
	cli_signals();
	rc = measure_run(&cfg, &r, -1);
	if (rc) {
		return EXIT_FAIL;
	}
	if (json) {
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
