/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The maps the tc egress program and the driver hand-off programs share (the BTF one, a
 * separate object, reuses these by fd): one definition, so both objects agree on them.
 * Needs bpf_helpers.h and the BPF UAPI (from <linux/bpf.h> or vmlinux.h) first.
 */
#ifndef TXPACE_BPF_MAPS_H
#define TXPACE_BPF_MAPS_H

#include "txpace_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, TXP_RING_SLOTS);
	__type(key, __u32);
	__type(value, struct txp_slot);
} sched_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct txp_flow_key);
	__type(value, struct txp_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct txp_wstats);
} wstats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct txp_conf);
} conf SEC(".maps");

#endif
