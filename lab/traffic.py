#!/usr/bin/env python3
"""Traffic for the camfw lab: one small long-running role per network namespace.

Each role drives the traffic a real device of that kind makes and writes what it experienced (bytes received,
connections that worked or failed) to a JSON status file about once a second, so the lab can show the device's
view next to the appliance's counters. Standard library only. Every role exits by itself when the lab process
(--parent-pid) is gone, so a killed lab never leaves traffic running.

Roles:
  camera    RTSP-like stream server on TCP 554, a web page on TCP 80 and 443; DNS and NTP to the site server;
            optionally keeps phoning home to a vendor cloud (TCP 443 and UDP), looking its name up first, or
            keeps reaching its vendor cloud by name (looks it up, connects to the address the answer gave).
  nvr       pulls a stream from every camera on TCP 554 and keeps reconnecting; serves its own web UI on TCP 80.
  dnsntp    the site's DNS (UDP 53) and NTP (UDP 123) server; it knows the vendor cloud's and time server's names.
  listener  a pretend vendor cloud or internet host: accepts TCP and UDP and counts what reaches it;
            optionally keeps trying to open a web page on a target (the internet host poking a camera).
  prober    keeps trying TCP connections to a list of targets (the rogue device).
  flood     an attacker on the uplink side: bursts of TCP SYNs spoofing another host's address (the NVR's) to a
            camera port, through a raw packet socket, to exhaust the camera's flow quota (camfw lab --flood).
"""

import argparse
import json
import os
import random
import select
import socket
import struct
import threading
import time

STREAM_CHUNK = 1316  # seven MPEG-TS packets, what RTP/RTSP cameras typically send per datagram or chunk
STREAM_INTERVAL = 0.02  # 50 chunks/s, about 530 kbit/s per camera: visible counters, negligible load


class Status:
    """Counters shared by the role's threads, flushed atomically (write + rename) to a JSON file."""

    def __init__(self, path, role, name):
        self.path = path
        self.lock = threading.Lock()
        self.data = {"role": role, "name": name, "pid": os.getpid(), "counters": {}}

    def add(self, key, amount=1):
        with self.lock:
            c = self.data["counters"]
            c[key] = c.get(key, 0) + amount

    def set(self, key, value):
        with self.lock:
            self.data["counters"][key] = value

    def get(self, key):
        with self.lock:
            return self.data["counters"].get(key, 0)

    def flush(self):
        with self.lock:
            self.data["updated"] = time.time()
            text = json.dumps(self.data, sort_keys=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.path)


def parent_alive(pid):
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            # "pid (comm) S ...": a killed lab that nobody has reaped yet is a zombie, and gone all the same.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def spawn(target, *args):
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


def tcp_try(host, port, timeout, payload=None):
    """One connection attempt; True when the handshake completed (and the payload, if any, was sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        if payload:
            s.sendall(payload)
            try:
                s.recv(4096)
            except OSError:
                pass
        return True
    except OSError:
        return False
    finally:
        s.close()


def serve_tcp(port, status, prefix, handler=None):
    """Accepts connections on a TCP port; each one is counted and handed to handler (or answered with HTTP)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(16)
    while True:
        conn, peer = srv.accept()
        status.add(prefix + "_accepted")
        status.add(prefix + "_accepted_from_" + peer[0].replace(".", "_"))
        status.set(prefix + "_last_peer", peer[0])
        spawn(handler or http_page, conn, status)


def http_page(conn, status):
    try:
        conn.settimeout(5)
        conn.recv(4096)
        body = b"<html><body>camfw lab device</body></html>"
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
    except OSError:
        pass
    finally:
        conn.close()


def serve_udp(port, status, prefix, reply=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(2048)
        status.add(prefix + "_received")
        status.add(prefix + "_received_from_" + peer[0].replace(".", "_"))
        status.set(prefix + "_last_peer", peer[0])
        answer = reply(data) if reply else None
        if answer:
            s.sendto(answer, peer)


# ---- camera -------------------------------------------------------------------------------------------------

def stream_to(conn, status):
    """RTSP-like: read the request, answer 200 OK, then send chunks until the NVR goes away."""
    try:
        conn.settimeout(5)
        conn.recv(4096)
        conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nSession: 1\r\n\r\n")
        chunk = bytes(range(256)) * (STREAM_CHUNK // 256) + bytes(STREAM_CHUNK % 256)
        while True:
            conn.sendall(chunk)
            status.add("stream_bytes_sent", len(chunk))
            time.sleep(STREAM_INTERVAL)
    except OSError:
        status.add("stream_sessions_ended")
    finally:
        conn.close()


def dns_query(qid, name):
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return header + qname + struct.pack("!HH", 1, 1)


def ntp_request():
    # LI=0, VN=4, Mode=3 (client); the transmit timestamp lets the client match the reply.
    return bytes([0x23]) + bytes(39) + struct.pack("!II", int(time.time()) + 2208988800, 0)


def udp_exchange(host, port, payload, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, (host, port))
        s.recvfrom(2048)
        return True
    except OSError:
        return False
    finally:
        s.close()


def camera_loop(args, status):
    qid = 0
    tick = 0
    while True:
        tick += 1
        qid = (qid + 1) & 0xFFFF
        ok = udp_exchange(args.dns, 53, dns_query(qid, "ntp.site.example"), 1.0)
        status.add("dns_answered" if ok else "dns_unanswered")
        if tick % 3 == 1:
            ok = udp_exchange(args.ntp, 123, ntp_request(), 1.0)
            status.add("ntp_answered" if ok else "ntp_unanswered")
        time.sleep(args.interval)


def phone_home_loop(args, status):
    while True:
        # Like a real camera, it looks its cloud up first: the appliance reports the attempt by that name.
        if args.dns and args.phone_home_name:
            status.add("phone_home_resolved" if resolve(args.dns, args.phone_home_name) else "phone_home_unresolved")
        ok = tcp_try(args.phone_home, 443, 1.0, b"\x16\x03\x01\x00\x05hello")
        status.add("phone_home_tcp_connected" if ok else "phone_home_tcp_failed")
        ok = udp_exchange(args.phone_home, 443, b"p2p-register " + args.name.encode(), 0.5)
        status.add("phone_home_udp_answered" if ok else "phone_home_udp_unanswered")
        time.sleep(args.interval)


def cloud_by_name_loop(args, status):
    """Reaches the vendor cloud the way a name rule admits it: look the name up, connect to the answer's address."""
    while True:
        address = resolve(args.dns, args.cloud_name) if args.dns else None
        if address is None:
            status.add("cloud_unresolved")
        else:
            ok = tcp_try(address, 443, 1.0, b"\x16\x03\x01\x00\x05hello")
            status.add("cloud_tcp_connected" if ok else "cloud_tcp_failed")
        time.sleep(args.interval)


def run_camera(args, status):
    spawn(serve_tcp, 554, status, "rtsp", stream_to)
    spawn(serve_tcp, 80, status, "web")
    spawn(serve_tcp, 443, status, "https")
    spawn(camera_loop, args, status)
    if args.phone_home:
        spawn(phone_home_loop, args, status)
    if args.cloud_name:
        spawn(cloud_by_name_loop, args, status)


# ---- nvr ----------------------------------------------------------------------------------------------------

def pull_stream(camera, address, status):
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2.0)
        try:
            s.connect((address, 554))
            status.add("connected_" + camera)
            s.sendall(("PLAY rtsp://%s/stream1 RTSP/1.0\r\nCSeq: 1\r\n\r\n" % address).encode())
            while True:
                data = s.recv(65536)
                if not data:
                    break
                status.add("bytes_from_" + camera, len(data))
        except OSError:
            status.add("failed_" + camera)
        finally:
            s.close()
        time.sleep(1.0)


def flood_window_open(path):
    """True while the flood role says a flood is on (its burst and the time its flows may hold the quota after)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("counters", {}).get("flood_window_open", 0) == 1
    except (OSError, ValueError):
        return False


def probe_new_connections(camera, address, status, flood_status, interval):
    """What an NVR does after a restart or a dropped stream: opens a new connection to the camera, again and again.
    Each attempt is counted as made during a flood or outside one.

    Probing starts once the NVR's stream from that camera connected (the site is up: the camera listens, the
    appliance forwards), as an NVR reconnects a camera it already recorded; an attempt that overlaps the flood
    window at its start or its end counts as made during the flood."""
    while status.get("connected_" + camera) == 0:
        time.sleep(0.2)
    while True:
        during = flood_status and flood_window_open(flood_status)
        ok = tcp_try(address, 554, 2.0, ("OPTIONS rtsp://%s/ RTSP/1.0\r\nCSeq: 1\r\n\r\n" % address).encode())
        during = during or (flood_status and flood_window_open(flood_status))
        key = "newconn_%s%s_%s" % (camera, "_flood" if during else "", "ok" if ok else "failed")
        status.add(key)
        time.sleep(interval)


def run_nvr(args, status):
    spawn(serve_tcp, 80, status, "web")
    for item in args.camera:
        name, address = item.split("=", 1)
        status.set("bytes_from_" + name, 0)
        spawn(pull_stream, name, address, status)
    for item in args.probe:
        name, address = item.split("=", 1)
        spawn(probe_new_connections, name, address, status, args.flood_status, args.interval / 2)


# ---- dns/ntp server -----------------------------------------------------------------------------------------

# What the site's DNS server knows: the vendor cloud's names and the vendor's time server (the site's NTP server).
# Any other A question gets 192.0.2.123 (a documentation address no camera talks to).
LAB_NAMES = {
    "p2p.vendor.example": "203.0.113.50",
    "cloud.vendor.example": "203.0.113.50",
    "time.vendor.example": "198.51.100.2",
}


def question_name(query):
    """The first question's name (uncompressed, as clients write it), lower case; None when unreadable."""
    labels, at = [], 12
    while at < len(query):
        n = query[at]
        if n == 0:
            return ".".join(labels).lower()
        if n > 63 or at + 1 + n > len(query):
            return None
        labels.append(query[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    return None


def dns_answer(query):
    """A minimal authoritative answer to an A question: the lab's names, else 192.0.2.123; TTL 60."""
    if len(query) < 12:
        return None
    qid = struct.unpack("!H", query[:2])[0]
    question = query[12:]
    address = LAB_NAMES.get(question_name(query) or "", "192.0.2.123")
    header = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0)
    answer = struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(address)
    return header + question + answer


def resolve(server, name, timeout=1.0):
    """Asks the site's DNS server for name's A record; the address, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    qid = random.randint(0, 0xFFFF)
    try:
        s.sendto(dns_query(qid, name), (server, 53))
        data, _ = s.recvfrom(2048)
        if len(data) >= 16 and struct.unpack("!H", data[:2])[0] == qid and data[-6:-4] == b"\x00\x04":
            return socket.inet_ntoa(data[-4:])
        return None
    except OSError:
        return None
    finally:
        s.close()


def ntp_answer(query):
    if len(query) < 48:
        return None
    now = time.time() + 2208988800
    secs, frac = int(now), int((now % 1) * (1 << 32))
    # LI=0, VN=4, Mode=4 (server), stratum 2; origin = the client's transmit timestamp.
    return (bytes([0x24, 2, 6, 0xEC]) + bytes(8) + b"LAB\x00"
            + struct.pack("!II", secs, frac) + query[40:48] + struct.pack("!IIII", secs, frac, secs, frac))


def run_dnsntp(args, status):
    spawn(serve_udp, 53, status, "dns", dns_answer)
    spawn(serve_udp, 123, status, "ntp", ntp_answer)


# ---- listener (cloud, internet host) and prober (rogue) -----------------------------------------------------

def poke_loop(target, port, status, key, interval):
    while True:
        ok = tcp_try(target, port, 1.0, b"GET / HTTP/1.0\r\n\r\n")
        status.add(key + ("_connected" if ok else "_failed"))
        time.sleep(interval)


def run_listener(args, status):
    for port in args.tcp:
        spawn(serve_tcp, port, status, "tcp%d" % port)
    for port in args.udp:
        spawn(serve_udp, port, status, "udp%d" % port, lambda data: b"ack")
    for target in args.poke:
        address, port = target.rsplit(":", 1)
        spawn(poke_loop, address, int(port), status, "poke_" + address.replace(".", "_"), args.interval)


def run_prober(args, status):
    for target in args.poke:
        address, port = target.rsplit(":", 1)
        spawn(poke_loop, address, int(port), status, "poke_" + address.replace(".", "_"), args.interval)


# ---- flood (an attacker on the uplink side) -----------------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mac_bytes(mac):
    return bytes(int(part, 16) for part in mac.split(":"))


def syn_frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq):
    """Ethernet + IPv4 + TCP SYN with correct checksums: the frame a real SYN from src_ip would be."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), sport, 0x4000, 64, socket.IPPROTO_TCP, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return mac_bytes(dst_mac) + mac_bytes(src_mac) + b"\x08\x00" + ip + tcp


def run_flood(args, status):
    target, port = args.target.rsplit(":", 1)
    port = int(port)
    with open("/sys/class/net/%s/address" % args.iface, encoding="ascii") as f:
        own_mac = f.read().strip()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((args.iface, 0))
    status.set("flood_window_open", 0)
    status.set("flood_syns_per_round", args.count)
    status.flush()
    time.sleep(args.delay)
    rounds = 0
    while True:
        rounds += 1
        status.set("flood_window_open", 1)
        status.set("flood_rounds", rounds)
        status.flush()
        started = time.time()
        rand = random.Random()
        for i in range(args.count):
            frame = syn_frame(own_mac, args.dst_mac, args.spoof, target, rand.randint(1024, 65535), port, rand.getrandbits(32))
            try:
                sock.send(frame)
                status.add("flood_syns_sent")
            except OSError:
                status.add("flood_send_errors")
            if i % 100 == 99:
                # About 2,000 SYNs a second: fast enough to fill any quota, slow enough that the appliance's capture
                # sees every one (a flood the appliance never saw would prove nothing).
                time.sleep(max(0.0, started + (i + 1) / args.rate - time.time()))
        status.set("flood_last_burst_seconds", round(time.time() - started, 2))
        # The flows a burst made may hold the quota until they time out: the window stays open that long.
        time.sleep(args.hold)
        status.set("flood_window_open", 0)
        status.flush()
        time.sleep(max(0.0, args.every - args.hold - (time.time() - started)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("role", choices=["camera", "nvr", "dnsntp", "listener", "prober", "flood"])
    p.add_argument("--name", required=True)
    p.add_argument("--status", required=True, help="JSON status file, rewritten about once a second")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between attempts")
    p.add_argument("--dns")
    p.add_argument("--ntp")
    p.add_argument("--phone-home", help="vendor cloud address this camera keeps calling")
    p.add_argument("--phone-home-name", help="the name the camera looks up before it calls (camera)")
    p.add_argument("--cloud-name", help="vendor cloud name this camera keeps resolving and connecting to on TCP 443 (camera)")
    p.add_argument("--camera", action="append", default=[], help="NAME=ADDRESS to pull a stream from (nvr)")
    p.add_argument("--tcp", type=int, action="append", default=[])
    p.add_argument("--udp", type=int, action="append", default=[])
    p.add_argument("--poke", action="append", default=[], help="ADDRESS:PORT to keep connecting to")
    p.add_argument("--probe", action="append", default=[], help="NAME=ADDRESS whose TCP 554 to keep opening new connections to (nvr)")
    p.add_argument("--flood-status", help="the flood role's status file: probes count attempts made during a flood apart (nvr)")
    p.add_argument("--target", help="ADDRESS:PORT to flood (flood)")
    p.add_argument("--spoof", help="source address the SYNs claim (flood)")
    p.add_argument("--dst-mac", help="MAC the SYNs are sent to: the target's (flood)")
    p.add_argument("--iface", default="eth0", help="interface to send on (flood)")
    p.add_argument("--count", type=int, default=5000, help="SYNs per burst (flood)")
    p.add_argument("--rate", type=float, default=2000.0, help="SYNs per second within a burst (flood)")
    p.add_argument("--delay", type=float, default=5.0, help="seconds before the first burst (flood)")
    p.add_argument("--hold", type=float, default=25.0, help="seconds a flood window stays open after its burst (flood)")
    p.add_argument("--every", type=float, default=45.0, help="seconds from one burst to the next (flood)")
    args = p.parse_args()

    status = Status(args.status, args.role, args.name)
    {"camera": run_camera, "nvr": run_nvr, "dnsntp": run_dnsntp,
     "listener": run_listener, "prober": run_prober}.get(args.role, lambda a, s: spawn(run_flood, a, s))(args, status)

    while True:
        status.flush()
        if args.parent_pid and not parent_alive(args.parent_pid):
            return
        select.select([], [], [], 0.5)


if __name__ == "__main__":
    main()
