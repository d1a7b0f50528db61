// SPDX-License-Identifier: GPL-2.0 OR MIT
// For test and benchmark set-ups only: a veth takes redirected frames (ndo_xdp_xmit) only when its peer runs an XDP
// program, so the far ends of the test and benchmark veths (the pretend hosts) attach this one. It passes
// everything. Real NICs need nothing of the kind.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
