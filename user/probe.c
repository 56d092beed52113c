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
#include <linux/pkt_cls.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/wait.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_egress.skel.h"
#include "txpace/log.h"
#include "txpace/nl.h"

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

static void check_set_tstamp(struct check *c)
{
	libbpf_set_print(NULL);
	c->ok = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_skb_set_tstamp, NULL) == 1;
	snprintf(c->why, sizeof(c->why), c->ok ? "tc programs may call bpf_skb_set_tstamp (EDT stamps)"
					       : "no bpf_skb_set_tstamp for tc programs (kernel < 5.18?)");
}

static void check_mmapable(struct check *c)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 32, 16, &o);

	c->ok = fd >= 0;
	snprintf(c->why, sizeof(c->why), c->ok ? "BPF_F_MMAPABLE arrays: the schedule ring is written "
					       "without a syscall per packet" : "no mmap-able BPF arrays: %s",
		 strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
}

/* What a throwaway veth pair in a throwaway network namespace accepts. */
struct ns_result {
	int clsact, cls_bpf, fq, etf;
	int e_clsact, e_cls_bpf, e_fq, e_etf;
};

static void ns_probe_child(int wfd)
{
	struct ns_result r = { 0 };
	struct nl *nl = NULL;
	struct tc_egress *skel;
	int rc;

	if (unshare(CLONE_NEWNET) || !(nl = nl_open()) ||
	    nl_veth_create(nl, "txp-probe0", "txp-probe1", -1) || nl_link_up(nl, "txp-probe0") ||
	    nl_link_up(nl, "txp-probe1")) {
		r.e_clsact = r.e_cls_bpf = r.e_fq = r.e_etf = errno ? errno : EPERM;
		goto out;
	}
	rc = nl_qdisc_add_root(nl, "txp-probe0", "fq");
	r.fq = rc == 0;
	r.e_fq = -rc;
	/* etf without its parameters: EINVAL means the kernel knows it, ENOENT that it does not */
	rc = nl_qdisc_add_root(nl, "txp-probe1", "etf");
	r.etf = rc == 0 || rc == -EINVAL;
	r.e_etf = -rc;
	libbpf_set_print(NULL);
	skel = tc_egress__open_and_load();
	if (!skel) {
		r.e_clsact = r.e_cls_bpf = errno;
		goto out;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex("txp-probe1"),
		    .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.txp_egress));
	rc = bpf_tc_hook_create(&hook);
	r.clsact = rc == 0;
	r.e_clsact = -rc;
	rc = r.clsact ? bpf_tc_attach(&hook, &opts) : -r.e_clsact;
	r.cls_bpf = rc == 0;
	r.e_cls_bpf = -rc;
	tc_egress__destroy(skel);
out:
	nl_close(nl);
	if (write(wfd, &r, sizeof(r)) != sizeof(r)) {
		_exit(1);
	}
	_exit(0);
}

static void ns_probe(struct check *clsact, struct check *cls_bpf, struct check *fq,
		     struct check *etf)
{
	struct ns_result r = { 0 };
	int p[2];
	pid_t pid;

	r.e_clsact = r.e_cls_bpf = r.e_fq = r.e_etf = EPERM;
	if (pipe2(p, O_CLOEXEC) == 0) {
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			ns_probe_child(p[1]);
		}
		close(p[1]);
		if (pid > 0 && read(p[0], &r, sizeof(r)) != sizeof(r)) {
			memset(&r, 0, sizeof(r));
			r.e_clsact = r.e_cls_bpf = r.e_fq = r.e_etf = EIO;
		}
		close(p[0]);
		if (pid > 0) {
			waitpid(pid, NULL, 0);
		}
	}
	clsact->ok = r.clsact;
	snprintf(clsact->why, sizeof(clsact->why), r.clsact ? "clsact created on a test veth"
			 : "clsact refused: %s", strerror(r.e_clsact));
	cls_bpf->ok = r.cls_bpf;
	snprintf(cls_bpf->why, sizeof(cls_bpf->why), r.cls_bpf
			 ? "txpace's egress program attached (cls_bpf, direct action), no kernel BTF needed"
			 : "cls_bpf attach refused: %s", strerror(r.e_cls_bpf));
	fq->ok = r.fq;
	snprintf(fq->why, sizeof(fq->why), r.fq ? "root fq created on a test veth"
			 : "no fq qdisc: %s (CONFIG_NET_SCH_FQ, or modprobe sch_fq)", strerror(r.e_fq));
	etf->ok = r.etf;
	snprintf(etf->why, sizeof(etf->why), r.etf ? "the kernel knows the etf qdisc"
			 : "no etf qdisc: %s (CONFIG_NET_SCH_ETF, or modprobe sch_etf)", strerror(r.e_etf));
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
		{ "so_timestamping" }, { "skb_set_tstamp" }, { "mmapable_array" }, { "clsact" },
		{ "cls_bpf" }, { "fq" }, { "etf" },
	};
	void (*fns[])(struct check *) = { check_hrtimers, check_hz, check_btf, check_fifo,
					  check_mlock, check_txtime, check_tstamp,
					  check_set_tstamp, check_mmapable };
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
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		fns[i](&checks[i]);
	}
	ns_probe(&checks[9], &checks[10], &checks[11], &checks[12]);
	if (!checks[11].ok) {
		snprintf(reason, sizeof(reason), "no fq qdisc to release kernel-stamped packets, so the "
			 "real-time thread%s", checks[3].ok ? "" : " (without SCHED_FIFO here)");
	} else {
		snprintf(reason, sizeof(reason), "fq is here, but the edt backend is not built yet: the "
			 "real-time thread%s", checks[3].ok ? "" : " (without SCHED_FIFO here)");
	}
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
