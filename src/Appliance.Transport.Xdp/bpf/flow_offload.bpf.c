// SPDX-License-Identifier: GPL-2.0 OR MIT
// camfw flow offload: an XDP program on each port of a bridge pair. It forwards a frame straight to the other port
// only when it belongs to a flow camfw's engine has admitted, tracked to "established" and installed in `flows`,
// under the policy version in force (`policy`), with the same MAC addresses and VLAN tags, and only TCP segments
// whose flags are a plain ACK or ACK+PSH. It follows where each side's TCP sequence numbers end, as the engine does,
// so that only a FIN or RST from there stops it forwarding a flow. Everything else is XDP_PASS: it goes up unchanged to the AF_PACKET
// socket camfw reads, and camfw decides it as before. The program never decides anything itself; it replays
// decisions. Built at build time by `clang -target bpf` (see Appliance.Transport.Xdp.csproj).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SIDE_CAMERA 0
#define SIDE_UPLINK 1

#define FLOW_ENDED 1u       /* a FIN or RST of the flow went up: forward nothing more until camfw re-installs it */
#define FLOW_SEEN_CAMERA 2u /* a frame of the flow was forwarded from the camera side */
#define FLOW_SEEN_UPLINK 4u /* ... from the uplink side */

/* The engine's tracker (PacketEngine.Flows.cs): a FIN or RST counts only within CLOSE_WINDOW below where its
 * sender's sequence numbers end; a segment moves that end only if it starts at most SEQUENCE_GAP past it. */
#define CLOSE_WINDOW 65536u
#define SEQUENCE_GAP 262144u

#define TCP_FIN 0x01
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Camera-relative, like the engine's FlowKey: both directions of a flow find one entry, and a frame claiming the
 * camera's address from the uplink side builds a different key (no match: up to the engine, which drops it). */
struct flow_key {
	__u8 camera[16];   /* IPv6, or IPv4-mapped ::ffff:a.b.c.d; network byte order */
	__u8 peer[16];
	__u16 camera_port; /* host byte order */
	__u16 peer_port;
	__u16 outer_vlan;  /* VLAN ids (12 bits), 0 untagged */
	__u16 inner_vlan;
	__u8 protocol;
	__u8 family;       /* 0 IPv4, 1 IPv6 */
	__u8 pad[2];
};

struct flow_value {
	__u64 packets;      /* forwarded by this program; camfw reads and accounts them */
	__u64 bytes;
	__u64 last_seen_ns; /* CLOCK_MONOTONIC(_COARSE) of the last forwarded frame */
	__u32 policy_version;
	__u32 flags;
	__u8 camera_mac[6];
	__u8 peer_mac[6];
	/* TCP: where each side's sequence numbers end (its next byte), seeded by camfw at install */
	__u32 camera_seq_end;
	__u32 peer_seq_end; /* and moved here by each forwarded segment, as the engine moves its own */
	__u32 pad;
};

/* Not preallocated: an entry is allocated when camfw installs the flow (never by this program), so the kernel
 * holds memory for the flows in the map, not for all 65,536 at once (11 MB locked before, 1 MB of buckets now), and
 * the entries in use lie together in slab memory rather than spread over a preallocated vmalloc area (the frame's
 * lookup misses the cache less). A deleted entry is also freed only after an RCU grace period, where a
 * preallocated one could be reused at once for another flow while a frame on another CPU still updates it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

/* The policy version in force; an entry of any other version is not forwarded (revocation on the next frame). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} policy SEC(".maps");

/* The pair's ports by side: ports[SIDE_CAMERA] and ports[SIDE_UPLINK] are their ifindexes. An array, not a hash
 * keyed by ifindex: the verifier inlines an array lookup into two loads, where a hash lookup is a helper call, a
 * jhash and a bucket walk on every frame. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

/* Where a frame received on a side goes: tx[SIDE_CAMERA] is the uplink port, tx[SIDE_UPLINK] the camera port
 * (a device array, looked up by index as above). */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} tx SEC(".maps");

static __always_inline int is_vlan(__u16 proto)
{
	return proto == bpf_htons(0x8100) || proto == bpf_htons(0x88A8) || proto == bpf_htons(0x9100);
}

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

/* Moves side's sequence end. Two stores in two branches: the empty asm keeps clang from merging them into one store
 * through a pointer chosen by side, which the verifier would refuse without CAP_PERFMON. */
static __always_inline void set_sender_end(struct flow_value *v, __u32 side, __u32 end)
{
	if (side == SIDE_CAMERA) {
		v->camera_seq_end = end;
	} else {
		asm volatile("" ::: "memory");
		v->peer_seq_end = end;
	}
}

SEC("xdp")
int flow_offload(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 camera_index = SIDE_CAMERA, uplink_index = SIDE_UPLINK;
	__u32 *camera_port = bpf_map_lookup_elem(&ports, &camera_index);
	__u32 *uplink_port = bpf_map_lookup_elem(&ports, &uplink_index);
	if (!camera_port || !uplink_port)
		return XDP_PASS;
	__u32 side;
	if (ifindex == *camera_port && ifindex != 0)
		side = SIDE_CAMERA;
	else if (ifindex == *uplink_port && ifindex != 0)
		side = SIDE_UPLINK;
	else
		return XDP_PASS;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;

	struct flow_key key = {};
	__u16 proto = eth->h_proto;
	void *p = eth + 1;

	/* Lengths from the headers are checked against the frame as numbers, never by adding them to a packet pointer:
	 * the verifier refuses variable pointer arithmetic to a loader without CAP_PERFMON (its Spectre v1 guard), and
	 * camfw's unit grants CAP_BPF and CAP_NET_ADMIN only. The program is not loaded with BPF_F_XDP_HAS_FRAGS, so a
	 * frame has no fragments and this is the length from data to data_end. */
	__u32 frame_len = bpf_xdp_get_buff_len(ctx);
	__u32 l3_offset = sizeof(struct ethhdr);

	/* Up to two VLAN tags, as the engine's parser; a third is the engine's to refuse. */
	if (is_vlan(proto)) {
		__u16 *tag = p;
		if ((void *)(tag + 2) > end)
			return XDP_PASS;
		key.outer_vlan = bpf_ntohs(tag[0]) & 0x0FFF;
		proto = tag[1];
		p = tag + 2;
		l3_offset += 4;
		if (is_vlan(proto)) {
			tag = p;
			if ((void *)(tag + 2) > end)
				return XDP_PASS;
			key.inner_vlan = bpf_ntohs(tag[0]) & 0x0FFF;
			proto = tag[1];
			p = tag + 2;
			l3_offset += 4;
			if (is_vlan(proto))
				return XDP_PASS;
		}
	}

	__u8 *l4;
	__u32 l4_len;
	__u8 *src, *dst;
	if (proto == bpf_htons(ETH_P_IP)) {
		__u8 *ip = p;
		if ((void *)(ip + 20) > end)
			return XDP_PASS;
		/* IPv4 without options; no fragment, no reserved flag. */
		if (ip[0] != 0x45)
			return XDP_PASS;
		__u16 total = ((__u16)ip[2] << 8) | ip[3];
		if (total < 20 || l3_offset + total > frame_len)
			return XDP_PASS;
		if ((ip[6] & 0xBF) != 0 || ip[7] != 0) /* anything but DF: reserved bit, MF, offset */
			return XDP_PASS;
		key.protocol = ip[9];
		key.family = 0;
		key.camera[10] = 0xFF;
		key.camera[11] = 0xFF;
		key.peer[10] = 0xFF;
		key.peer[11] = 0xFF;
		src = ip + 12;
		dst = ip + 16;
		__u8 *c = side == SIDE_CAMERA ? src : dst;
		__u8 *r = side == SIDE_CAMERA ? dst : src;
		__builtin_memcpy(&key.camera[12], c, 4);
		__builtin_memcpy(&key.peer[12], r, 4);
		l4 = ip + 20;
		l4_len = total - 20;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		__u8 *ip = p;
		if ((void *)(ip + 40) > end)
			return XDP_PASS;
		if ((ip[0] >> 4) != 6)
			return XDP_PASS;
		__u16 payload = ((__u16)ip[4] << 8) | ip[5];
		if (l3_offset + 40 + payload > frame_len)
			return XDP_PASS;
		/* No extension headers: the next header must be the transport itself. */
		key.protocol = ip[6];
		key.family = 1;
		src = ip + 8;
		dst = ip + 24;
		__u8 *c = side == SIDE_CAMERA ? src : dst;
		__u8 *r = side == SIDE_CAMERA ? dst : src;
		__builtin_memcpy(key.camera, c, 16);
		__builtin_memcpy(key.peer, r, 16);
		l4 = ip + 40;
		l4_len = payload;
	} else {
		return XDP_PASS;
	}

	__u8 tcp_flags = 0;
	__u32 tcp_seq = 0;
	__u32 tcp_payload = 0;
	if (key.protocol == IPPROTO_TCP) {
		if (l4_len < 20 || (void *)(l4 + 20) > end)
			return XDP_PASS;
		__u32 header = (l4[12] >> 4) * 4;
		if (header < 20 || header > l4_len)
			return XDP_PASS;
		/* Reserved bits and NS must be clear. */
		if ((l4[12] & 0x0F) != 0)
			return XDP_PASS;
		tcp_flags = l4[13];
		tcp_seq = ((__u32)l4[4] << 24) | ((__u32)l4[5] << 16) | ((__u32)l4[6] << 8) | l4[7];
		tcp_payload = l4_len - header;
	} else if (key.protocol == IPPROTO_UDP) {
		if (l4_len < 8 || (void *)(l4 + 8) > end)
			return XDP_PASS;
		__u16 udp_len = ((__u16)l4[4] << 8) | l4[5];
		if (udp_len < 8 || udp_len > l4_len)
			return XDP_PASS;
	} else {
		return XDP_PASS;
	}

	__u16 sport = ((__u16)l4[0] << 8) | l4[1];
	__u16 dport = ((__u16)l4[2] << 8) | l4[3];
	key.camera_port = side == SIDE_CAMERA ? sport : dport;
	key.peer_port = side == SIDE_CAMERA ? dport : sport;

	struct flow_value *v = bpf_map_lookup_elem(&flows, &key);
	if (!v)
		return XDP_PASS;

	/* Each side's end is read, and written below, on its own: never through a pointer chosen by side, which the
	 * verifier refuses to a loader without CAP_PERFMON (a map pointer whose offset depends on the path taken). */
	__u32 camera_end = v->camera_seq_end;
	__u32 peer_end = v->peer_seq_end;
	__u32 sender_end = side == SIDE_CAMERA ? camera_end : peer_end;
	if (key.protocol == IPPROTO_TCP) {
		if (tcp_flags & (TCP_FIN | TCP_RST)) {
			/* The tracker must see the end of the flow, and nothing after it may overtake it. Only one from where its
			 * sender's sequence numbers end, though: a blind forgery (a spoofed RST or FIN from anywhere else) must not
			 * stop the kernel forwarding a live stream; it goes up to the engine, which drops it. */
			if (sender_end - tcp_seq <= CLOSE_WINDOW)
				__sync_fetch_and_or(&v->flags, FLOW_ENDED);
			return XDP_PASS;
		}
		if (tcp_flags != TCP_ACK && tcp_flags != (TCP_ACK | TCP_PSH))
			return XDP_PASS; /* SYN, URG, ECE, CWR, no ACK...: the engine's to see */
	}

	if (v->flags & FLOW_ENDED)
		return XDP_PASS;

	__u32 zero = 0;
	__u32 *version = bpf_map_lookup_elem(&policy, &zero);
	if (!version || *version == 0 || *version != v->policy_version)
		return XDP_PASS;

	if (side == SIDE_CAMERA) {
		if (!mac_equal(eth->h_source, v->camera_mac) || !mac_equal(eth->h_dest, v->peer_mac))
			return XDP_PASS;
	} else {
		if (!mac_equal(eth->h_source, v->peer_mac) || !mac_equal(eth->h_dest, v->camera_mac))
			return XDP_PASS;
	}

	if (key.protocol == IPPROTO_TCP) {
		/* Follow the sender's end as the engine would (a race between CPUs of a multi-queue port can lose an update;
		 * the end then lags a little, which only makes a real RST of that instant look out of window). */
		__u32 current = sender_end;
		if (tcp_seq - current + CLOSE_WINDOW <= SEQUENCE_GAP + CLOSE_WINDOW) {
			__u32 segment_end = tcp_seq + tcp_payload;
			if ((__s32)(segment_end - current) > 0)
				set_sender_end(v, side, segment_end);
		}
	}

	__u32 seen = side == SIDE_CAMERA ? FLOW_SEEN_CAMERA : FLOW_SEEN_UPLINK;
	if (!(v->flags & seen))
		__sync_fetch_and_or(&v->flags, seen);
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, (__u64)frame_len);
	/* The coarse clock (CLOCK_MONOTONIC as of the last tick, at most a few ms behind) is a plain load where the
	 * precise one reads the clock source, which in a VM is a paravirtual clock read on every frame; expiry works in
	 * seconds. */
	v->last_seen_ns = bpf_ktime_get_coarse_ns();

	/* To the other port; if the pair's device map has no entry (not set up), up to camfw instead. */
	return bpf_redirect_map(&tx, side, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
