// SPDX-License-Identifier: GPL-2.0-only
/* `txpace demo`: txpace vs a relative-sleep sender over a veth pair between two private netns. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "txpace/caps.h"
#include "txpace/clock.h"
#include "cmd.h"
#include "demo.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/measure.h"
#include "txpace/nl.h"

#define TX_ADDR "192.168.67.1"
#define RX_ADDR "192.168.67.2"
#define PORT "5004"

/*
 * The namespaces exist only as file descriptors held by this process: when it exits, however it
 * exits, the kernel destroys them and the veth pair with them. Nothing is ever added to the
 * namespace txpace was started in.
 */
struct demo {
	int orig_ns, tx_ns, rx_ns;
	int seconds;
	int json;
};

static int run_with(struct demo *d, const char *backend, const char *stamp,
		    struct measure_report *out, char *why, size_t whylen);

static int new_netns(int orig)
{
	int fd;

	if (unshare(CLONE_NEWNET)) {
		return -errno;
	}
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(orig, CLONE_NEWNET)) {
		return -errno;
	}
	return fd < 0 ? -errno : fd;
}

static int config_side(int ns, int orig, const char *ifname, const char *addr, int peer_ns,
		       const char *peer)
{
	struct nl *nl;
	struct in_addr a;
	int rc;

	if (setns(ns, CLONE_NEWNET)) {
		return -errno;
	}
	nl = nl_open();
	if (!nl) {
		rc = -errno;
		goto out;
	}
	rc = peer ? nl_veth_create(nl, ifname, peer, peer_ns) : 0;
	inet_pton(AF_INET, addr, &a);
	if (!rc) {
		rc = nl_link_up(nl, "lo");
	}
	if (!rc) {
		rc = nl_addr_add(nl, ifname, AF_INET, &a, 24);
	}
	if (!rc) {
		rc = nl_link_up(nl, ifname);
	}
	nl_close(nl);
out:
	if (setns(orig, CLONE_NEWNET) && !rc) {
		rc = -errno;
	}
	return rc;
}

/* Closing the last descriptors destroys the namespaces and the veth pair with them. */
static void close_all(struct demo *d)
{
	int *fds[] = { &d->tx_ns, &d->rx_ns, &d->orig_ns };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
}

static int setup(struct demo *d)
{
	int rc;

	d->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (d->orig_ns < 0) {
		return -errno;
	}
	d->tx_ns = new_netns(d->orig_ns);
	if (d->tx_ns < 0) {
		return d->tx_ns;
	}
	d->rx_ns = new_netns(d->orig_ns);
	if (d->rx_ns < 0) {
		return d->rx_ns;
	}
	rc = config_side(d->tx_ns, d->orig_ns, "txp-tx", TX_ADDR, d->rx_ns, "txp-rx");
	if (!rc) {
		rc = config_side(d->rx_ns, d->orig_ns, "txp-rx", RX_ADDR, -1, NULL);
	}
	return rc;
}

/*
 * One run: measure in rx, send in tx, each in a child process; the report comes back on a pipe.
 * @stamp: NULL, or --stamp for edt. @why: the sender's stderr (its one-line reason), or NULL.
 */
static int run_one(struct demo *d, const char *backend, struct measure_report *out)
{
	return run_with(d, backend, NULL, out, NULL, 0);
}

/* Child: `txpace measure` in the receiver's namespace; the report goes back on @res. */
static void __attribute__((noreturn)) receiver_main(struct demo *d, int ready[2], int res[2])
{
	struct measure_cfg cfg = { .seconds_ns = (int64_t)(d->seconds * 3 + 10) * NSEC_PER_SEC,
				   .stop = &cli_stop };
	struct measure_report r;

	close(ready[0]);
	close(res[0]);
	cli_signals();
	if (setns(d->rx_ns, CLONE_NEWNET) || net_parse(RX_ADDR ":" PORT, 0, &cfg.listen)) {
		_exit(EXIT_FAIL);
	}
	char err[512];

	if (measure_run(&cfg, &r, ready[1], err, sizeof(err))) {
		pr_err("receiver: %s", err);
		_exit(EXIT_FAIL);
	}
	_exit(write(res[1], &r, sizeof(r)) == sizeof(r) ? EXIT_OK : EXIT_FAIL);
}

/* Child: `txpace send` of a 1 ms L24 tone in the sender's namespace (stderr to @errfd). */
static void __attribute__((noreturn)) sender_main(struct demo *d, const char *backend,
						  const char *stamp, char *secs, int errfd)
{
	char *argv[] = { "send", "--quiet", "--seconds", secs, "--backend", (char *)backend,
			 "--format", "L24", "--ptime", "1ms", RX_ADDR ":" PORT, "tone:1000",
			 NULL, NULL, NULL };
	int argc = 12;

	if (stamp) {
		argv[argc++] = "--stamp";
		argv[argc++] = (char *)stamp;
	}
	if (errfd >= 0) {
		dup2(errfd, STDERR_FILENO);
	}
	if (setns(d->tx_ns, CLONE_NEWNET)) {
		_exit(EXIT_FAIL);
	}
	_exit(cmd_send(argc, argv));
}

/* The sender's first stderr line, without the "txpace: error: " prefix. */
static void read_why(int fd, char *why, size_t whylen)
{
	ssize_t n = read(fd, why, whylen - 1);

	why[n > 0 ? n : 0] = 0;
	why[strcspn(why, "\n")] = 0;
	/* (the prefix is dropped by length: n bytes were read, the NUL is at n) */
	if (n > 15 && !strncmp(why, "txpace: error: ", 15)) {
		memmove(why, why + 15, (size_t)n - 15 + 1);
	}
}

static int run_with(struct demo *d, const char *backend, const char *stamp,
		    struct measure_report *out, char *why, size_t whylen)
{
	int ready[2] = { -1, -1 }, res[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, rc = -EIO;
	pid_t mpid = -1, spid;
	char secs[16], rb;
	ssize_t n;

	if (pipe2(ready, O_CLOEXEC) || pipe2(res, O_CLOEXEC)) {
		rc = -errno;
		goto out;
	}
	mpid = fork();
	if (mpid < 0) {
		rc = -errno;
		goto out;
	}
	if (mpid == 0) {
		receiver_main(d, ready, res);
	}
	close(ready[1]);
	close(res[1]);
	ready[1] = res[1] = -1;
	if (read(ready[0], &rb, 1) != 1) {
		goto out;	/* the receiver could not start */
	}
	snprintf(secs, sizeof(secs), "%d", d->seconds);
	if (why && pipe2(errp, O_CLOEXEC)) {
		rc = -errno;
		goto out;
	}
	spid = fork();
	if (spid < 0) {
		rc = -errno;
		goto out;
	}
	if (spid == 0) {
		sender_main(d, backend, stamp, secs, errp[1]);
	}
	if (errp[1] >= 0) {
		close(errp[1]);
		errp[1] = -1;
		read_why(errp[0], why, whylen);
	}
	while (waitpid(spid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -1;
			break;
		}
	}
	/* the sender has exited: every packet it sent is already queued at the receiver */
	kill(mpid, SIGTERM);
	n = read(res[0], out, sizeof(*out));
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 && n == sizeof(*out)) {
		rc = 0;
	}
out:
	if (mpid > 0) {
		kill(mpid, SIGTERM);
		waitpid(mpid, NULL, 0);
	}
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0) {
			close(ready[i]);
		}
		if (res[i] >= 0) {
			close(res[i]);
		}
		if (errp[i] >= 0) {
			close(errp[i]);
		}
	}
	return rc;
}

/* @decimals: digits after the point (a literal format: -Wformat-truncation can check it) */
static void row(const char *name, int decimals, double a, double b)
{
	char x[32], y[32];

	snprintf(x, sizeof(x), "%.*f", decimals, a);
	snprintf(y, sizeof(y), "%.*f", decimals, b);
	printf("  %-28s %14s %18s\n", name, x, y);
}

const char cmd_demo_synopsis[] = "[--seconds N] [--json]";

/* (parsed by hand below: the values go into struct demo) */
const struct cli_opt cmd_demo_opts[] = {
	{ "seconds", required_argument, 's', "N", "length of each run 1..600 (default 10)" },
	{ "json", no_argument, 'j', NULL, "print {\"txpace\": report, \"baseline\": report}" },
	{ "help", no_argument, 'h', NULL, "this help" },
	{ 0 },
};

int cmd_demo(int argc, char **argv)
{
	struct demo d = { .orig_ns = -1, .tx_ns = -1, .rx_ns = -1, .seconds = 10 };
	struct measure_report a, b;
	struct cli c;
	long v;
	int k, rc, ret = EXIT_FAIL;

	cli_init(&c, "demo", cmd_demo_synopsis, cmd_demo_opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		switch (k) {
		case 's':
			if (cli_long(&c, "seconds", optarg, 1, 600, &v)) {
				return EXIT_USAGE;
			}
			d.seconds = (int)v;
			break;
		case 'j':
			d.json = 1;
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
	if (cli_caps(&(struct caps_req){ .cmd = CAPS_DEMO })) {
		return EXIT_FAIL;
	}
	rc = setup(&d);
	if (rc) {
		pr_err("cannot create the demo's network namespaces: %s%s", strerror(-rc),
		       rc == -EPERM ? " (run as root)" : "");
		goto out;
	}
	if (!d.json) {
		printf("txpace demo: %d s of 1 ms L24 stereo RTP from namespace A to B over a veth "
		       "pair,\nmeasured by kernel receive stamps in B; first txpace (rt), then a "
		       "plain relative-sleep sender.\n", d.seconds);
		fflush(stdout);
	}
	rc = run_one(&d, "rt", &a);
	if (!rc) {
		rc = run_one(&d, "sleep", &b);
	}
	if (rc) {
		pr_err("a demo run failed: %s", strerror(-rc));
		goto out;
	}
	if (d.json) {
		struct json j;

		json_init(&j, stdout);
		json_obj(&j, NULL);
		measure_report_json(&j, "txpace", &a);
		measure_report_json(&j, "baseline", &b);
		json_end(&j, '}');
		json_done(&j);
	} else {
		printf("\n  %-28s %14s %18s\n", "", "txpace rt", "relative sleep");
		row("packets received", 0, (double)a.packets, (double)b.packets);
		row("lost", 0, (double)a.lost, (double)b.lost);
		row("stream took (s)", 2, a.duration_s, b.duration_s);
		row("|deviation| p50 (us)", 1, a.dev_p50, b.dev_p50);
		row("|deviation| p99 (us)", 1, a.dev_p99, b.dev_p99);
		row("|deviation| p99.9 (us)", 1, a.dev_p999, b.dev_p999);
		row("|deviation| max (us)", 1, a.dev_max, b.dev_max);
		row("inter-arrival min (us)", 1, a.int_min, b.int_min);
		row("inter-arrival median (us)", 1, a.int_p50, b.int_p50);
		row("inter-arrival max (us)", 1, a.int_max, b.int_max);
		printf("\n|deviation| is each packet's distance from the straight line fitted through "
		       "its arrival times;\na relative-sleep sender also runs slow (see 'stream "
		       "took'), which the fit hides.\n");
	}
	ret = EXIT_OK;
out:
	close_all(&d);
	return ret;
}

int demo_calibrate(int seconds, struct calib_row *rows, int max)
{
	static const struct {
		const char *name, *backend, *stamp;
	} b[] = {
		{ "edt (bpf)", "edt", "bpf" }, { "edt (txtime)", "edt", "txtime" },
		{ "etf", "etf", NULL }, { "rt", "rt", NULL },
	};
	struct demo d = { .orig_ns = -1, .tx_ns = -1, .rx_ns = -1, .seconds = seconds };
	int n = 0, rc = setup(&d);

	if (rc) {
		n = rc;
		goto out;
	}
	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]) && n < max; i++, n++) {
		struct calib_row *r = &rows[n];

		memset(r, 0, sizeof(*r));
		r->name = b[i].name;
		r->backend = b[i].backend;
		r->stamp = b[i].stamp;
		r->ok = run_with(&d, b[i].backend, b[i].stamp, &r->m, r->why, sizeof(r->why)) == 0;
		if (!r->ok && !r->why[0]) {
			snprintf(r->why, sizeof(r->why), "the run failed");
		}
	}
out:
	close_all(&d);
	return n;
}
