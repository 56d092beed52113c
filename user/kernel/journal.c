// SPDX-License-Identifier: GPL-2.0-only
/*
 * The restore journal. The state file is a journal: each change is appended (and synced) before
 * it is made, so a crash at any point leaves a file that says exactly what to undo. Closing and
 * `txpace cleanup` run the same restore. The interface's lock lives here too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "kpace_int.h"
#include "txpace/log.h"
#include "txpace/nl.h"
#include "txpace/wifi.h"

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

int kpace_journal(struct kpace *k, const char *fmt, ...)
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

int kpace_journal_qdisc(struct kpace *k, const struct nlmsghdr *nlh, const struct nl_qdisc *q)
{
	char *hex = malloc((size_t)nlh->nlmsg_len * 2 + 1);
	int rc;

	if (!hex) {
		return -ENOMEM;
	}
	hex_put(hex, nlh, nlh->nlmsg_len);
	/* the whole tree as it is (any size); only configured qdiscs (handle != 0) are re-created */
	rc = kpace_journal(k, "qdisc %s %08x %08x %s", q->kind, q->parent, q->handle, hex);
	free(hex);
	return rc;
}

/* ---- restore ---- */

/* Where restore's lines for the user go (`txpace cleanup`); none when closing. */
struct teller {
	kpace_say_fn *say;
	void *arg;
};

static __attribute__((format(printf, 2, 3))) void tell(const struct teller *t, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int n;

	if (!t) {
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		t->say(t->arg, line);
		free(line);
	}
}

/* A journal as read back: its lines, and the interface and namespace they are about. */
struct journal {
	char **lines;
	size_t n;
	int ifindex;
	uint64_t ns;
	char ifname[IF_NAMESIZE + 1];
};

static void journal_free(struct journal *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->lines[i]);
	}
	free(j->lines);
}

/* Every line, however many and however long (a 300-queue tree, a big qdisc's options). */
static int journal_read(const char *path, struct journal *j)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, bufsz = 0;
	int rc = 0;

	if (!f) {
		return -errno;
	}
	while (getline(&buf, &bufsz, f) >= 0) {
		buf[strcspn(buf, "\n")] = 0;
		if (j->n == cap) {
			char **more = realloc(j->lines, (cap ? cap * 2 : 64) * sizeof(*j->lines));

			if (!more) {
				rc = -ENOMEM;
				break;
			}
			j->lines = more;
			cap = cap ? cap * 2 : 64;
		}
		if (!strncmp(buf, "ifindex ", 8)) {
			sscanf(buf + 8, "%d %16s", &j->ifindex, j->ifname);
		} else if (!strncmp(buf, "netns ", 6)) {
			j->ns = strtoull(buf + 6, NULL, 10);
		}
		j->lines[j->n++] = strdup(buf);
	}
	free(buf);
	fclose(f);
	return rc;
}

/* The journal is another network namespace's. @return -EXDEV while that one exists, else 0 */
static int restore_other_netns(const char *path, const struct journal *j, const struct teller *t)
{
	if (netns_exists(j->ns)) {
		tell(t, "%s: belongs to another network namespace (inode %llu): run `txpace cleanup` "
		     "there", path, (unsigned long long)j->ns);
		return -EXDEV;
	}
	/*
	 * That namespace is gone, and its interface and qdiscs with it; what is left is what lives
	 * outside it: the pinned maps in bpffs (per mount namespace).
	 */
	for (size_t i = j->n; i-- > 0;) {
		char arg[256];

		if (j->lines[i] && sscanf(j->lines[i], "did pin %255s", arg) == 1) {
			kpace_rm_pins(arg);
			tell(t, "%s: its network namespace is gone; pinned maps under %s removed", path,
			     arg);
		} else if (j->lines[i] && sscanf(j->lines[i], "did mount %255s", arg) == 1) {
			umount2(arg, MNT_DETACH);
		}
	}
	unlink(path);
	return 0;
}

/* Delete ours (the kernel puts its default back), then re-create what was configured. */
static int restore_root(struct nl *nl, const struct journal *j)
{
	int e = nl_qdisc_del(nl, j->ifindex, TC_H_ROOT, 0);

	if (e == -ENOENT || e == -EINVAL) {
		e = 0;
	}
	for (size_t i = 0; i < j->n && !e; i++) {
		char kind[32];
		unsigned parent, handle;
		int off = 0;

		if (!j->lines[i] ||
		    sscanf(j->lines[i], "qdisc %31s %x %x %n", kind, &parent, &handle, &off) < 3 ||
		    !off || handle == 0) {
			continue;
		}
		size_t max = strlen(j->lines[i] + off) / 2 + 1;
		uint8_t *msg = malloc(max);

		e = msg ? nl_qdisc_recreate(nl, msg, hex_get(j->lines[i] + off, msg, max)) : -ENOMEM;
		free(msg);
	}
	return e;
}

/* Undo one "did @s" line (interface changes only when it is @present). @return 0 or -errno */
static int undo(struct nl *nl, const struct journal *j, const char *s, int present,
		const struct teller *t)
{
	const char *ifname = j->ifname;
	char arg[256] = "";
	int e = 0;

	if (!strncmp(s, "root", 4) && present) {
		e = restore_root(nl, j);
		tell(t, "%s: root qdisc restored%s", ifname, e ? " (with errors)" : "");
	} else if (!strncmp(s, "clsact", 6) && present) {
		e = nl_qdisc_del(nl, j->ifindex, TC_H_CLSACT, TC_H_MAKE(TC_H_CLSACT, 0));
		e = e == -ENOENT || e == -EINVAL ? 0 : e;
		tell(t, "%s: clsact and txpace's filter removed", ifname);
	} else if (!strncmp(s, "filter", 6) && present) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = j->ifindex, .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = TXP_FILTER_HANDLE, .priority = TXP_FILTER_PRIO);

		e = bpf_tc_detach(&hook, &o);
		e = e == -ENOENT ? 0 : e;
		tell(t, "%s: txpace's egress filter removed (clsact was there before: kept)", ifname);
	} else if (sscanf(s, "pin %255s", arg) == 1) {
		kpace_rm_pins(arg);
		tell(t, "%s: pinned maps under %s removed", ifname, arg);
	} else if (sscanf(s, "mount %255s", arg) == 1) {
		umount2(arg, MNT_DETACH);
	} else if (!strncmp(s, "powersave ", 10) && present) {
		int old = atoi(s + 10);

		e = wifi_set_powersave(j->ifindex, old);
		tell(t, "%s: Wi-Fi power save back %s", ifname, old ? "on" : "off");
	} else if (!strncmp(s, "hwtstamp ", 9) && present) {
		int tx = 0, rx = 0;

		if (sscanf(s + 9, "%d %d", &tx, &rx) == 2) {
			e = kpace_hwtstamp_set(ifname, tx, rx);
		}
		tell(t, "%s: hardware TX timestamping back %s", ifname, tx ? "on" : "off");
	}
	return e;
}

/*
 * Undo a journal, newest change first. @t: where to say what was done (cleanup), NULL: nothing
 * is said. @return 0, or -errno of the first step that failed (the others are still tried)
 */
static int restore(const char *path, const struct teller *t)
{
	struct journal j = { .ifname = "?" };
	struct nl_link l;
	struct nl *nl;
	int present, rc;

	rc = journal_read(path, &j);
	if (rc) {
		goto out;
	}
	if (j.ns && j.ns != netns_ino("/proc/self/ns/net")) {
		rc = restore_other_netns(path, &j, t);
		goto out;
	}
	nl = nl_open();
	if (!nl) {
		rc = -errno;
		goto out;
	}
	present = nl_link_get(nl, j.ifindex, &l) == 0 && !strcmp(l.name, j.ifname);
	if (!present) {
		tell(t, "%s: %s (index %d) is gone: nothing on it to restore", path, j.ifname,
		     j.ifindex);
	}
	for (size_t i = j.n; i-- > 0;) {
		const char *s = j.lines[i];
		int e;

		if (!s || strncmp(s, "did ", 4)) {
			continue;
		}
		e = undo(nl, &j, s + 4, present, t);
		if (e && !rc) {
			rc = e;
			pr_warn("%s: restoring '%s' failed: %s", j.ifname, s + 4, strerror(-e));
		}
	}
	nl_close(nl);
	if (!rc) {
		unlink(path);
	}
out:
	journal_free(&j);
	return rc;
}

/* ---- the lock ---- */

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

/* Take the interface's lock; an earlier txpace's leftovers are restored first. */
int kpace_state_open(struct kpace *k, char *err, size_t errlen)
{
	char lock_path[160];

	state_key(k->ifname, k->key, sizeof(k->key));
	if (k->tag[0]) {
		size_t l = strlen(k->key);

		snprintf(k->key + l, sizeof(k->key) - l, "+%s", k->tag);
	}
	mkdir(KPACE_STATE_DIR, 0755);
	snprintf(lock_path, sizeof(lock_path), "%s/%s.lock", KPACE_STATE_DIR, k->key);
	snprintf(k->state_path, sizeof(k->state_path), "%s/%s.state", KPACE_STATE_DIR, k->key);
	k->lock_fd = lock_file(lock_path);
	if (k->lock_fd == -EBUSY) {
		k->lock_fd = -1;
		return kpace_fail(err, errlen, -EBUSY, "%s is in use by another txpace (pid %d): one "
				  "kernel-paced stream per interface; stop it or use --backend rt",
				  k->ifname, pid_of_state(k->state_path));
	}
	if (k->lock_fd < 0) {
		int rc = k->lock_fd;

		k->lock_fd = -1;
		return kpace_fail(err, errlen, rc, "cannot lock %s: %s%s", lock_path, strerror(-rc),
				  rc == -EACCES ? " (run by a user other than root, txpace needs "
				  KPACE_STATE_DIR " writable: the package makes it root:txpace 2770)"
				  : "");
	}
	if (access(k->state_path, F_OK) == 0) {
		pr_warn("%s: restoring what an earlier txpace (pid %d) left changed", k->ifname,
			pid_of_state(k->state_path));
		int rc = restore(k->state_path, NULL);

		if (rc) {
			return kpace_fail(err, errlen, rc, "%s: cannot restore the earlier state in "
					  "%s: %s", k->ifname, k->state_path, strerror(-rc));
		}
	}
	k->state_fd = open(k->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (k->state_fd < 0) {
		return kpace_fail(err, errlen, -errno, "cannot create %s: %s", k->state_path,
				  strerror(errno));
	}
	JOURNAL_OR_FAIL(k, err, errlen, "txpace-state 1");
	JOURNAL_OR_FAIL(k, err, errlen, "pid %d", (int)getpid());
	JOURNAL_OR_FAIL(k, err, errlen, "netns %llu", (unsigned long long)netns_ino("/proc/self/ns/net"));
	JOURNAL_OR_FAIL(k, err, errlen, "ifindex %d %s", k->ifindex, k->ifname);
	return 0;
}

void kpace_state_close(struct kpace *k)
{
	if (k->state_fd >= 0) {
		close(k->state_fd);
		int rc = restore(k->state_path, NULL);

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
}

/* ---- txpace cleanup ---- */

int kpace_cleanup(const char *ifname, kpace_say_fn *say, void *arg)
{
	const struct teller tl = { say, arg }, *t = say ? &tl : NULL;
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
			size_t wl;

			state_key(ifname, want, sizeof(want));
			wl = strlen(want);
			/* (and its "+ptp": hwts.c) */
			if (strcmp(key, want) && strcmp(key, ifname) &&
			    !(strncmp(key, want, wl) == 0 && key[wl] == '+')) {
				continue;
			}
		}
		snprintf(path, sizeof(path), "%s/%s", KPACE_STATE_DIR, e->d_name);
		snprintf(lock, sizeof(lock), "%s/%s.lock", KPACE_STATE_DIR, key);
		int fd = lock_file(lock);

		if (fd == -EBUSY) {
			tell(t, "%s: txpace pid %d is running on it: left alone", key, pid_of_state(path));
			continue;
		}
		int rc = restore(path, t);

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
			tell(t, "%s: restore failed: %s (state kept in %s)", key, strerror(-rc), path);
			err = rc;
			continue;
		}
		tell(t, "%s: restored", key);
		restored++;
	}
	closedir(d);
	return err ? err : restored;
}
