#!/usr/bin/python3
"""Generates the bridge benchmark's inputs: a 1,000-camera policy and two captures of camera -> NVR traffic.

Every address is a documentation address: cameras take 192.0.2.1-200, 198.51.100.1-254 and 203.0.113.1-254
(708 IPv4 cameras) and 2001:db8:c::1-292 (IPv6 cameras); the NVR is 192.0.2.250 / 2001:db8:a::250.
Each camera streams RTP-like UDP to the NVR, which the policy allows (egress udp 5000 to the NVR), so every
frame passes and the run measures forwarding, not dropping.

usage: gen_traffic.py OUT_DIR [FRAMES_PER_CAMERA]
writes OUT_DIR/policy/site.yaml, OUT_DIR/video.pcap (1,400-byte payloads) and OUT_DIR/small.pcap (60-byte frames)
"""
import os
import sys

from scapy.all import IP, UDP, Ether, IPv6, Raw, wrpcap

CAMERAS = 1000
NVR4, NVR6 = "192.0.2.250", "2001:db8:a::250"
NVR_MAC = "02:00:00:00:0a:01"


def cameras():
    pools = [("192.0.2.%d", range(1, 201)), ("198.51.100.%d", range(1, 255)), ("203.0.113.%d", range(1, 255))]
    n = 0
    for fmt, rng in pools:
        for i in rng:
            yield n, "02:00:00:%02x:%02x:%02x" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF), fmt % i, False
            n += 1
    i = 1
    while n < CAMERAS:
        yield n, "02:00:00:%02x:%02x:%02x" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF), "2001:db8:c::%x" % i, True
        n += 1
        i += 1


def main():
    out = sys.argv[1]
    per_camera = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    os.makedirs(os.path.join(out, "policy"), exist_ok=True)
    cams = list(cameras())
    with open(os.path.join(out, "policy", "site.yaml"), "w") as f:
        f.write("networks:\n  nvr: [%s, %s]\n" % (NVR4, NVR6))
        f.write("profiles:\n  streamer:\n    rules:\n")
        f.write("      - id: rtp-to-nvr\n        direction: egress\n        protocol: udp\n        ports: 5000\n        peer: nvr\n")
        f.write("cameras:\n")
        for n, mac, ip, v6 in cams:
            f.write("  cam%04d:\n    mac: %s\n    ip: %s\n    profiles: [streamer]\n" % (n, mac, ip))
            if v6:
                f.write("    ipv6: true\n")

    for name, payload in (("video", 1400), ("small", None)):
        frames = []
        for k in range(per_camera):
            for n, mac, ip, v6 in cams:
                l3 = IPv6(src=ip, dst=NVR6) if v6 else IP(src=ip, dst=NVR4)
                # small: a 60-byte frame (the Ethernet minimum without FCS); IPv6 headers make those 66-byte.
                size = payload if payload is not None else max(0, 60 - 14 - len(l3) - 8)
                frames.append(Ether(src=mac, dst=NVR_MAC) / l3 / UDP(sport=40000 + (n % 1000), dport=5000) / Raw(bytes([k & 0xFF]) * size))
        wrpcap(os.path.join(out, name + ".pcap"), frames)


if __name__ == "__main__":
    main()
