// SPDX-License-Identifier: GPL-2.0-only
/*
 * Least privilege, the process side (the only libcap user): check a plan, limit the process to
 * it, lower it after set-up, raise what is kept around the changes that need it. Every set is
 * the calling thread's (capset): see txpace/caps.h for which thread settles when.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sys/capability.h>

#include "txpace/caps.h"
#include "txpace/log.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

static int armed;
static uint64_t run_set;	/* (caps_setup_done()'s plan's, for caps_thread_settle()) */

int caps_armed(void)
{
	return armed;
}

/* The kernel's number of capabilities, at most 64 (the sets are 64-bit). */
static unsigned ncaps(void)
{
	int n = (int)cap_max_bits();

	return n <= 0 ? 41 : n > 64 ? 64 : (unsigned)n;
}

int caps_get(uint64_t *eff, uint64_t *prm)
{
	cap_t c = cap_get_proc();
	unsigned n = ncaps();

	*eff = *prm = 0;
	if (!c) {
		return -errno;
	}
	for (unsigned i = 0; i < n; i++) {
		cap_flag_value_t v;

		if (cap_get_flag(c, (cap_value_t)i, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET) {
			*eff |= CAPS_BIT(i);
		}
		if (cap_get_flag(c, (cap_value_t)i, CAP_PERMITTED, &v) == 0 && v == CAP_SET) {
			*prm |= CAPS_BIT(i);
		}
	}
	cap_free(c);
	return 0;
}

/* This thread: permitted @prm, effective @eff (within it), inheritable none. @return 0, -errno */
static int caps_set(uint64_t prm, uint64_t eff)
{
	cap_t c = cap_init();
	unsigned n = ncaps();
	int rc = 0;

	if (!c) {
		return -errno;
	}
	for (unsigned i = 0; i < n; i++) {
		cap_value_t v = (cap_value_t)i;

		if (prm & CAPS_BIT(i)) {
			cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
		}
		if (prm & eff & CAPS_BIT(i)) {
			cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
		}
	}
	if (cap_set_proc(c)) {
		rc = -errno;
	}
	cap_free(c);
	return rc;
}

/* (the magic as a long, as bpf_load.c compares it: f_type is 32-bit and signed on armhf) */
static int fs_is(const char *path, long magic)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

void caps_req_facts(struct caps_req *r)
{
	const char *no_btf = getenv("TXPACE_NO_BTF");

	r->root = geteuid() == 0;
	/* (TXPACE_NO_BTF=1 makes bpf_load.c take the classic tracepoint path, as without BTF) */
	r->btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0 &&
		 !(no_btf && *no_btf && strcmp(no_btf, "0"));
	r->no_bpffs = !fs_is("/sys/fs/bpf", BPF_FS_MAGIC);
	r->no_tracefs = !fs_is("/sys/kernel/tracing", TRACEFS_MAGIC);
}

int caps_check(const struct caps_plan *p, char *err, size_t errlen)
{
	uint64_t eff, prm, missing;

	if (caps_get(&eff, &prm)) {
		return 0;	/* (no capget: the kernel will say) */
	}
	missing = p->need & ~prm;
	for (unsigned i = 0; i < 64; i++) {
		if (missing & CAPS_BIT(i)) {
			snprintf(err, errlen, "%s needs %s (%s): run as root or `setcap` the binary "
				 "(see txpace(8) PRIVILEGES)", p->who[i] ? p->who[i] : "this",
				 caps_name(i), p->what[i] ? p->what[i] : "?");
			return -EPERM;
		}
	}
	return 0;
}

int caps_begin(const struct caps_plan *p, char *err, size_t errlen)
{
	uint64_t eff, prm, use = p->setup | p->thread | p->keep | p->run | p->need;
	unsigned n = ncaps();
	int rc;

	/* nothing execve'd from here gains a privilege (setuid, file capabilities) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		pr_debug("no_new_privs: %s", strerror(errno));
	}
	rc = caps_get(&eff, &prm);
	if (rc) {
		snprintf(err, errlen, "cannot read the process's capabilities: %s", strerror(-rc));
		return rc;
	}
	if (prm & CAPS_BIT(CAP_SETPCAP)) {
		/* (dropping from the bounding set takes CAP_SETPCAP effective) */
		caps_set(prm, eff | CAPS_BIT(CAP_SETPCAP));
		for (unsigned i = 0; i < n; i++) {
			if (!(use & CAPS_BIT(i)) && CAP_IS_SUPPORTED((cap_value_t)i) &&
			    cap_drop_bound((cap_value_t)i) && errno != EINVAL) {
				pr_debug("cannot drop %s from the bounding set: %s", caps_name(i),
					 strerror(errno));
			}
		}
	}
	cap_reset_ambient();
	rc = caps_set(prm & use, p->setup | p->need);
	if (rc) {
		snprintf(err, errlen, "cannot limit the process's capabilities: %s", strerror(-rc));
		return rc;
	}
	armed = 1;
	return 0;
}

void caps_setup_done(const struct caps_plan *p)
{
	uint64_t eff, prm;

	if (armed && !caps_get(&eff, &prm)) {
		run_set = prm & p->run;
		caps_set(prm & (p->keep | p->thread | p->run), p->thread | p->run);
	}
}

void caps_settle(const struct caps_plan *p)
{
	uint64_t eff, prm;

	if (armed && !caps_get(&eff, &prm)) {
		caps_set(prm & (p->keep | p->run), p->run);
	}
}

void caps_thread_settle(void)
{
	uint64_t eff, prm;

	if (armed && !caps_get(&eff, &prm)) {
		caps_set(prm & run_set, run_set);
	}
}

void caps_raise(uint64_t mask, uint64_t *saved)
{
	uint64_t eff = 0, prm = 0;

	*saved = 0;
	if (!armed || caps_get(&eff, &prm)) {
		return;
	}
	*saved = eff;
	if ((eff | (mask & prm)) != eff) {
		caps_set(prm, eff | (mask & prm));
	}
}

void caps_restore(uint64_t saved)
{
	uint64_t eff, prm;

	if (armed && !caps_get(&eff, &prm) && eff != (saved & prm)) {
		caps_set(prm, saved);
	}
}
