// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel pacing control plane. The state file is a journal: each change is appended (and
 * synced) before it is made, so a crash at any point leaves a file that says exactly what to
 * undo. Closing and `txpace cleanup` run the same restore.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/net_tstamp.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tc_egress.skel.h"
#include "xmit_btf.skel.h"
#include "txpace/clock.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/nl.h"
#include "txpace/wifi.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

#define TXP_HANDLE 0x74700000u	/* "tp": the major handle of the qdiscs txpace creates */
#define TXP_FILTER_PRIO 0x7470
#define TXP_FILTER_HANDLE 0x7470
#define ETF_PRIO 6		/* socket priority mapped to the etf queue under mqprio */

struct kpace {
	struct kpace_cfg cfg;
	char ifname[32], key[64], state_path[128], pin_dir[160], desc[256];
	int ifindex, lock_fd, state_fd;
	unsigned tx_queues;
	unsigned l3_off;	/* bytes before the IP header at tc egress (link type) */
	int root_saved, filter_saved;	/* journaled once: a re-attach adds no second copy */
	struct nl *nl, *events_nl;
	struct tc_egress *skel;
	struct bpf_link *tp_link;	/* the hand-off program's attachment (either kind) */
	struct xmit_btf *btf_skel;	/* the tp_btf hand-off program, where the kernel has BTF */
	struct ring_buffer *rb;
	struct txp_slot *ring;
	struct txp_flow_key flow_key;
	int flows_fd, wstats_fd;
	uint64_t nevents, nevents_unstamped;
	int64_t next_verify;		/* next check of the tracepoint's skb->data offset */
	uint64_t verify_stamped, verify_seen;	/* the counters at the last check */
	uint64_t last_published;	/* the latest launch time in the ring (MONOTONIC) */
	char event_msg[160];
	int link_down;
	int timer;		/* the deadline watchdog runs (bpf_timer with BPF_F_TIMER_ABS) */
	int64_t txtime_offset;	/* software etf dequeues delta early: times are shifted by delta */
	int prog_fd;		/* the egress program attached */
	int64_t next_check;	/* when to check that our qdisc and filter are still there */
};

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- the state journal ---- */

static uint64_t netns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/* Does the network namespace of inode @ino still exist (a process in it, or a name in /run/netns)? */
static int netns_exists(uint64_t ino)
{
	const char *dirs[] = { "/proc", "/run/netns" };

	for (int i = 0; i < 2; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		char p[300];

		if (!d) {
			continue;
		}
		while ((e = readdir(d))) {
			if (i == 0 && (e->d_name[0] < '0' || e->d_name[0] > '9')) {
				continue;
			}
			snprintf(p, sizeof(p), i == 0 ? "%s/%s/ns/net" : "%s/%s", dirs[i], e->d_name);
			if (e->d_name[0] != '.' && netns_ino(p) == ino) {
				closedir(d);
				return 1;
			}
		}
		closedir(d);
	}
	return 0;
}

/* Interface names repeat across network namespaces: outside the first one the key says which. */
static void state_key(const char *ifname, char *key, size_t len)
{
	uint64_t self = netns_ino("/proc/self/ns/net"), init = netns_ino("/proc/1/ns/net");

	/* (when pid 1's namespace cannot be read, say which namespace anyway) */
	if (self && (!init || self != init)) {
		snprintf(key, len, "%s@%llu", ifname, (unsigned long long)self);
	} else {
		snprintf(key, len, "%s", ifname);
	}
}

/*
 * Append a line to the journal and wait until it is on disk: a change is made only after its
 * line is there. @return 0 or -errno (-ENOSPC on a full /run)
 */
static int journal(struct kpace *k, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int n, rc = 0;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -ENOMEM;
	}
	line[n] = '\n';	/* (vasprintf's NUL: the line is written by length) */
	ssize_t w = write(k->state_fd, line, (size_t)n + 1);

	if (w != (ssize_t)n + 1 || fdatasync(k->state_fd)) {
		rc = w >= 0 && w != (ssize_t)n + 1 ? -ENOSPC : -errno;
	}
	free(line);
	return rc;
}

/* journal() or a one-line error that the change is not made */
#define JOURNAL_OR_FAIL(k, err, errlen, ...)                                                      \
	do {                                                                                      \
		int jrc_ = journal(k, __VA_ARGS__);                                                \
		if (jrc_) {                                                                        \
			return fail(err, errlen, jrc_, "cannot write %s (%s): nothing more is changed", \
				    (k)->state_path, strerror(-jrc_));                             \
		}                                                                                  \
	} while (0)

static void hex_put(char *out, const void *p, size_t n)
{
	static const char h[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = h[b[i] >> 4];
		out[2 * i + 1] = h[b[i] & 15];
	}
	out[2 * n] = 0;
}

static size_t hex_get(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (s[0] && s[1] && n < max) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1) {
			break;
		}
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

struct save_ctx {
	struct kpace *k;
	char classful[32];	/* a configured qdisc whose classes txpace could not put back */
};

/* Qdiscs whose classes are made one by one (tc class add): the journal keeps qdiscs only. */
static int has_user_classes(const char *kind)
{
	static const char *const k[] = { "htb", "hfsc", "drr", "qfq", "cbq", "ets", "taprio", NULL };

	for (int i = 0; k[i]; i++) {
		if (!strcmp(kind, k[i])) {
			return 1;
		}
	}
	return 0;
}

static int save_qdisc(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg)
{
	struct save_ctx *sc = arg;
	char *hex;
	int rc;

	if (!strcmp(q->kind, "clsact") || !strcmp(q->kind, "ingress")) {
		return 0;	/* not ours to save: txpace only ever adds a filter or a clsact */
	}
	if (q->handle && has_user_classes(q->kind) && !sc->classful[0]) {
		snprintf(sc->classful, sizeof(sc->classful), "%s", q->kind);
	}
	if (!sc->k) {
		return 0;
	}
	hex = malloc((size_t)nlh->nlmsg_len * 2 + 1);
	if (!hex) {
		return -ENOMEM;
	}
	hex_put(hex, nlh, nlh->nlmsg_len);
	/* the whole tree as it is (any size); only configured qdiscs (handle != 0) are re-created */
	rc = journal(sc->k, "qdisc %s %08x %08x %s", q->kind, q->parent, q->handle, hex);
	free(hex);
	return rc;
}

/* What is on the interface now: txpace's root qdisc, a clsact (anyone's). */
struct intact {
	int root, clsact;
};

static int check_qdisc(const struct nlmsghdr *nlh, const struct nl_qdisc *q, void *arg)
{
	struct intact *in = arg;

	if (!strcmp(q->kind, "clsact")) {
		in->clsact = 1;
	} else if (q->parent == TC_H_ROOT && q->handle == TXP_HANDLE) {
		in->root = 1;
	}
	return 0;
}

static int has_clsact(struct nl *nl, int ifindex)
{
	struct intact in = { 0 };

	nl_qdisc_list(nl, ifindex, check_qdisc, &in);
	return in.clsact;
}

static void rm_pins(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (!d) {
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	}
	closedir(d);
	rmdir(dir);
	rmdir(KPACE_PIN_DIR);	/* only when empty */
}

/*
 * Undo a journal, newest change first. @say: print what was done (cleanup), else log at debug.
 * @return 0, or -errno of the first step that failed (the others are still tried)
 */
static int restore(const char *path, int say)
{
	FILE *f = fopen(path, "r");
	char **lines = NULL, *buf = NULL;
	size_t n = 0, cap = 0, bufsz = 0;
	ssize_t got;
	int ifindex = 0, rc = 0;
	uint64_t ns = 0;
	char ifname[IF_NAMESIZE + 1] = "?";
	struct nl *nl;

	if (!f) {
		return -errno;
	}
	/* every line, however many and however long (a 300-queue tree, a big qdisc's options) */
	while ((got = getline(&buf, &bufsz, f)) >= 0) {
		buf[strcspn(buf, "\n")] = 0;
		if (n == cap) {
			char **more = realloc(lines, (cap ? cap * 2 : 64) * sizeof(*lines));

			if (!more) {
				rc = -ENOMEM;
				break;
			}
			lines = more;
			cap = cap ? cap * 2 : 64;
		}
		if (!strncmp(buf, "ifindex ", 8)) {
			sscanf(buf + 8, "%d %16s", &ifindex, ifname);
		} else if (!strncmp(buf, "netns ", 6)) {
			ns = strtoull(buf + 6, NULL, 10);
		}
		lines[n++] = strdup(buf);
	}
	free(buf);
	fclose(f);
	if (rc) {
		goto out;
	}
	if (ns && ns != netns_ino("/proc/self/ns/net")) {
		if (netns_exists(ns)) {
			if (say) {
				printf("%s: belongs to another network namespace (inode %llu): run "
				       "`txpace cleanup` there\n", path, (unsigned long long)ns);
			}
			rc = -EXDEV;
			goto out;
		}
		/*
		 * That namespace is gone, and its interface and qdiscs with it; what is left is
		 * what lives outside it: the pinned maps in bpffs (per mount namespace).
		 */
		for (size_t i = n; i-- > 0;) {
			char arg[256];

			if (lines[i] && sscanf(lines[i], "did pin %255s", arg) == 1) {
				rm_pins(arg);
				if (say) {
					printf("%s: its network namespace is gone; pinned maps under %s "
					       "removed\n", path, arg);
				}
			} else if (lines[i] && sscanf(lines[i], "did mount %255s", arg) == 1) {
				umount2(arg, MNT_DETACH);
			}
		}
		unlink(path);
		goto out;
	}
	nl = nl_open();
	if (!nl) {
		rc = -errno;
		goto out;
	}
	struct nl_link l;
	int present = nl_link_get(nl, ifindex, &l) == 0 && !strcmp(l.name, ifname);

	if (!present && say) {
		printf("%s: %s (index %d) is gone: nothing on it to restore\n", path, ifname, ifindex);
	}
	for (size_t i = n; i-- > 0;) {
		char *s = lines[i], arg[256] = "";
		int e = 0;

		if (!s || strncmp(s, "did ", 4)) {
			continue;
		}
		s += 4;
		if (!strncmp(s, "root", 4) && present) {
			/* delete ours (the kernel puts its default back), then re-create what was set */
			e = nl_qdisc_del(nl, ifindex, TC_H_ROOT, 0);
			if (e == -ENOENT || e == -EINVAL) {
				e = 0;
			}
			for (size_t j = 0; j < n && !e; j++) {
				char kind[32];
				unsigned parent, handle;
				int off = 0;

				if (!lines[j] ||
				    sscanf(lines[j], "qdisc %31s %x %x %n", kind, &parent, &handle, &off) < 3 ||
				    !off || handle == 0) {
					continue;
				}
				size_t max = strlen(lines[j] + off) / 2 + 1;
				uint8_t *msg = malloc(max);

				e = msg ? nl_qdisc_recreate(nl, msg, hex_get(lines[j] + off, msg, max))
					: -ENOMEM;
				free(msg);
			}
			if (say) {
				printf("%s: root qdisc restored%s\n", ifname, e ? " (with errors)" : "");
			}
		} else if (!strncmp(s, "clsact", 6) && present) {
			e = nl_qdisc_del(nl, ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0));
			e = e == -ENOENT || e == -EINVAL ? 0 : e;
			if (say) {
				printf("%s: clsact and txpace's filter removed\n", ifname);
			}
		} else if (!strncmp(s, "filter", 6) && present) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
			LIBBPF_OPTS(bpf_tc_opts, o, .handle = TXP_FILTER_HANDLE, .priority = TXP_FILTER_PRIO);

			e = bpf_tc_detach(&hook, &o);
			e = e == -ENOENT ? 0 : e;
			if (say) {
				printf("%s: txpace's egress filter removed (clsact was there before: kept)\n",
				       ifname);
			}
		} else if (sscanf(s, "pin %255s", arg) == 1) {
			rm_pins(arg);
			if (say) {
				printf("%s: pinned maps under %s removed\n", ifname, arg);
			}
		} else if (sscanf(s, "mount %255s", arg) == 1) {
			umount2(arg, MNT_DETACH);
		} else if (!strncmp(s, "powersave ", 10) && present) {
			int old = atoi(s + 10);

			e = wifi_set_powersave(ifindex, old);
			if (say) {
				printf("%s: Wi-Fi power save back %s\n", ifname, old ? "on" : "off");
			}
		}
		if (e && !rc) {
			rc = e;
			pr_warn("%s: restoring '%s' failed: %s", ifname, s, strerror(-e));
		}
	}
	nl_close(nl);
	if (!rc) {
		unlink(path);
	}
out:
	for (size_t i = 0; i < n; i++) {
		free(lines[i]);
	}
	free(lines);
	return rc;
}

static int pid_of_state(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	int pid = 0;

	while (f && fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, "pid %d", &pid) == 1) {
			break;
		}
	}
	if (f) {
		fclose(f);
	}
	return pid;
}

/* Take the interface's lock; an earlier txpace's leftovers are restored first. */
/*
 * Open and flock @path. Whoever holds the lock may unlink the file (a txpace that restored
 * everything, cleanup): a process that opened it just before then holds a lock on a file no
 * longer at the path, while the next one creates a new file there. So after locking, check the
 * locked file is the one at the path, and start over if not.
 * @return the locked descriptor, -EBUSY when someone holds it, or -errno
 */
static int lock_file(const char *path)
{
	for (int tries = 0; tries < 100; tries++) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			return -EBUSY;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev) {
			return fd;
		}
		close(fd);
	}
	return -EAGAIN;
}

static int lock_iface(struct kpace *k, char *err, size_t errlen)
{
	char lock_path[160];

	mkdir(KPACE_STATE_DIR, 0755);
	snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", KPACE_STATE_DIR, k->key);
	snprintf(k->state_path, sizeof(k->state_path), "%s/%s.state", KPACE_STATE_DIR, k->key);
	k->lock_fd = lock_file(lock_path);
	if (k->lock_fd == -EBUSY) {
		k->lock_fd = -1;
		return fail(err, errlen, -EBUSY, "%s is in use by another txpace (pid %d): one "
			    "kernel-paced stream per interface; stop it or use --backend rt",
			    k->ifname, pid_of_state(k->state_path));
	}
	if (k->lock_fd < 0) {
		int rc = k->lock_fd;

		k->lock_fd = -1;
		return fail(err, errlen, rc, "cannot lock %s: %s", lock_path, strerror(-rc));
	}
	if (access(k->state_path, F_OK) == 0) {
		pr_warn("%s: restoring what an earlier txpace (pid %d) left changed", k->ifname,
			pid_of_state(k->state_path));
		int rc = restore(k->state_path, 0);

		if (rc) {
			return fail(err, errlen, rc, "%s: cannot restore the earlier state in %s: %s",
				    k->ifname, k->state_path, strerror(-rc));
		}
	}
	k->state_fd = open(k->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (k->state_fd < 0) {
		return fail(err, errlen, -errno, "cannot create %s: %s", k->state_path,
			    strerror(errno));
	}
	JOURNAL_OR_FAIL(k, err, errlen, "txpace-state 1");
	JOURNAL_OR_FAIL(k, err, errlen, "pid %d", (int)getpid());
	JOURNAL_OR_FAIL(k, err, errlen, "netns %llu", (unsigned long long)netns_ino("/proc/self/ns/net"));
	JOURNAL_OR_FAIL(k, err, errlen, "ifindex %d %s", k->ifindex, k->ifname);
	return 0;
}

/* ---- qdiscs ---- */

static uint32_t fq_flow_limit(const struct kpace_cfg *c)
{
	/* every packet handed over ahead of its time waits in the flow: twice that, at least 100 */
	uint64_t n = (uint64_t)(2 * c->lead_ns / c->ptime_ns) + 16;

	return n < 100 ? 100 : n > 100000 ? 100000 : (uint32_t)n;
}

static int install_root(struct kpace *k, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	struct save_ctx sc = { NULL, "" };
	int rc;

	/* first look: a tree with hand-made classes is not replaced (it could not be restored) */
	rc = nl_qdisc_list(k->nl, k->ifindex, save_qdisc, &sc);
	if (!rc && sc.classful[0]) {
		return fail(err, errlen, -EBUSY, "%s has a configured %s qdisc with classes, which txpace "
			    "could not restore exactly: remove it first, or use --backend rt", k->ifname,
			    sc.classful);
	}
	/*
	 * The tree as it was before txpace, once: a re-attach (someone deleted our fq) must not
	 * snapshot our own leftovers or add a second copy to re-create.
	 */
	if (!k->root_saved) {
		sc.k = k;
		rc = rc ? rc : nl_qdisc_list(k->nl, k->ifindex, save_qdisc, &sc);
		if (rc) {
			return fail(err, errlen, rc, "%s: cannot save its qdiscs in %s: %s", k->ifname,
				    k->state_path, strerror(-rc));
		}
		JOURNAL_OR_FAIL(k, err, errlen, "did root");
		k->root_saved = 1;
	}
	if (c->qdisc == KPACE_QDISC_FQ) {
		struct nl_fq fq = {
			.flow_limit = fq_flow_limit(c),
			.horizon_us = c->fq_horizon_us,
			.timer_slack_ns = 1000,
		};

		if (k->tx_queues > 1) {
			rc = nl_qdisc_mq(k->nl, k->ifindex, TXP_HANDLE);
			for (unsigned q = 0; !rc && q < k->tx_queues; q++) {
				rc = nl_qdisc_fq(k->nl, k->ifindex, TXP_HANDLE | (q + 1), 0, &fq);
			}
		} else {
			rc = nl_qdisc_fq(k->nl, k->ifindex, TC_H_ROOT, TXP_HANDLE, &fq);
		}
		if (rc == -ENOENT || rc == -EOPNOTSUPP) {
			return fail(err, errlen, rc, "%s: this kernel has no fq qdisc (CONFIG_NET_SCH_FQ; "
				    "modprobe sch_fq): the edt backend needs it, use --backend rt",
				    k->ifname);
		}
		if (rc) {
			return fail(err, errlen, rc, "%s: cannot install fq: %s", k->ifname,
				    nl_strerror(k->nl, rc));
		}
		snprintf(k->desc, sizeof(k->desc), "%s fq (flow_limit %u, horizon %.3f s, "
			 "timer_slack 1 us)", k->tx_queues > 1 ? "mq +" : "root", fq.flow_limit,
			 (double)c->fq_horizon_us / 1e6);
		return 0;
	}
	/* etf: NIC launch time (offload) where the driver has it, else software etf */
	int offload = 1;
	uint32_t parent = TC_H_ROOT;

	if (k->tx_queues > 1) {
		rc = nl_qdisc_mqprio(k->nl, k->ifindex, TXP_HANDLE, k->tx_queues, ETF_PRIO);
		if (rc) {
			return fail(err, errlen, rc, "%s: cannot install mqprio for etf: %s", k->ifname,
				    nl_strerror(k->nl, rc));
		}
		parent = TXP_HANDLE | k->tx_queues;	/* the last queue's class */
	}
	rc = nl_qdisc_etf(k->nl, k->ifindex, parent, parent == TC_H_ROOT ? TXP_HANDLE : 0,
			  c->etf_delta_ns, 1);
	if (rc == -EOPNOTSUPP) {
		offload = 0;
		rc = nl_qdisc_etf(k->nl, k->ifindex, parent, parent == TC_H_ROOT ? TXP_HANDLE : 0,
				  c->etf_delta_ns, 0);
	}
	if (rc == -ENOENT) {
		return fail(err, errlen, rc, "%s: this kernel has no etf qdisc (CONFIG_NET_SCH_ETF; "
			    "modprobe sch_etf): the etf backend needs it", k->ifname);
	}
	if (rc) {
		return fail(err, errlen, rc, "%s: cannot install etf: %s", k->ifname,
			    nl_strerror(k->nl, rc));
	}
	/*
	 * etf dequeues at txtime - delta. With offload the NIC then waits for txtime; in software
	 * the packet leaves at dequeue, so txpace asks for launch + delta (and etf drops it when
	 * its wake-up is more than delta late).
	 */
	k->txtime_offset = offload ? 0 : c->etf_delta_ns;
	snprintf(k->desc, sizeof(k->desc), "%setf CLOCK_TAI delta %d us, %s", parent == TC_H_ROOT ?
		 "root " : "mqprio + ", c->etf_delta_ns / 1000,
		 offload ? "offload (NIC launch time)" : "software (no launch-time offload on this NIC)");
	return 0;
}

/* ---- BPF ---- */

static int ensure_fs(struct kpace *k, const char *path, const char *type, long magic,
		     int record)
{
	struct statfs sfs;

	if (statfs(path, &sfs) == 0 && (long)sfs.f_type == magic) {
		return 0;
	}
	if (record) {
		int rc = journal(k, "did mount %s", path);

		if (rc) {
			return rc;
		}
	}
	if (mount(type, path, type, 0, NULL)) {
		return -errno;
	}
	return 1;
}

static int flow_key_of(int fd, struct txp_flow_key *key)
{
	struct sockaddr_storage a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);

	memset(key, 0, sizeof(*key));
	if (getsockname(fd, (struct sockaddr *)&a, &la) || getpeername(fd, (struct sockaddr *)&b, &lb)) {
		return -errno;
	}
	if (a.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&a, *d = (const void *)&b;

		key->saddr[10] = key->saddr[11] = key->daddr[10] = key->daddr[11] = 0xff;
		memcpy(&key->saddr[12], &s->sin_addr, 4);
		memcpy(&key->daddr[12], &d->sin_addr, 4);
		key->sport = s->sin_port;
		key->dport = d->sin_port;
	} else {
		const struct sockaddr_in6 *s = (const void *)&a, *d = (const void *)&b;

		memcpy(key->saddr, &s->sin6_addr, 16);
		memcpy(key->daddr, &d->sin6_addr, 16);
		key->sport = s->sin6_port;
		key->dport = d->sin6_port;
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct kpace *k = ctx;
	const struct txp_event *e = data;

	if (size < sizeof(*e)) {
		return 0;
	}
	k->nevents++;
	if (!(e->flags & TXP_SLOT_STAMPED)) {
		k->nevents_unstamped++;
	}
	if (e->xmit_ns) {
		snprintf(k->event_msg, sizeof(k->event_msg), "watchdog: packet seq %u reached the "
			 "driver %.3f ms after its launch time", e->seq,
			 (double)(e->xmit_ns - e->launch_ns) / 1e6);
	} else {
		snprintf(k->event_msg, sizeof(k->event_msg), "watchdog: packet seq %u had not reached "
			 "the driver %.3f ms after its launch time%s", e->seq,
			 (double)(e->fired_ns - e->launch_ns) / 1e6,
			 e->flags & TXP_SLOT_STAMPED ? "" : " (never reached the egress program)");
	}
	return 0;
}

static int attach_filter(struct kpace *k, char *err, size_t errlen);

/*
 * The tracepoint program reads net:net_dev_start_xmit as struct txp_tp_start_xmit lays it out
 * (a 64-bit kernel's). Check that against tracefs's format file before attaching: a kernel that
 * records it differently (a 32-bit kernel's 4-byte skbaddr, a changed event) would otherwise be
 * read wrong in silence. @return 0, or -EPROTO with @why naming the first field that differs
 */
static int tp_format_check(char *why, size_t len)
{
	static const struct {
		const char *name;
		unsigned off, size;
	} want[] = {
		{ "skbaddr", offsetof(struct txp_tp_start_xmit, skbaddr), 8 },
		{ "protocol", offsetof(struct txp_tp_start_xmit, protocol), 2 },
		{ "network_offset", offsetof(struct txp_tp_start_xmit, network_offset), 4 },
		{ "transport_offset_valid", offsetof(struct txp_tp_start_xmit, transport_offset_valid), 1 },
		{ "transport_offset", offsetof(struct txp_tp_start_xmit, transport_offset), 4 },
	};
	/* (TXPACE_TP_FORMAT: another format file, for the tests of a kernel that differs) */
	const char *path = getenv("TXPACE_TP_FORMAT");
	FILE *f = fopen(path ? path : "/sys/kernel/tracing/events/net/net_dev_start_xmit/format", "r");
	char line[512];
	unsigned seen = 0;

	if (!f) {
		snprintf(why, len, "no format file for net:net_dev_start_xmit in tracefs: %s",
			 strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			char pat[64];
			const char *p;
			unsigned off, size;

			snprintf(pat, sizeof(pat), " %s;", want[i].name);
			p = strstr(line, pat);
			if (!p || sscanf(strstr(p, "offset:") ? strstr(p, "offset:") : "",
					 "offset:%u; size:%u;", &off, &size) != 2) {
				continue;
			}
			if (off != want[i].off || size != want[i].size) {
				snprintf(why, len, "net:net_dev_start_xmit records %s at offset %u (%u "
					 "bytes) here, txpace reads it at %u (%u bytes)", want[i].name, off,
					 size, want[i].off, want[i].size);
				fclose(f);
				return -EPROTO;
			}
			seen |= 1u << i;
		}
	}
	fclose(f);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!(seen & (1u << i))) {
			snprintf(why, len, "net:net_dev_start_xmit has no field %s here", want[i].name);
			return -EPROTO;
		}
	}
	return 0;
}

/*
 * Where the IP header starts at tc egress on a link of @type (ARPHRD_*): after the Ethernet
 * header on Ethernet-like links (loopback too), at once on L3 links (tun, WireGuard, ppp, ipip,
 * gre, sit: no link-layer header). @return the offset, or -1 for a link txpace cannot parse.
 */
static int link_l3_off(unsigned type)
{
	switch (type) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return ETH_HLEN;
	case ARPHRD_NONE:	/* tun (IFF_TUN), WireGuard */
	case ARPHRD_PPP:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:	/* ipip */
	case ARPHRD_TUNNEL6:	/* ip6tnl */
	case ARPHRD_IPGRE:
	case ARPHRD_SIT:
		return 0;
	default:
		return -1;
	}
}

/*
 * Where the kernel has BTF: the tp_btf hand-off program (CO-RE reads of skb->head and the
 * header offsets, nothing found by guessing), on tc_egress's maps. TXPACE_NO_BTF=1 skips it
 * (the tests of the classic path, which is what the Pi runs). @return 0, or -errno to fall back
 */
static int attach_btf_xmit(struct kpace *k)
{
	struct tc_egress *s = k->skel;
	struct xmit_btf *b;
	const char *no = getenv("TXPACE_NO_BTF");

	if ((no && *no && strcmp(no, "0")) || access("/sys/kernel/btf/vmlinux", R_OK)) {
		return -ENOENT;
	}
	b = xmit_btf__open();
	if (!b) {
		return -errno;
	}
	if (bpf_map__reuse_fd(b->maps.sched_ring, bpf_map__fd(s->maps.sched_ring)) ||
	    bpf_map__reuse_fd(b->maps.flows, bpf_map__fd(s->maps.flows)) ||
	    bpf_map__reuse_fd(b->maps.wstats, bpf_map__fd(s->maps.wstats)) ||
	    bpf_map__reuse_fd(b->maps.conf, bpf_map__fd(s->maps.conf)) || xmit_btf__load(b)) {
		int rc = -errno;

		pr_debug("the tp_btf hand-off program does not load here (%s): the classic "
			 "tracepoint instead", strerror(-rc));
		xmit_btf__destroy(b);
		return rc ? rc : -EINVAL;
	}
	k->tp_link = bpf_program__attach(b->progs.txp_xmit_btf);
	if (!k->tp_link) {
		int rc = -errno;

		xmit_btf__destroy(b);
		return rc;
	}
	k->btf_skel = b;
	return 0;
}

static int load_bpf(struct kpace *k, int fd, char *err, size_t errlen)
{
	const struct kpace_cfg *c = &k->cfg;
	struct tc_egress *s;
	int rc;

	s = tc_egress__open();
	if (!s) {
		return fail(err, errlen, -errno, "cannot open the BPF object: %s", strerror(errno));
	}
	k->skel = s;
	if (!c->watch) {
		bpf_program__set_autoload(s->progs.txp_egress_watch, false);
		bpf_program__set_autoload(s->progs.txp_xmit, false);
		bpf_map__set_autocreate(s->maps.watch, false);
	}
	rc = tc_egress__load(s);
	if (rc) {
		return fail(err, errlen, rc, "cannot load txpace's BPF programs: %s%s", strerror(-rc),
			    c->watch ? " (the watchdog needs bpf_timer, kernel >= 5.15)" : "");
	}
	k->flows_fd = bpf_map__fd(s->maps.flows);
	k->wstats_fd = bpf_map__fd(s->maps.wstats);
	k->ring = mmap(NULL, sizeof(struct txp_slot) * TXP_RING_SLOTS, PROT_READ | PROT_WRITE,
		       MAP_SHARED, bpf_map__fd(s->maps.sched_ring), 0);
	if (k->ring == MAP_FAILED) {
		k->ring = NULL;
		return fail(err, errlen, -errno, "cannot mmap the schedule ring: %s", strerror(errno));
	}
	rc = flow_key_of(fd, &k->flow_key);
	if (rc) {
		return fail(err, errlen, rc, "the socket has no addresses: %s", strerror(-rc));
	}
	struct txp_flow flow = { 0 };
	struct txp_conf conf = { .grace_ns = (uint64_t)c->grace_ns, .cal_sport = k->flow_key.sport,
				 .cal_dport = k->flow_key.dport, .l3_off = k->l3_off };
	uint32_t zero = 0;

	if (bpf_map_update_elem(k->flows_fd, &k->flow_key, &flow, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.conf), &zero, &conf, BPF_ANY)) {
		return fail(err, errlen, -errno, "cannot register the flow: %s", strerror(errno));
	}
	/* pinned with BTF, so `bpftool map dump pinned` prints field names */
	rc = ensure_fs(k, "/sys/fs/bpf", "bpf", BPF_FS_MAGIC, 1);
	if (rc < 0) {
		return fail(err, errlen, rc, "cannot mount bpffs on /sys/fs/bpf: %s", strerror(-rc));
	}
	snprintf(k->pin_dir, sizeof(k->pin_dir), "%s/%s", KPACE_PIN_DIR, k->key);
	JOURNAL_OR_FAIL(k, err, errlen, "did pin %s", k->pin_dir);
	rm_pins(k->pin_dir);	/* a dead txpace's pins, if any (rm_pins also drops an empty parent) */
	mkdir(KPACE_PIN_DIR, 0755);
	if (mkdir(k->pin_dir, 0755) && errno != EEXIST) {
		return fail(err, errlen, -errno, "cannot create %s: %s", k->pin_dir, strerror(errno));
	}
	struct bpf_map *m;

	bpf_object__for_each_map(m, s->obj) {
		char p[256];

		if (bpf_map__fd(m) < 0 || strchr(bpf_map__name(m), '.')) {
			continue;	/* not created, or .rodata/.bss */
		}
		snprintf(p, sizeof(p), "%s/%s", k->pin_dir, bpf_map__name(m));
		rc = bpf_map__pin(m, p);
		if (rc) {
			return fail(err, errlen, rc, "cannot pin %s: %s", p, strerror(-rc));
		}
	}
	char why[160];
	int timer = c->watch && kpace_probe_timer_abs(why, sizeof(why));

	if (c->watch && !timer) {
		pr_warn("%s; recording driver hand-off times only", why);
	}
	k->timer = timer;
	struct bpf_program *prog = timer ? s->progs.txp_egress_watch : s->progs.txp_egress;
	char pp[256];

	snprintf(pp, sizeof(pp), "%s/%s", k->pin_dir, bpf_program__name(prog));
	bpf_program__pin(prog, pp);
	if (c->watch && attach_btf_xmit(k) == 0) {
		k->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_event, k, NULL);
	} else if (c->watch) {
		/* libbpf finds the tracepoint's id in tracefs: mount it for the attach only */
		int mounted = ensure_fs(k, "/sys/kernel/tracing", "tracefs", TRACEFS_MAGIC, 0);
		char fwhy[200] = "";
		int frc = tp_format_check(fwhy, sizeof(fwhy));

		rc = 0;
		if (!frc) {
			k->tp_link = bpf_program__attach_tracepoint(s->progs.txp_xmit, "net",
								     "net_dev_start_xmit");
			rc = k->tp_link ? 0 : -errno;
		}
		if (mounted == 1) {
			umount2("/sys/kernel/tracing", MNT_DETACH);
		}
		if (frc) {
			return fail(err, errlen, frc, "cannot --watch: %s", fwhy);
		}
		if (rc) {
			return fail(err, errlen, rc, "cannot attach to the net:net_dev_start_xmit "
				    "tracepoint: %s", strerror(-rc));
		}
		k->rb = ring_buffer__new(bpf_map__fd(s->maps.events), on_event, k, NULL);
	}
	k->prog_fd = bpf_program__fd(prog);
	return attach_filter(k, err, errlen);
}

/* clsact (journaled when txpace creates it) + txpace's cls_bpf filter on egress. */
static int attach_filter(struct kpace *k, char *err, size_t errlen)
{
	int existed = has_clsact(k->nl, k->ifindex), rc;

	/* clsact: ours to remove if it was not there; else only our filter is */
	/* (1: journaled "filter", 2: "clsact"; a clsact txpace re-adds later is journaled then) */
	if (!k->filter_saved || (k->filter_saved == 1 && !existed)) {
		JOURNAL_OR_FAIL(k, err, errlen, "%s", existed ? "did filter" : "did clsact");
		k->filter_saved = existed ? 1 : 2;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = k->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = k->prog_fd, .handle = TXP_FILTER_HANDLE,
		    .priority = TXP_FILTER_PRIO, .flags = BPF_TC_F_REPLACE);
	if (!existed) {
		rc = bpf_tc_hook_create(&hook);
		if (rc && rc != -EEXIST) {
			return fail(err, errlen, rc, "%s: cannot add clsact: %s", k->ifname,
				    strerror(-rc));
		}
	}
	rc = bpf_tc_attach(&hook, &o);
	if (rc) {
		return fail(err, errlen, rc, "%s: cannot attach the egress program (cls_bpf): %s",
			    k->ifname, strerror(-rc));
	}
	return 0;
}

int kpace_probe_timer_abs(char *why, size_t len)
{
	struct tc_egress *s;
	uint8_t pkt[14 + 20 + 8 + 12] = { 0 };
	uint32_t zero = 0, idx;
	struct txp_flow_key key = { 0 };
	struct txp_flow flow = { 0 };
	struct txp_slot slot = { 0 };
	struct txp_wstats st;
	int ok = 0;

	libbpf_set_print(log_libbpf);
	s = tc_egress__open_and_load();
	if (!s) {
		snprintf(why, len, "no bpf_timer here (kernel < 5.15): %s", strerror(errno));
		return 0;
	}
	/* a canned IPv4 UDP/RTP packet of a registered flow whose slot is 1 s ahead */
	pkt[12] = 0x08;
	pkt[14] = 0x45;
	pkt[14 + 9] = IPPROTO_UDP;
	memcpy(&pkt[14 + 12], "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	pkt[34] = 0x13, pkt[35] = 0x88, pkt[36] = 0x13, pkt[37] = 0x89;
	pkt[42] = 0x80, pkt[44] = 0x00, pkt[45] = 0x07;
	key.saddr[10] = key.saddr[11] = key.daddr[10] = key.daddr[11] = 0xff;
	memcpy(&key.saddr[12], &pkt[26], 4);
	memcpy(&key.daddr[12], &pkt[30], 4);
	memcpy(&key.sport, &pkt[34], 2);
	memcpy(&key.dport, &pkt[36], 2);
	idx = 7;
	slot.seq = 7;
	slot.flags = TXP_SLOT_VALID;
	slot.launch_ns = (uint64_t)mono_ns() + NSEC_PER_SEC;
	struct txp_conf conf = { .l3_off = ETH_HLEN };	/* the canned packet is an Ethernet frame */

	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	if (!bpf_map_update_elem(bpf_map__fd(s->maps.conf), &zero, &conf, BPF_ANY) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.flows), &key, &flow, BPF_ANY) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.sched_ring), &idx, &slot, BPF_ANY) &&
	    !bpf_prog_test_run_opts(bpf_program__fd(s->progs.txp_egress_watch), &t) &&
	    !bpf_map_lookup_elem(bpf_map__fd(s->maps.wstats), &zero, &st)) {
		ok = st.armed == 1;
	}
	snprintf(why, len, ok ? "bpf_timer started with BPF_F_TIMER_ABS (deadline watchdog)"
			      : "bpf_timer refused BPF_F_TIMER_ABS (kernel < 6.4): no deadline watchdog");
	tc_egress__destroy(s);
	return ok;
}

/* ---- the handle ---- */

/* The queues in use (sysfs queues/tx-N), not the allocated ones netlink reports. */
static unsigned real_tx_queues(const char *ifname, unsigned allocated)
{
	char path[128];
	unsigned n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d) {
		return allocated ? allocated : 1;
	}
	while ((e = readdir(d))) {
		n += !strncmp(e->d_name, "tx-", 3);
	}
	closedir(d);
	return n ? n : 1;
}

struct kpace *kpace_open(const struct kpace_cfg *cfg, int fd, char *err, size_t errlen)
{
	struct kpace *k = calloc(1, sizeof(*k));
	struct nl_link link;
	int rc;

	if (!k) {
		fail(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	k->cfg = *cfg;
	k->lock_fd = k->state_fd = -1;
	if (!k->cfg.fq_horizon_us) {
		/* far above the lead (a late hand-off is not a drop), far below fq's 10 s */
		int64_t h = 4 * k->cfg.lead_ns > NSEC_PER_SEC ? 4 * k->cfg.lead_ns : NSEC_PER_SEC;

		k->cfg.fq_horizon_us = (uint32_t)(h / 1000);
	}
	k->nl = nl_open();
	if (!k->nl) {
		fail(err, errlen, -errno, "netlink: %s", strerror(errno));
		goto bad;
	}
	if (cfg->ifname) {
		k->ifindex = (int)if_nametoindex(cfg->ifname);
		if (!k->ifindex) {
			fail(err, errlen, -ENODEV, "no interface %s", cfg->ifname);
			goto bad;
		}
	} else {
		struct sockaddr_storage d;
		socklen_t dl = sizeof(d);

		if (getpeername(fd, (struct sockaddr *)&d, &dl)) {
			fail(err, errlen, -errno, "the socket is not connected");
			goto bad;
		}
		rc = d.ss_family == AF_INET
			     ? nl_route_oif(k->nl, AF_INET, &((struct sockaddr_in *)&d)->sin_addr)
			     : nl_route_oif(k->nl, AF_INET6, &((struct sockaddr_in6 *)&d)->sin6_addr);
		if (rc < 0) {
			fail(err, errlen, rc, "no route to the destination: %s", strerror(-rc));
			goto bad;
		}
		k->ifindex = rc;
	}
	rc = nl_link_get(k->nl, k->ifindex, &link);
	if (rc) {
		fail(err, errlen, rc, "interface %d: %s", k->ifindex, strerror(-rc));
		goto bad;
	}
	snprintf(k->ifname, sizeof(k->ifname), "%s", link.name);
	k->tx_queues = real_tx_queues(k->ifname, link.tx_queues);
	if (k->ifindex == 1) {
		k->tx_queues = 1;	/* loopback */
	}
	if (!(link.flags & IFF_UP)) {
		fail(err, errlen, -ENETDOWN, "%s is down", k->ifname);
		goto bad;
	}
	rc = link_l3_off(link.type);
	if (rc < 0 && cfg->bpf_stamp) {
		fail(err, errlen, -EPROTONOSUPPORT, "%s is a link of type %u, whose packets the egress "
		     "program cannot parse: use --stamp txtime or --backend rt", k->ifname, link.type);
		goto bad;
	}
	k->l3_off = rc < 0 ? 0 : (unsigned)rc;
	state_key(k->ifname, k->key, sizeof(k->key));
	rc = lock_iface(k, err, errlen);
	if (rc) {
		goto bad;
	}
	/* socket options first: nothing on the interface changes if the socket refuses */
	if (cfg->qdisc == KPACE_QDISC_ETF || (cfg->qdisc == KPACE_QDISC_FQ && !cfg->bpf_stamp)) {
		struct sock_txtime t = { .clockid = cfg->qdisc == KPACE_QDISC_ETF ? CLOCK_TAI
										   : CLOCK_MONOTONIC,
					 .flags = SOF_TXTIME_REPORT_ERRORS };
		int prio = ETF_PRIO;

		if (setsockopt(fd, SOL_SOCKET, SO_TXTIME, &t, sizeof(t))) {
			fail(err, errlen, -errno, "SO_TXTIME refused: %s", strerror(errno));
			goto bad;
		}
		if (cfg->qdisc == KPACE_QDISC_ETF && k->tx_queues > 1 &&
		    setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio))) {
			fail(err, errlen, -errno, "SO_PRIORITY refused: %s", strerror(errno));
			goto bad;
		}
	}
	if (cfg->qdisc != KPACE_QDISC_KEEP) {
		rc = install_root(k, err, errlen);
		if (rc) {
			goto bad;
		}
	} else {
		snprintf(k->desc, sizeof(k->desc), "root qdisc untouched");
	}
	if (cfg->bpf_stamp || cfg->watch) {
		rc = load_bpf(k, fd, err, errlen);
		if (rc) {
			goto bad;
		}
		size_t l = strlen(k->desc);

		snprintf(k->desc + l, sizeof(k->desc) - l, ", %s on clsact egress%s%s, maps in %s",
			 k->timer ? "txp_egress_watch" : "txp_egress",
			 k->timer ? " + deadline watchdog + net_dev_start_xmit"
				  : cfg->watch ? " + net_dev_start_xmit (no watchdog)" : "",
			 !cfg->watch ? "" : k->btf_skel ? " (tp_btf)" : " (tracepoint)", k->pin_dir);
	} else {
		size_t l = strlen(k->desc);

		snprintf(k->desc + l, sizeof(k->desc) - l, ", SO_TXTIME %s",
			 cfg->qdisc == KPACE_QDISC_ETF ? "CLOCK_TAI" : "CLOCK_MONOTONIC");
	}
	if (cfg->powersave_off) {
		int old = wifi_get_powersave(k->ifindex);

		if (old == 1 && (rc = journal(k, "did powersave %d", old))) {
			fail(err, errlen, rc, "cannot write %s (%s): nothing more is changed",
			     k->state_path, strerror(-rc));
			goto bad;
		}
		if (old == 1) {
			rc = wifi_set_powersave(k->ifindex, 0);
			if (rc) {
				pr_warn("%s: cannot turn Wi-Fi power save off: %s", k->ifname,
					strerror(-rc));
			} else {
				size_t l = strlen(k->desc);

				snprintf(k->desc + l, sizeof(k->desc) - l, ", Wi-Fi power save off");
			}
		}
	}
	k->events_nl = nl_open_groups(RTMGRP_LINK);
	return k;
bad:
	kpace_close(k);
	return NULL;
}

void kpace_close(struct kpace *k)
{
	if (!k) {
		return;
	}
	ring_buffer__free(k->rb);
	bpf_link__destroy(k->tp_link);
	xmit_btf__destroy(k->btf_skel);
	if (k->ring) {
		munmap(k->ring, sizeof(struct txp_slot) * TXP_RING_SLOTS);
	}
	tc_egress__destroy(k->skel);
	if (k->state_fd >= 0) {
		close(k->state_fd);
		int rc = restore(k->state_path, 0);

		if (rc) {
			pr_err("%s: could not restore everything (%s): the state is kept in %s; "
			       "`txpace cleanup %s` retries", k->ifname, strerror(-rc), k->state_path,
			       k->ifname);
		}
	}
	if (k->lock_fd >= 0) {
		if (access(k->state_path, F_OK) != 0) {
			char lock_path[160];

			/* restored: nothing of ours is left (unlinked under the lock: see lock_file) */
			snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", KPACE_STATE_DIR, k->key);
			unlink(lock_path);
		}
		close(k->lock_fd);
	}
	nl_close(k->nl);
	nl_close(k->events_nl);
	free(k);
}

int64_t kpace_txtime_offset(const struct kpace *k)
{
	return k->txtime_offset;
}

const char *kpace_ifname(const struct kpace *k)
{
	return k->ifname;
}

const char *kpace_describe(const struct kpace *k)
{
	return k->desc;
}

void kpace_publish(struct kpace *k, uint16_t seq, uint64_t launch_mono)
{
	struct txp_slot *s;

	if (!k->ring) {
		return;	/* SO_TXTIME or etf without --watch: no schedule ring */
	}
	s = &k->ring[seq % TXP_RING_SLOTS];
	/* invalidate, fill, then publish: the egress program checks flags and seq together */
	__atomic_store_n(&s->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->launch_ns = launch_mono;
	s->egress_ns = s->txtime_ns = s->xmit_ns = 0;
	s->seq = seq;
	__atomic_store_n(&s->flags, TXP_SLOT_VALID, __ATOMIC_RELEASE);
	k->last_published = launch_mono;
}

void kpace_settle(struct kpace *k)
{
	if (k->timer && k->last_published) {
		struct timespec ts = ns_to_ts((int64_t)k->last_published + k->cfg.grace_ns +
					      2 * NSEC_PER_MSEC);

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
		}
	}
	if (k->rb) {
		ring_buffer__consume(k->rb);
	}
}

int kpace_slot(const struct kpace *k, uint16_t seq, struct txp_slot *out)
{
	if (!k->ring) {
		return -ENOENT;
	}
	*out = k->ring[seq % TXP_RING_SLOTS];
	return out->seq == seq && (out->flags & TXP_SLOT_VALID) ? 0 : -ENOENT;
}

int kpace_flow(const struct kpace *k, struct txp_flow *out)
{
	if (!k->skel) {
		return -ENOENT;
	}
	return bpf_map_lookup_elem(k->flows_fd, &k->flow_key, out) ? -errno : 0;
}

int kpace_wstats(const struct kpace *k, struct txp_wstats *out)
{
	uint32_t zero = 0;

	if (!k->skel || !k->cfg.watch) {
		return -ENOENT;
	}
	return bpf_map_lookup_elem(k->wstats_fd, &zero, out) ? -errno : 0;
}

unsigned kpace_recalibrations(const struct kpace *k)
{
	struct txp_conf c;
	uint32_t zero = 0;

	if (!k->skel || bpf_map_lookup_elem(bpf_map__fd(k->skel->maps.conf), &zero, &c)) {
		return 0;
	}
	return c.recalibrations;
}

uint64_t kpace_events(const struct kpace *k)
{
	return k->nevents;
}

uint64_t kpace_events_unstamped(const struct kpace *k)
{
	return k->nevents_unstamped;
}

/* Are our root qdisc and clsact still there? */
static int ours_intact(struct kpace *k)
{
	struct intact in = { 0 };

	nl_qdisc_list(k->nl, k->ifindex, check_qdisc, &in);
	return (k->cfg.qdisc == KPACE_QDISC_KEEP || in.root) && (!k->skel || in.clsact);
}

/*
 * The tracepoint's skb->data offset was found from one packet: a wrong find (another pointer
 * that happened to equal it) would leave every hand-off unrecorded in silence. So once a
 * second: when the egress program stamped a few hundred of the flow's packets and the
 * tracepoint matched none of them, the offset is reset to be found again, and counted.
 */
static void verify_data_off(struct kpace *k)
{
	struct txp_flow f;
	struct txp_wstats w;
	struct txp_conf c;
	uint32_t zero = 0;
	int conf_fd = bpf_map__fd(k->skel->maps.conf);

	if (kpace_flow(k, &f) || kpace_wstats(k, &w) ||
	    bpf_map_lookup_elem(conf_fd, &zero, &c)) {
		return;
	}
	if (c.skb_data_off && f.stamped - k->verify_stamped >= 256 && w.xmit_seen == k->verify_seen) {
		c.skb_data_off = 0;
		c.cal_data = 0;
		c.recalibrations++;
		bpf_map_update_elem(conf_fd, &zero, &c, BPF_ANY);
		pr_warn("%s: the driver hand-off tracepoint matched none of the last %llu packets: "
			"finding skb->data again", k->ifname,
			(unsigned long long)(f.stamped - k->verify_stamped));
	}
	k->verify_stamped = f.stamped;
	k->verify_seen = w.xmit_seen;
}

/* Someone (or a driver reset) removed our setup: put it back. @return 0 or -errno */
static int reattach(struct kpace *k)
{
	struct intact in = { 0 };
	char err[256];
	int rc = 0;

	nl_qdisc_list(k->nl, k->ifindex, check_qdisc, &in);
	if (k->cfg.qdisc != KPACE_QDISC_KEEP && !in.root) {
		char desc[sizeof(k->desc)];

		memcpy(desc, k->desc, sizeof(desc));
		rc = install_root(k, err, sizeof(err));
		memcpy(k->desc, desc, sizeof(desc));
	}
	if (!rc && k->skel && !in.clsact) {
		rc = attach_filter(k, err, sizeof(err));
	}
	return rc;
}

int kpace_poll(struct kpace *k, char *msg, size_t len)
{
	struct nl_link_event ev = { .ifindex = k->ifindex };

	msg[0] = 0;
	if (k->rb) {
		uint64_t before = k->nevents;

		ring_buffer__consume(k->rb);
		if (k->nevents != before) {
			snprintf(msg, len, "%s%s", k->event_msg,
				 k->nevents - before > 1 ? " (and more)" : "");
			return 1;
		}
	}
	/* every 2 s: is the setup still there? (a `tc qdisc del`, a driver reset) */
	int64_t now = mono_ns();

	if (k->tp_link && !k->btf_skel && now >= k->next_verify) {
		k->next_verify = now + NSEC_PER_SEC;
		verify_data_off(k);
	}

	if (!k->link_down && now >= k->next_check) {
		k->next_check = now + 2 * NSEC_PER_SEC;
		if (!ours_intact(k)) {
			int rc = reattach(k);

			snprintf(msg, len, rc ? "txpace's qdisc or egress filter was removed from %s and "
				 "could not be put back (%s): packets leave unpaced" :
				 "txpace's qdisc or egress filter was removed from %s: re-attached", k->ifname,
				 strerror(-rc));
			return 1;
		}
	}
	if (!k->events_nl || nl_link_events(k->events_nl, &ev) || !ev.seen) {
		return 0;
	}
	if (ev.deleted) {
		snprintf(msg, len, "%s was removed: packets cannot leave", k->ifname);
		k->link_down = 1;
		return 1;
	}
	if (!ev.up && !k->link_down) {
		k->link_down = 1;
		snprintf(msg, len, "%s went down: packets are dropped until it is back", k->ifname);
		return 1;
	}
	if (ev.up && k->link_down) {
		k->link_down = 0;
		if (ours_intact(k)) {
			snprintf(msg, len, "%s is up again; the pacing setup survived (%s)", k->ifname,
				 k->skel ? "qdisc and egress program in place" : "qdisc in place");
		} else {
			int rc = reattach(k);

			snprintf(msg, len, rc ? "%s is up again but txpace's qdisc or filter is gone and "
				 "could not be put back (%s): packets leave unpaced" :
				 "%s is up again; txpace's qdisc and filter were gone: re-attached",
				 k->ifname, strerror(-rc));
		}
		return 1;
	}
	return 0;
}

int kpace_cleanup(const char *ifname)
{
	DIR *d = opendir(KPACE_STATE_DIR);
	struct dirent *e;
	int restored = 0, err = 0;

	if (!d) {
		return 0;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char key[64], path[300], lock[300];

		if (l <= 6 || strcmp(e->d_name + l - 6, ".state") || l - 6 >= sizeof(key)) {
			continue;
		}
		memcpy(key, e->d_name, l - 6);
		key[l - 6] = 0;
		if (ifname) {
			char want[64];

			state_key(ifname, want, sizeof(want));
			if (strcmp(key, want) && strcmp(key, ifname)) {
				continue;
			}
		}
		snprintf(path, sizeof(path), "%s/%s", KPACE_STATE_DIR, e->d_name);
		snprintf(lock, sizeof(lock), "%s/%s.lock", KPACE_STATE_DIR, key);
		int fd = lock_file(lock);

		if (fd == -EBUSY) {
			printf("%s: txpace pid %d is running on it: left alone\n", key, pid_of_state(path));
			continue;
		}
		int rc = restore(path, 1);

		if (fd >= 0) {
			if (!rc || access(path, F_OK) != 0) {
				unlink(lock);	/* under the lock: see lock_file */
			}
			close(fd);
		}
		if (rc == -EXDEV) {
			continue;
		}
		if (rc) {
			printf("%s: restore failed: %s (state kept in %s)\n", key, strerror(-rc), path);
			err = rc;
			continue;
		}
		printf("%s: restored\n", key);
		restored++;
	}
	closedir(d);
	return err ? err : restored;
}
