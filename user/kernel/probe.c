// SPDX-License-Identifier: GPL-2.0-only
/* `txpace probe`: what this machine offers for pacing, and the backend `--backend auto` takes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_egress.skel.h"
#include "txpace/ethtool.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/nl.h"
#include "txpace/probe.h"
#include "txpace/wifi.h"

static void check_btf(struct probe_check *c)
{
	c->ok = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	snprintf(c->why, sizeof(c->why), c->ok ? "/sys/kernel/btf/vmlinux is present"
					       : "no /sys/kernel/btf/vmlinux (CONFIG_DEBUG_INFO_BTF off)");
}

static void check_hrtimers(struct probe_check *c)
{
	struct timespec res;

	clock_getres(CLOCK_MONOTONIC, &res);
	c->ok = res.tv_sec == 0 && res.tv_nsec <= 1000;
	snprintf(c->why, sizeof(c->why), "CLOCK_MONOTONIC resolution %ld ns%s", res.tv_nsec,
		 c->ok ? "" : ": no high-resolution timers, sleeps end on ticks");
}

static void check_hz(struct probe_check *c)
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

static void check_fifo(struct probe_check *c)
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

static void check_mlock(struct probe_check *c)
{
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	c->ok = geteuid() == 0 || rl.rlim_cur == RLIM_INFINITY;
	snprintf(c->why, sizeof(c->why), c->ok ? "mlockall allowed" :
		 "RLIMIT_MEMLOCK is %llu bytes: mlockall of the whole process may fail",
		 (unsigned long long)rl.rlim_cur);
}

static void check_txtime(struct probe_check *c)
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

static void check_tstamp(struct probe_check *c)
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

static void check_set_tstamp(struct probe_check *c)
{
	libbpf_set_print(log_libbpf);
	c->ok = libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_skb_set_tstamp, NULL) == 1;
	snprintf(c->why, sizeof(c->why), c->ok ? "tc programs may call bpf_skb_set_tstamp (EDT stamps)"
					       : "no bpf_skb_set_tstamp for tc programs (kernel < 5.18?)");
}

static void check_mmapable(struct probe_check *c)
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
	libbpf_set_print(log_libbpf);
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

static void ns_probe(struct probe_check *clsact, struct probe_check *cls_bpf, struct probe_check *fq,
		     struct probe_check *etf)
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

/* The interface's driver (ETHTOOL_GDRVINFO), "" when it has none. */
static void driver_of(const char *ifname, char *drv, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	drv[0] = 0;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&di;
	if (fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		snprintf(drv, len, "%s", di.driver);
	}
	if (fd >= 0) {
		close(fd);
	}
}

static void check_tsinfo(const char *ifname, struct probe_check *c)
{
	struct ethtool_ts_info ti = { .cmd = ETHTOOL_GET_TS_INFO };
	struct ifreq ifr = { 0 };
	uint32_t ts = 0;
	int phc = -1, fd;
	const char *via = "ETHTOOL_MSG_TSINFO_GET";

	/* ethtool netlink; the ioctl on kernels before 5.11 */
	if (ethtool_tsinfo((int)if_nametoindex(ifname), &ts, &phc)) {
		via = "ETHTOOL_GET_TS_INFO";
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		ifr.ifr_data = (void *)&ti;
		if (fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
			ts = ti.so_timestamping;
			phc = ti.phc_index;
		}
		if (fd >= 0) {
			close(fd);
		}
	}
	c->ok = (ts & SOF_TIMESTAMPING_TX_HARDWARE) != 0;
	if (c->ok) {
		snprintf(c->why, sizeof(c->why), "%s: hardware TX stamps, PHC /dev/ptp%d (%s)", ifname,
			 phc, via);
	} else {
		snprintf(c->why, sizeof(c->why), "%s: no hardware TX stamps (software stamps only; %s)",
			 ifname, via);
	}
}

/* Drivers with launch-time (etf offload) hardware, from the kernel tree's ndo_setup_tc users. */
static int launch_time_driver(const char *drv)
{
	static const char *const d[] = { "igb", "igc", "stmmaceth", "st_gmac", "fsl_enetc",
					 "am65-cpsw-nuss", "tsnep", "ice", NULL };

	for (int i = 0; d[i]; i++) {
		if (!strcmp(drv, d[i])) {
			return 1;
		}
	}
	return 0;
}

/* The interface a probe or a stream is about: named, or the socket's, or the default route's. */
static int probe_ifname(const char *iface, int fd, char *out, size_t len)
{
	struct nl *nl;
	int oif = 0;

	out[0] = 0;
	if (iface) {
		snprintf(out, len, "%s", iface);
		return if_nametoindex(iface) ? 0 : -ENODEV;
	}
	nl = nl_open();
	if (!nl) {
		return -errno;
	}
	if (fd >= 0) {
		struct sockaddr_storage d;
		socklen_t dl = sizeof(d);

		if (getpeername(fd, (struct sockaddr *)&d, &dl) == 0) {
			oif = d.ss_family == AF_INET
				      ? nl_route_oif(nl, AF_INET, &((struct sockaddr_in *)&d)->sin_addr)
				      : nl_route_oif(nl, AF_INET6, &((struct sockaddr_in6 *)&d)->sin6_addr);
		}
	} else {
		struct in_addr a = { htonl(0x08080808) };

		oif = nl_route_oif(nl, AF_INET, &a);
	}
	nl_close(nl);
	if (oif > 0 && if_indextoname((unsigned)oif, out)) {
		return 0;
	}
	return -ENETUNREACH;
}

int probe_wifi_powersave(const char *iface, int fd)
{
	char ifname[IF_NAMESIZE];

	if (probe_ifname(iface, fd, ifname, sizeof(ifname))) {
		return 0;
	}
	return wifi_get_powersave((int)if_nametoindex(ifname)) == 1;
}

void probe_run(struct probe *pr, const char *iface, int fd)
{
	static const char *const keys[PROBE_N] = {
		"hrtimers", "hz", "btf", "sched_fifo", "mlock", "so_txtime", "so_timestamping",
		"skb_set_tstamp", "mmapable_array", "timer_abs", "clsact", "cls_bpf", "fq", "etf",
		"driver", "etf_offload", "hw_timestamps", "wifi_powersave",
	};
	void (*fns[])(struct probe_check *) = { check_hrtimers, check_hz, check_btf, check_fifo,
					  check_mlock, check_txtime, check_tstamp,
					  check_set_tstamp, check_mmapable };

	memset(pr, 0, sizeof(*pr));
	for (int i = 0; i < PROBE_N; i++) {
		pr->c[i].key = keys[i];
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		fns[i](&pr->c[i]);
	}
	pr->c[PROBE_TIMER].ok = kpace_probe_timer_abs(pr->c[PROBE_TIMER].why, sizeof(pr->c[PROBE_TIMER].why));
	ns_probe(&pr->c[PROBE_CLSACT], &pr->c[PROBE_CLSBPF], &pr->c[PROBE_FQ], &pr->c[PROBE_ETF]);
	if (probe_ifname(iface, fd, pr->ifname, sizeof(pr->ifname))) {
		snprintf(pr->c[PROBE_DRIVER].why, sizeof(pr->c[PROBE_DRIVER].why), "%s",
			 iface ? "no such interface" : "no default route: name an interface");
		snprintf(pr->c[PROBE_ETF_OFFLOAD].why, sizeof(pr->c[PROBE_ETF_OFFLOAD].why), "no interface");
		snprintf(pr->c[PROBE_HWTS].why, sizeof(pr->c[PROBE_HWTS].why), "no interface");
		snprintf(pr->c[PROBE_WIFI_PS].why, sizeof(pr->c[PROBE_WIFI_PS].why), "no interface");
		return;
	}
	driver_of(pr->ifname, pr->driver, sizeof(pr->driver));
	pr->c[PROBE_DRIVER].ok = pr->driver[0] != 0;
	snprintf(pr->c[PROBE_DRIVER].why, sizeof(pr->c[PROBE_DRIVER].why), "%s: driver %s", pr->ifname,
		 pr->driver[0] ? pr->driver : "unknown");
	pr->c[PROBE_ETF_OFFLOAD].ok = launch_time_driver(pr->driver);
	snprintf(pr->c[PROBE_ETF_OFFLOAD].why, sizeof(pr->c[PROBE_ETF_OFFLOAD].why), pr->c[PROBE_ETF_OFFLOAD].ok
		 ? "%s has launch-time hardware (etf offload)"
		 : "%s: no launch-time (etf offload) hardware", pr->driver[0] ? pr->driver : pr->ifname);
	check_tsinfo(pr->ifname, &pr->c[PROBE_HWTS]);
	int ps = wifi_get_powersave((int)if_nametoindex(pr->ifname));

	pr->c[PROBE_WIFI_PS].ok = ps == 1;
	snprintf(pr->c[PROBE_WIFI_PS].why, sizeof(pr->c[PROBE_WIFI_PS].why), ps == 1
		 ? "%s: Wi-Fi power save is ON (tens of ms of latency): txpace turns it off while sending"
		 : ps == 0 ? "%s: Wi-Fi power save is off" : "%s: not a Wi-Fi interface", pr->ifname);
}

void probe_decide(const struct probe *pr, struct probe_choice *out)
{
	const struct probe_check *c = pr->c;

	out->stamp = "bpf";
	if (!strcmp(pr->driver, "brcmfmac")) {
		out->backend = "rt";
		snprintf(out->reason, sizeof(out->reason), "brcmfmac: its firmware queues after the "
			 "qdisc and it has no launch time, so the real-time thread (the design's choice "
			 "for this chip)");
	} else if (c[PROBE_ETF_OFFLOAD].ok && c[PROBE_ETF].ok && c[PROBE_TXTIME].ok) {
		out->backend = "etf";
		snprintf(out->reason, sizeof(out->reason), "%s has launch-time hardware and the "
			 "kernel has etf: the NIC releases each packet", pr->driver);
	} else if (c[PROBE_FQ].ok && c[PROBE_CLSBPF].ok && c[PROBE_SETTS].ok && c[PROBE_MMAP].ok) {
		out->backend = "edt";
		snprintf(out->reason, sizeof(out->reason), "fq, cls_bpf and bpf_skb_set_tstamp are "
			 "here: the egress program stamps departure times and fq releases them");
	} else if (c[PROBE_FQ].ok && c[PROBE_TXTIME].ok) {
		out->backend = "edt";
		out->stamp = "txtime";
		snprintf(out->reason, sizeof(out->reason), "fq and SO_TXTIME are here (no usable "
			 "cls_bpf): fq releases packets at their SO_TXTIME");
	} else {
		out->backend = "rt";
		snprintf(out->reason, sizeof(out->reason), "no fq qdisc to release kernel-stamped "
			 "packets, so the real-time thread%s", c[PROBE_FIFO].ok ? "" :
			 " (without SCHED_FIFO here)");
	}
}

void probe_choose(const char *iface, int fd, struct probe_choice *out)
{
	struct probe pr;

	probe_run(&pr, iface, fd);
	probe_decide(&pr, out);
}
