// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for the AirPlay 2 PTP master (tests/integration/test_aptp.sh): run aptp from
 * LOCAL toward one or more receivers for a while, the way a profile would (poll + service), then
 * print its report as JSON.
 *   aptp_drive LOCAL SECONDS CLOCK OFFSET_NS PEER...   (CLOCK: mono, realtime or tai)
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/aptp.h"
#include "txpace/clock.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/net.h"

static volatile sig_atomic_t stopped;

static void on_sig(int s)
{
	stopped = s;
}

static void sink(void *ctx, enum log_level lvl, const char *line)
{
	fprintf(stderr, "aptp_drive: %s\n", line);
}

int main(int argc, char **argv)
{
	struct aptp_cfg cfg = { 0 };
	struct net_addr local, peer;
	struct aptp *a;
	struct json j;
	char err[256];
	int64_t end;

	if (argc < 6) {
		fprintf(stderr, "usage: aptp_drive LOCAL SECONDS mono|realtime|tai OFFSET_NS PEER...\n");
		return 2;
	}
	log_set_sink(sink, NULL);
	if (net_parse(argv[1], 1, &local)) {
		fprintf(stderr, "aptp_drive: bad LOCAL %s\n", argv[1]);
		return 2;
	}
	cfg.local = &local;
	cfg.clock = !strcmp(argv[3], "tai") ? CLOCK_TAI
		    : !strcmp(argv[3], "realtime") ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	cfg.offset_ns = strtoll(argv[4], NULL, 10);
	a = aptp_new(&cfg, err, sizeof(err));
	if (!a) {
		fprintf(stderr, "aptp_drive: %s\n", err);
		return 1;
	}
	for (int i = 5; i < argc; i++) {
		if (net_parse(argv[i], 1, &peer) || aptp_add_peer(a, &peer)) {
			fprintf(stderr, "aptp_drive: bad PEER %s\n", argv[i]);
			aptp_free(a);
			return 2;
		}
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	end = clock_ns(cfg.clock) + (int64_t)(atof(argv[2]) * 1e9);
	while (!stopped) {
		struct pollfd pfd[4];
		int64_t now = clock_ns(cfg.clock), next = end;
		int n;

		if (now >= end) {
			break;
		}
		if (aptp_service(a, now, &next)) {
			break;
		}
		n = aptp_poll_fds(a, pfd, 4);
		now = clock_ns(cfg.clock);
		poll(pfd, (nfds_t)n, next > now ? (int)((next - now) / NSEC_PER_MSEC) + 1 : 0);
	}
	json_init(&j, stdout);
	json_obj(&j, NULL);
	aptp_report(a, &j);
	json_end(&j, '}');
	json_done(&j);
	aptp_free(a);
	return 0;
}
