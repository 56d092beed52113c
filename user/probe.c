// SPDX-License-Identifier: GPL-2.0-only
/* `txpace probe` and `txpace cleanup`: what this machine offers for pacing; restore after a crash. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/net_tstamp.h>

#include "txpace/cli.h"
#include "txpace/clock.h"
#include "txpace/cmd.h"
#include "txpace/json.h"

#define STATE_DIR "/run/txpace"

struct check {
	const char *key;
	int ok;
	char why[160];
};

static void check_btf(struct check *c)
{
	c->ok = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	snprintf(c->why, sizeof(c->why), c->ok ? "/sys/kernel/btf/vmlinux is present"
					       : "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off)");
}

static void check_hrtimers(struct check *c)
{
	struct timespec res;

	clock_getres(CLOCK_MONOTONIC, &res);
	c->ok = res.tv_sec == 0 && res.tv_nsec <= 1000;
	snprintf(c->why, sizeof(c->why), "CLOCK_MONOTONIC resolution %ld ns%s", res.tv_nsec,
		 c->ok ? "" : ": no high-resolution timers, sleeps end on ticks");
}

static void check_hz(struct check *c)
{
	struct timespec res;

	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	c->ok = 1;
	snprintf(c->why, sizeof(c->why), "tick %.2f ms (HZ=%.0f)", (double)res.tv_nsec / 1e6,
		 res.tv_nsec ? 1e9 / (double)res.tv_nsec : 0);
}

static void *fifo_thread(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };

	*(int *)arg = sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? 0 : errno;
	return NULL;
}

static void check_fifo(struct check *c)
{
	pthread_t t;
	int err = EAGAIN;
	struct rlimit rl;

	/* in a throwaway thread, so the probe itself stays at normal priority */
	if (pthread_create(&t, NULL, fifo_thread, &err) == 0) {
		pthread_join(t, NULL);
	}
	getrlimit(RLIMIT_RTPRIO, &rl);
	c->ok = err == 0;
	if (c->ok) {
		snprintf(c->why, sizeof(c->why), "SCHED_FIFO allowed (%s)",
			 geteuid() == 0 ? "root" : "RLIMIT_RTPRIO");
	} else {
		snprintf(c->why, sizeof(c->why), "SCHED_FIFO refused: %s (RLIMIT_RTPRIO %llu)",
			 strerror(err), (unsigned long long)rl.rlim_cur);
	}
}

static void check_mlock(struct check *c)
{
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	c->ok = geteuid() == 0 || rl.rlim_cur == RLIM_INFINITY;
	snprintf(c->why, sizeof(c->why), c->ok ? "mlockall allowed" :
		 "RLIMIT_MEMLOCK is %llu bytes: mlockall of the whole process may fail",
		 (unsigned long long)rl.rlim_cur);
}

static void check_txtime(struct check *c)
{
	struct {
		clockid_t clockid;
		uint32_t flags;
	} cfg = { CLOCK_MONOTONIC, 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	c->ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_TXTIME, &cfg, sizeof(cfg)) == 0;
	snprintf(c->why, sizeof(c->why), c->ok ? "SO_TXTIME accepted on a UDP socket"
					       : "SO_TXTIME refused: %s", strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
}

static void check_tstamp(struct check *c)
{
	unsigned f = SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_SOFTWARE |
		     SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	c->ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &f, sizeof(f)) == 0;
	snprintf(c->why, sizeof(c->why), c->ok ? "SO_TIMESTAMPING TX_SCHED|TX_SOFTWARE accepted"
					       : "SO_TIMESTAMPING refused: %s", strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
}

int cmd_probe(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "json", no_argument, 'j', NULL, "print JSON" },
		{ "help", no_argument, 'h', NULL, "this help" },
		{ 0 },
	};
	struct check checks[] = {
		{ "hrtimers" }, { "hz" }, { "btf" }, { "sched_fifo" }, { "mlock" }, { "so_txtime" },
		{ "so_timestamping" },
	};
	void (*fns[])(struct check *) = { check_hrtimers, check_hz, check_btf, check_fifo,
					  check_mlock, check_txtime, check_tstamp };
	size_t n = sizeof(checks) / sizeof(checks[0]);
	struct utsname u;
	struct cli c;
	int json = 0, k;
	const char *backend = "rt";
	char reason[256];

	cli_init(&c, "probe", "[IFACE] [--json]", opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		if (k == 'j') {
			json = 1;
		} else if (k == 'h') {
			cli_help(&c, stdout);
			return EXIT_OK;
		} else {
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		cli_usage_error(&c, "at most one interface");
		return EXIT_USAGE;
	}
	uname(&u);
	for (size_t i = 0; i < n; i++) {
		fns[i](&checks[i]);
	}
	snprintf(reason, sizeof(reason), "the real-time thread backend is the one built so far%s",
		 checks[3].ok ? "" : " (and it runs without SCHED_FIFO here)");
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj(&j, NULL);
		json_str(&j, "kernel", u.release);
		for (size_t i = 0; i < n; i++) {
			json_bool(&j, checks[i].key, checks[i].ok);
		}
		json_obj(&j, "reasons");
		for (size_t i = 0; i < n; i++) {
			json_str(&j, checks[i].key, checks[i].why);
		}
		json_str(&j, "backend", reason);
		json_end(&j, '}');
		json_str(&j, "backend", backend);
		json_end(&j, '}');
		json_done(&j);
		return EXIT_OK;
	}
	printf("kernel %s (%s)\n", u.release, u.machine);
	for (size_t i = 0; i < n; i++) {
		printf("  %-16s %-3s  %s\n", checks[i].key, checks[i].ok ? "yes" : "no", checks[i].why);
	}
	printf("backend: %s (%s)\n", backend, reason);
	return EXIT_OK;
}

int cmd_cleanup(int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{ "help", no_argument, 'h', NULL, "this help" },
		{ 0 },
	};
	struct cli c;
	int k, found = 0;
	DIR *d;

	cli_init(&c, "cleanup", "[IFACE]", opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		if (k == 'h') {
			cli_help(&c, stdout);
			return EXIT_OK;
		}
		return EXIT_USAGE;
	}
	d = opendir(STATE_DIR);
	if (d) {
		struct dirent *e;

		while ((e = readdir(d))) {
			size_t l = strlen(e->d_name);

			if (l > 6 && !strcmp(e->d_name + l - 6, ".state") &&
			    (optind >= argc || !strncmp(e->d_name, argv[optind], l - 6))) {
				printf("saved state %s/%s: no backend that changes interfaces is built "
				       "yet; left in place\n", STATE_DIR, e->d_name);
				found++;
			}
		}
		closedir(d);
	}
	if (!found) {
		printf("nothing to restore: no saved interface state in %s\n", STATE_DIR);
	}
	return EXIT_OK;
}
