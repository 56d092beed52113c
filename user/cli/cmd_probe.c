// SPDX-License-Identifier: GPL-2.0-only
/* txpace probe: what this machine offers for pacing, the backend auto takes, and (--calibrate) each backend measured. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "cli.h"
#include "txpace/caps.h"
#include "cmd.h"
#include "demo.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/measure.h"
#include "txpace/probe.h"

struct probe_opts {
	int json, calibrate;
	long seconds;
};

/* --json: every check, the choice and (with --calibrate) each backend measured */
static void print_json(const struct probe_opts *o, const struct utsname *u, const struct probe *pr,
		       const struct probe_choice *ch, const struct calib_row *cal, int ncal, int best)
{
	struct json j;

	json_init(&j, stdout);
	json_obj(&j, NULL);
	json_str(&j, "kernel", u->release);
	json_str(&j, "iface", pr->ifname);
	json_str(&j, "driver_name", pr->driver);
	for (int i = 0; i < PROBE_N; i++) {
		json_bool(&j, pr->c[i].key, pr->c[i].ok);
	}
	json_obj(&j, "reasons");
	for (int i = 0; i < PROBE_N; i++) {
		json_str(&j, pr->c[i].key, pr->c[i].why);
	}
	json_str(&j, "backend", ch->reason);
	json_end(&j, '}');
	json_str(&j, "backend", ch->backend);
	if (!strcmp(ch->backend, "edt")) {
		json_str(&j, "stamp", ch->stamp);
	}
	if (o->calibrate) {
		json_arr(&j, "calibration");
		for (int i = 0; i < ncal; i++) {
			json_obj(&j, NULL);
			json_str(&j, "name", cal[i].name);
			json_str(&j, "backend", cal[i].backend);
			json_bool(&j, "ok", cal[i].ok);
			if (cal[i].ok) {
				measure_report_json(&j, "receiver", &cal[i].m);
			} else {
				json_str(&j, "why", cal[i].why);
			}
			json_end(&j, '}');
		}
		json_end(&j, ']');
		json_str(&j, "calibrated", best >= 0 ? cal[best].name : "");
	}
	json_end(&j, '}');
	json_done(&j);
}

static void print_text(const struct probe_opts *o, const struct utsname *u, const struct probe *pr,
		       const struct probe_choice *ch, const struct calib_row *cal, int ncal, int best)
{
	printf("kernel %s (%s)\n", u->release, u->machine);
	for (int i = 0; i < PROBE_N; i++) {
		printf("  %-16s %-3s  %s\n", pr->c[i].key, pr->c[i].ok ? "yes" : "no", pr->c[i].why);
	}
	printf("backend: %s%s%s (%s)\n", ch->backend, strcmp(ch->backend, "edt") ? "" : ", --stamp ",
	       strcmp(ch->backend, "edt") ? "" : ch->stamp, ch->reason);
	if (o->calibrate) {
		printf("\ncalibration: %ld s of 1 ms L24 stereo per backend over a veth pair between "
		       "throwaway namespaces;\n|deviation| of kernel receive stamps from the fitted "
		       "schedule (us):\n", o->seconds);
		printf("  %-14s %8s %8s %8s %9s %6s\n", "backend", "p50", "p99", "p99.9", "max", "lost");
		for (int i = 0; i < ncal; i++) {
			if (cal[i].ok) {
				printf("  %-14s %8.1f %8.1f %8.1f %9.1f %6" PRIu64 "\n", cal[i].name,
				       cal[i].m.dev_p50, cal[i].m.dev_p99, cal[i].m.dev_p999,
				       cal[i].m.dev_max, (uint64_t)cal[i].m.lost);
			} else {
				printf("  %-14s unavailable: %s\n", cal[i].name, cal[i].why);
			}
		}
		if (best >= 0) {
			printf("lowest p99 here: %s%s\n", cal[best].name,
			       strcmp(cal[best].backend, ch->backend) ? " (not what auto chose: pass "
			       "--backend to use it)" : "");
		}
	}
}

const char cmd_probe_synopsis[] = "[IFACE] [--json]";

const struct cli_opt cmd_probe_opts[] = {
	CLI_OPT_SET("json", 'j', "print JSON", struct probe_opts, json),
	CLI_OPT_SET("calibrate", 'c', "also run each backend over a throwaway veth pair and measure it",
		    struct probe_opts, calibrate),
	CLI_OPT_LONG("seconds", 's', "N", "calibrate: seconds per backend 1..60 (default 3)",
		     struct probe_opts, seconds, 1, 60),
	CLI_OPT_HELP,
	{ 0 },
};

int cmd_probe(int argc, char **argv)
{
	struct probe_opts o = { .seconds = 3 };
	struct calib_row cal[8];
	int ncal = 0, best = -1;
	struct probe pr;
	struct probe_choice ch;
	struct utsname u;
	struct cli c;
	int rc;

	cli_init(&c, "probe", cmd_probe_synopsis, cmd_probe_opts);
	rc = cli_parse(&c, argc, argv, &o, NULL);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	if (argc - optind > 1) {
		cli_usage_error(&c, "at most one interface");
		return EXIT_USAGE;
	}
	if (argc - optind == 1 && !if_nametoindex(argv[optind])) {
		pr_err("no interface %s", argv[optind]);
		return EXIT_FAIL;
	}
	if (cli_caps(&(struct caps_req){ .cmd = o.calibrate ? CAPS_CALIBRATE : CAPS_PROBE })) {
		return EXIT_FAIL;
	}
	uname(&u);
	probe_run(&pr, argc - optind == 1 ? argv[optind] : NULL, -1);
	probe_decide(&pr, &ch);
	if (o.calibrate) {
		ncal = demo_calibrate((int)o.seconds, cal, 8);
		if (ncal < 0) {
			pr_err("cannot calibrate: %s%s", strerror(-ncal),
			       ncal == -EPERM ? " (run as root)" : "");
			return EXIT_FAIL;
		}
		for (int i = 0; i < ncal; i++) {
			if (cal[i].ok && cal[i].m.lost == 0 &&
			    (best < 0 || cal[i].m.dev_p99 < cal[best].m.dev_p99)) {
				best = i;
			}
		}
	}
	if (o.json) {
		print_json(&o, &u, &pr, &ch, cal, ncal, best);
	} else {
		print_text(&o, &u, &pr, &ch, cal, ncal, best);
	}
	return EXIT_OK;
}
