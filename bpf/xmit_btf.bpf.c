// SPDX-License-Identifier: GPL-2.0-only
/*
 * Driver hand-off times where the kernel has BTF: a tp_btf program on net:net_dev_start_xmit
 * reads skb->head and the header offsets through CO-RE (vmlinux.h), so nothing is guessed.
 * Optional: without kernel BTF (Raspberry Pi OS) it does not load, and the classic tracepoint
 * program in tc_egress.bpf.c (which finds skb->data at run time) is used instead. Its maps are
 * tc_egress's, reused by fd.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.h"
#include "xmit.h"

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(txp_xmit_btf, const struct sk_buff *skb, const struct net_device *dev)
{
	const unsigned char *head = BPF_CORE_READ(skb, head);
	const unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 nh = BPF_CORE_READ(skb, network_header), th = BPF_CORE_READ(skb, transport_header);
	__u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));

	/* (~0: the offset is not set; the classic event says so in transport_offset_valid) */
	if (th == (__u16)~0u || nh == (__u16)~0u || th < nh) {
		return 0;
	}
	/*
	 * offsets from skb->data, as record_xmit takes them: from the head they can pass its
	 * bounds where the headroom is large (mac80211: 0 of 1000 hand-offs on a hwsim link)
	 */
	return record_xmit(data, (__s32)(head + nh - data), (__s32)(head + th - data), proto);
}

char LICENSE[] SEC("license") = "GPL";
