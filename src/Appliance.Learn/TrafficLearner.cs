using System.Net;
using System.Net.Sockets;
using Appliance.Core;
using Appliance.Core.Policy;
using Appliance.Core.Wire;

namespace Appliance.Learn;

/// <summary>
/// Aggregates what each camera-side device does, frame by frame, into services (who opened, protocol, server port,
/// peer) with counts, volumes and first/last times. Bounded by <see cref="LearnOptions"/>; deterministic (the same
/// frames in the same order give the same snapshot). Not thread-safe: one writer; take <see cref="Snapshot"/> from
/// the same thread (or under the caller's lock).
/// </summary>
/// <remarks>
/// Who opened a connection: TCP by its SYN (a connection joined mid-way, with traffic both ways, counts as completed
/// and its opener is inferred: the side whose port is the lower one, privileged ports first, is the server); UDP by
/// the first datagram; ICMP by the echo request. A connection counts as completed when the handshake finished (TCP
/// SYN, SYN-ACK and the opener's ACK) or an answer came back (UDP, ICMP echo). Frames are parsed by the engine's own
/// parser, so what does not parse for the engine does not teach anything here either.
/// </remarks>
public sealed class TrafficLearner
{
    private const int SweepEvery = 4096;

    private readonly LearnOptions _options;
    private readonly Dictionary<DeviceKey, DeviceState> _devices = [];
    private readonly Dictionary<ConnKey, Conn> _conns = [];
    private readonly Dictionary<ServiceKey, ServiceState> _services = [];
    private long _frames;
    private long _malformed;
    private long _ignored;
    private long _devicesNotTracked;
    private long _connsNotTracked;
    private long _servicesNotKept;
    private long _servicesEvicted;
    private long _devicesEvicted;

    /// <summary>A learner with <paramref name="options"/> (defaults when null).</summary>
    public TrafficLearner(LearnOptions? options = null) => _options = options ?? new LearnOptions();

    /// <summary>
    /// Looks up the name a camera-side device resolved for a peer (from the engine's DNS learning); called once when a
    /// connection is first seen and once more when it completes without a name. Null: names are not looked up.
    /// </summary>
    public Func<DeviceKey, IpAddr, string?>? NameOf { get; set; }

    /// <summary>Learns from one Ethernet frame (or a bare IP packet when <paramref name="rawIp"/>) that arrived on <paramref name="side"/>.</summary>
    public void Observe(ReadOnlySpan<byte> frame, bool rawIp, Side side, long nowMs, int wireLength = 0)
    {
        _frames++;
        var ok = rawIp ? FrameParser.ParseIp(frame, out var info) : FrameParser.ParseEthernet(frame, out info);
        if (!ok)
        {
            _malformed++;
            return;
        }

        var length = wireLength > 0 ? wireLength : frame.Length;
        if (_frames % SweepEvery == 0)
        {
            Sweep(nowMs);
        }

        if (info.Kind == L3Kind.Arp)
        {
            if (side == Side.Camera && !info.SourceMac.IsMulticast && info.SourceMac.Value != 0)
            {
                Device(new DeviceKey(info.SourceMac, default), nowMs, length, info.ArpSenderIp);
            }

            return;
        }

        if (info.Kind is not (L3Kind.Ipv4 or L3Kind.Ipv6))
        {
            _ignored++;
            return;
        }

        var v6 = info.Kind == L3Kind.Ipv6;
        if (side == Side.Camera)
        {
            if (info.HasEthernet && (info.SourceMac.IsMulticast || info.SourceMac.Value == 0))
            {
                _ignored++;
                return;
            }

            var key = info.HasEthernet ? new DeviceKey(info.SourceMac, default) : new DeviceKey(default, info.Source);
            var device = Device(key, nowMs, length, info.Source);
            if (device is null)
            {
                return;
            }

            if (info.HasDhcp || (info.HasL4 && info.Protocol == IpProtocols.Udp && info.SourcePort == 68 && info.DestinationPort == 67))
            {
                device.UsedDhcp = true;
                return;
            }

            if (IsGroup(info.Destination, info.HasEthernet && info.DestinationMac.IsMulticast))
            {
                device.Discovery |= DiscoveryOf(ref info);
                _ignored++;
                return;
            }

            Track(key, ref info, v6, fromCamera: true, nowMs, length);
            return;
        }

        // Uplink: towards a camera-side device.
        if ((info.HasEthernet && info.DestinationMac.IsMulticast) || IsGroup(info.Destination, false))
        {
            _ignored++;
            return;
        }

        var target = info.HasEthernet ? new DeviceKey(info.DestinationMac, default) : new DeviceKey(default, info.Destination);
        Track(target, ref info, v6, fromCamera: false, nowMs, length);
    }

    /// <summary>
    /// Learns from one flow of the engine (the live path: from the engine's notes as flows open and close, and from
    /// samples of its table for the ones still open; frames are never touched). <paramref name="startMs"/> is when the flow was created; a flow seen again with the
    /// same start (within a second: the sampler's clock and the engine's may drift apart a little) is the same connection. The engine counts each flow's packets and bytes; a flow noted as it
    /// leaves the table (<paramref name="closed"/>) is folded at once. Flows of the engine's other kinds (fragments, ICMP
    /// errors) are ignored.
    /// </summary>
    /// <param name="device">The camera-side device.</param>
    /// <param name="direction">Who opened it.</param>
    /// <param name="protocol">The IP protocol.</param>
    /// <param name="camera">The camera's end.</param>
    /// <param name="cameraPort">The camera's port (the echo id for ICMP echo).</param>
    /// <param name="peer">The other end.</param>
    /// <param name="peerPort">The peer's port.</param>
    /// <param name="completed">The handshake completed (TCP) or the responder answered.</param>
    /// <param name="startMs">When the flow was created.</param>
    /// <param name="nowMs">When it was last seen (or sampled).</param>
    /// <param name="packets">Frames it carried so far, both ways (0: not known).</param>
    /// <param name="bytes">Wire bytes it carried so far, both ways.</param>
    /// <param name="closed">It is over (it left the engine's table): it is folded into its service now.</param>
    public void ObserveFlow(DeviceKey device, Direction direction, byte protocol, IpAddr camera, ushort cameraPort, IpAddr peer, ushort peerPort, bool completed, long startMs, long nowMs, long packets = 0, long bytes = 0, bool closed = false)
    {
        ushort serverPort;
        if (protocol is IpProtocols.Tcp or IpProtocols.Udp)
        {
            serverPort = direction == Direction.Egress ? peerPort : cameraPort;
        }
        else if (protocol is IpProtocols.Icmp or IpProtocols.Icmpv6)
        {
            serverPort = protocol == IpProtocols.Icmpv6 ? (ushort)128 : (ushort)8;
        }
        else
        {
            _ignored++;
            return;
        }

        var key = new ConnKey(device, protocol, camera, cameraPort, peer, peerPort);
        if (_conns.TryGetValue(key, out var conn) && (Math.Abs(conn.FirstMs - startMs) > 1000 || conn.Direction != direction))
        {
            // The ports were reused by a new connection: the old one is over.
            Fold(conn, _services, count: true);
            _conns.Remove(key);
            conn = null;
        }

        if (conn is null)
        {
            if (!RoomForConnection(nowMs))
            {
                return;
            }

            conn = new Conn
            {
                Device = device,
                Protocol = protocol,
                Direction = direction,
                ServerPort = serverPort,
                Peer = peer,
                FirstMs = startMs,
                LastMs = startMs,
            };
            conn.Name = LookUpName(device, peer);
            _conns.Add(key, conn);
        }

        conn.LastMs = Math.Max(conn.LastMs, nowMs);
        conn.Packets = Math.Max(conn.Packets, packets); // the engine's counts are totals so far
        conn.Bytes = Math.Max(conn.Bytes, bytes);
        if (completed && !conn.Completed)
        {
            conn.Completed = true;
            conn.Name ??= LookUpName(device, peer);
        }

        if (closed)
        {
            Fold(conn, _services, count: true);
            _conns.Remove(key);
        }
    }

    /// <summary>
    /// Starts from a summary kept earlier (the state file of a running appliance): its devices and services become
    /// what was learned so far, within this learner's bounds (what does not fit is counted as not kept). Call on an
    /// empty learner.
    /// </summary>
    public void Restore(LearnSnapshot kept)
    {
        ArgumentNullException.ThrowIfNull(kept);
        foreach (var device in kept.Devices)
        {
            if (_devices.ContainsKey(device.Key))
            {
                continue;
            }

            if (_devices.Count >= _options.MaxDevices)
            {
                _devicesNotTracked++;
                continue;
            }

            var d = new DeviceState
            {
                OnCameraSide = true,
                Frames = device.Frames,
                Bytes = device.Bytes,
                FirstMs = device.FirstMs,
                LastMs = device.LastMs,
                UsedDhcp = device.UsedDhcp,
                Discovery = device.Discovery,
            };
            foreach (var (address, frames) in device.Addresses.Take(16))
            {
                d.Addresses[IpAddr.FromIPAddress(address)] = frames;
            }

            _devices.Add(device.Key, d);
        }

        foreach (var service in kept.Services)
        {
            var key = new ServiceKey(service.Device, service.Direction, (byte)service.Protocol, service.Port, IpAddr.FromIPAddress(service.Peer));
            if (_services.ContainsKey(key) || !_devices.TryGetValue(service.Device, out var owner))
            {
                continue;
            }

            if (_services.Count >= _options.MaxServices || (owner.Services >= _options.MaxServicesPerDevice && !EvictIncomplete(owner, service.Device)))
            {
                _servicesNotKept++;
                continue;
            }

            owner.Services++;
            _services.Add(key, new ServiceState
            {
                Name = service.Name,
                Connections = service.Connections,
                Incomplete = service.Incomplete,
                MidStream = service.MidStream,
                MaxPackets = service.MaxPacketsPerConnection,
                MaxDurationMs = service.MaxDurationMs,
                Packets = service.Packets,
                Bytes = service.Bytes,
                FirstMs = service.FirstMs,
                LastMs = service.LastMs,
            });
        }

        _servicesEvicted += kept.Counters.ServicesEvicted;
        _devicesEvicted += kept.Counters.DevicesEvicted;
    }

    /// <summary>
    /// Whether one more connection fits: when the table is full, idle ones are swept first; if it is still full, the
    /// connection is counted as not tracked.
    /// </summary>
    private bool RoomForConnection(long nowMs)
    {
        if (_conns.Count < _options.MaxConnections)
        {
            return true;
        }

        Sweep(nowMs);
        if (_conns.Count < _options.MaxConnections)
        {
            return true;
        }

        _connsNotTracked++;
        return false;
    }

    /// <summary>
    /// Notes a device the learner is told about rather than sees frames of (the live path: a camera in learn mode),
    /// with the allowances it is to keep.
    /// </summary>
    public void NoteDevice(DeviceKey key, IpAddr address, long nowMs, bool dhcp, DiscoveryProtocols discovery)
    {
        if (Device(key, nowMs, 0, address, frames: 0) is { } device)
        {
            device.UsedDhcp |= dhcp;
            device.Discovery |= discovery;
        }
    }

    /// <summary>The findings so far: folded services plus the connections still open, sorted.</summary>
    public LearnSnapshot Snapshot()
    {
        var services = new Dictionary<ServiceKey, ServiceState>(_services.Count);
        foreach (var (key, state) in _services)
        {
            services[key] = state.Clone();
        }

        foreach (var conn in _conns.Values)
        {
            Fold(conn, services, count: false);
        }

        var devices = new List<LearnedDevice>(_devices.Count);
        foreach (var (key, d) in _devices)
        {
            if (!d.OnCameraSide)
            {
                continue;
            }

            var addresses = d.Addresses
                .Select(a => (Address: a.Key.ToIPAddress(), Frames: a.Value))
                .OrderByDescending(a => a.Frames).ThenBy(a => a.Address.AddressFamily).ThenBy(a => a.Address.ToString(), StringComparer.Ordinal)
                .ToList();
            devices.Add(new LearnedDevice
            {
                Key = key,
                Addresses = addresses,
                Frames = d.Frames,
                Bytes = d.Bytes,
                FirstMs = d.FirstMs,
                LastMs = d.LastMs,
                UsedDhcp = d.UsedDhcp,
                UsedIpv6 = addresses.Any(a => a.Address.AddressFamily == AddressFamily.InterNetworkV6 && !a.Address.IsIPv6LinkLocal),
                Discovery = d.Discovery,
            });
        }

        devices.Sort((a, b) => a.Key.CompareTo(b.Key));
        var known = devices.Select(d => d.Key).ToHashSet();
        var list = services
            .Where(s => known.Contains(s.Key.Device))
            .Select(s => s.Value.ToLearned(s.Key))
            .ToList();
        list.Sort(CompareServices);
        return new LearnSnapshot(devices, list, new LearnCounters
        {
            Frames = _frames,
            Malformed = _malformed,
            Ignored = _ignored,
            DevicesNotTracked = _devicesNotTracked,
            ConnectionsNotTracked = _connsNotTracked,
            ServicesNotKept = _servicesNotKept,
            ServicesEvicted = _servicesEvicted,
            DevicesEvicted = _devicesEvicted,
        });
    }

    /// <summary>Folds connections idle for <see cref="LearnOptions.ConnectionIdleMs"/> into their services.</summary>
    public void Sweep(long nowMs)
    {
        List<ConnKey>? done = null;
        foreach (var (key, conn) in _conns)
        {
            if (nowMs - conn.LastMs >= _options.ConnectionIdleMs)
            {
                (done ??= []).Add(key);
            }
        }

        if (done is null)
        {
            return;
        }

        done.Sort();
        foreach (var key in done)
        {
            Fold(_conns[key], _services, count: true);
            _conns.Remove(key);
        }
    }

    internal static int CompareServices(LearnedService a, LearnedService b)
    {
        var c = a.Device.CompareTo(b.Device);
        if (c == 0)
        {
            c = a.Direction.CompareTo(b.Direction);
        }

        if (c == 0)
        {
            c = a.Protocol.CompareTo(b.Protocol);
        }

        if (c == 0)
        {
            c = a.Port.CompareTo(b.Port);
        }

        return c != 0 ? c : CompareAddresses(a.Peer, b.Peer);
    }

    internal static int CompareAddresses(IPAddress a, IPAddress b)
        => IpAddr.FromIPAddress(a).Value.CompareTo(IpAddr.FromIPAddress(b).Value);

    private static bool IsGroup(IpAddr address, bool multicastMac)
    {
        if (multicastMac)
        {
            return true;
        }

        if (address.IsV4)
        {
            var v4 = address.V4;
            return v4 == 0xFFFF_FFFF || (v4 >> 28) == 0xE;
        }

        return (address.Value >> 120) == 0xFF;
    }

    private static DiscoveryProtocols DiscoveryOf(ref PacketInfo info)
    {
        if (!info.HasL4 || info.Protocol != IpProtocols.Udp)
        {
            return DiscoveryProtocols.None;
        }

        return info.DestinationPort switch
        {
            3702 => DiscoveryProtocols.WsDiscovery,
            1900 => DiscoveryProtocols.Ssdp,
            5353 => DiscoveryProtocols.Mdns,
            _ => DiscoveryProtocols.None,
        };
    }

    private static bool IsServerPort(ushort port, ushort other)
    {
        var privileged = port < 1024;
        var otherPrivileged = other < 1024;
        return privileged != otherPrivileged ? privileged : port <= other;
    }

    /// <summary>The device's state, created when new; counts <paramref name="frames"/> (0 when told about it rather than seeing a frame of it).</summary>
    private DeviceState? Device(DeviceKey key, long nowMs, int length, IpAddr source, int frames = 1)
    {
        if (!_devices.TryGetValue(key, out var d))
        {
            if (_devices.Count >= _options.MaxDevices && !EvictIdleDevice())
            {
                _devicesNotTracked++;
                return null;
            }

            d = new DeviceState { FirstMs = nowMs };
            _devices.Add(key, d);
        }

        if (!d.OnCameraSide)
        {
            d.OnCameraSide = true;
            d.FirstMs = nowMs;
        }

        // Min and max: the live path learns of flows out of order (a flow's closing note carries its start).
        d.Frames += frames;
        d.Bytes += length;
        d.FirstMs = Math.Min(d.FirstMs, nowMs);
        d.LastMs = Math.Max(d.LastMs, nowMs);
        if (source.Value != 0 && !(source.IsV4 && source.V4 == 0) && (d.Addresses.Count < 16 || d.Addresses.ContainsKey(source)))
        {
            d.Addresses[source] = d.Addresses.GetValueOrDefault(source) + frames;
        }

        return d;
    }

    private void Track(DeviceKey device, ref PacketInfo info, bool v6, bool fromCamera, long nowMs, int length)
    {
        if (!info.HasL4 || info.IsFragment)
        {
            _ignored++;
            return;
        }

        ushort cameraPort, peerPort;
        var protocol = info.Protocol;
        var camera = fromCamera ? info.Source : info.Destination;
        var peer = fromCamera ? info.Destination : info.Source;
        var isEcho = false;
        var echoRequest = false;
        if (protocol is IpProtocols.Tcp or IpProtocols.Udp)
        {
            cameraPort = fromCamera ? info.SourcePort : info.DestinationPort;
            peerPort = fromCamera ? info.DestinationPort : info.SourcePort;
        }
        else if (protocol is IpProtocols.Icmp or IpProtocols.Icmpv6)
        {
            echoRequest = v6 ? info.IcmpType == 128 : info.IcmpType == 8;
            var echoReply = v6 ? info.IcmpType == 129 : info.IcmpType == 0;
            if (!echoRequest && !echoReply)
            {
                // Errors belong to the flow they quote; neighbour discovery to the camera's IPv6 allowance.
                _ignored++;
                return;
            }

            isEcho = true;
            cameraPort = info.IcmpEchoId;
            peerPort = info.IcmpEchoId;
        }
        else
        {
            _ignored++;
            return;
        }

        var key = new ConnKey(device, protocol, camera, cameraPort, peer, peerPort);
        if (!_conns.TryGetValue(key, out var conn))
        {
            var flags = (TcpFlags)info.TcpFlags;
            bool cameraOpened;
            ushort serverPort;
            var mid = false;
            if (protocol == IpProtocols.Tcp)
            {
                if ((flags & TcpFlags.Rst) != 0)
                {
                    _ignored++;
                    return;
                }

                if ((flags & (TcpFlags.Syn | TcpFlags.Ack)) == TcpFlags.Syn)
                {
                    cameraOpened = fromCamera;
                }
                else
                {
                    mid = true;
                    cameraOpened = !IsServerPort(cameraPort, peerPort);
                }

                serverPort = cameraOpened ? peerPort : cameraPort;
            }
            else if (isEcho)
            {
                if (!echoRequest)
                {
                    _ignored++;
                    return;
                }

                cameraOpened = fromCamera;
                serverPort = v6 ? (ushort)128 : (ushort)8;
            }
            else
            {
                cameraOpened = fromCamera;
                serverPort = cameraOpened ? peerPort : cameraPort;
            }

            if (!RoomForConnection(nowMs))
            {
                return;
            }

            conn = new Conn
            {
                Device = device,
                Protocol = protocol,
                Direction = cameraOpened ? Direction.Egress : Direction.Ingress,
                ServerPort = serverPort,
                Peer = peer,
                MidStream = mid,
                FirstMs = nowMs,
            };
            conn.Name = LookUpName(device, peer);
            _conns.Add(key, conn);
        }

        conn.Packets++;
        conn.Bytes += length;
        conn.LastMs = nowMs;
        var fromOpener = fromCamera == (conn.Direction == Direction.Egress);
        if (fromOpener)
        {
            conn.SeenFromOpener = true;
        }
        else
        {
            conn.SeenFromResponder = true;
        }

        if (conn.Completed)
        {
            return;
        }

        if (protocol == IpProtocols.Tcp)
        {
            var flags = (TcpFlags)info.TcpFlags;
            if (conn.MidStream)
            {
                conn.Completed = conn.SeenFromOpener && conn.SeenFromResponder && (flags & TcpFlags.Rst) == 0;
            }
            else if (!fromOpener && (flags & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack))
            {
                conn.SynAcked = true;
            }
            else if (conn.SynAcked && (flags & (TcpFlags.Syn | TcpFlags.Rst)) == 0 && (flags & TcpFlags.Ack) != 0)
            {
                conn.Completed = true;
            }
        }
        else if (!fromOpener)
        {
            conn.Completed = !isEcho || (v6 ? info.IcmpType == 129 : info.IcmpType == 0);
        }

        if (conn.Completed && conn.Name is null)
        {
            conn.Name = LookUpName(device, peer);
        }
    }

    private string? LookUpName(DeviceKey device, IpAddr peer) => NameOf?.Invoke(device, peer);

    /// <summary>
    /// A device has its <see cref="LearnOptions.MaxServicesPerDevice"/>: its oldest services that never completed a
    /// connection (probes, refused tries: never rules) make room for a completed one, a sixteenth of its share at a
    /// time so that the scan is paid once per many. Learned services are never pushed out, so a device that probes
    /// many peers or ports cannot flush what it legitimately does.
    /// </summary>
    private bool EvictIncomplete(DeviceState owner, DeviceKey device)
    {
        var victims = new List<(long LastMs, ServiceKey Key)>();
        foreach (var (key, state) in _services)
        {
            if (key.Device == device && state.Connections == 0)
            {
                victims.Add((state.LastMs, key));
            }
        }

        return Evict(victims, Math.Max(1, _options.MaxServicesPerDevice / 16), key =>
        {
            _services.Remove(key);
            owner.Services--;
            _servicesEvicted++;
        });
    }

    /// <summary>
    /// The device table is full: the least recently seen devices that have no service and no open connection (ones
    /// only seen, such as an unlisted MAC noted once) make room, a sixteenth of the table at a time. False when every
    /// device has learned something.
    /// </summary>
    private bool EvictIdleDevice()
    {
        var busy = new HashSet<DeviceKey>();
        foreach (var key in _conns.Keys)
        {
            busy.Add(key.Device);
        }

        var victims = new List<(long LastMs, DeviceKey Key)>();
        foreach (var (key, d) in _devices)
        {
            if (d.Services == 0 && !busy.Contains(key))
            {
                victims.Add((d.LastMs, key));
            }
        }

        return Evict(victims, Math.Max(1, _options.MaxDevices / 16), key =>
        {
            _devices.Remove(key);
            _devicesEvicted++;
        });
    }

    /// <summary>Removes up to <paramref name="most"/> of <paramref name="victims"/>, least recent first (then by key: deterministic).</summary>
    private static bool Evict<TKey>(List<(long LastMs, TKey Key)> victims, int most, Action<TKey> remove)
        where TKey : IComparable<TKey>
    {
        if (victims.Count == 0)
        {
            return false;
        }

        victims.Sort((a, b) => a.LastMs != b.LastMs ? a.LastMs.CompareTo(b.LastMs) : a.Key.CompareTo(b.Key));
        for (var i = 0; i < Math.Min(most, victims.Count); i++)
        {
            remove(victims[i].Key);
        }

        return true;
    }

    private void Fold(Conn conn, Dictionary<ServiceKey, ServiceState> into, bool count)
    {
        var key = new ServiceKey(conn.Device, conn.Direction, conn.Protocol, conn.ServerPort, conn.Peer);
        if (!into.TryGetValue(key, out var s))
        {
            // The real fold (count) keeps each device within its share; a snapshot's copy only adds the open ones.
            var owner = count ? _devices.GetValueOrDefault(conn.Device) : null;
            if (into.Count >= _options.MaxServices
                || (owner is not null && owner.Services >= _options.MaxServicesPerDevice && !(conn.Completed && EvictIncomplete(owner, conn.Device))))
            {
                if (count)
                {
                    _servicesNotKept++;
                }

                return;
            }

            if (owner is not null)
            {
                owner.Services++;
            }

            s = new ServiceState { FirstMs = conn.FirstMs, LastMs = conn.LastMs };
            into.Add(key, s);
        }

        s.FirstMs = Math.Min(s.FirstMs, conn.FirstMs);
        s.LastMs = Math.Max(s.LastMs, conn.LastMs);
        if (conn.Name is not null && (s.Name is null || string.CompareOrdinal(conn.Name, s.Name) < 0))
        {
            s.Name = conn.Name;
        }

        if (!conn.Completed)
        {
            s.Incomplete++;
            return;
        }

        s.Connections++;
        s.Packets += conn.Packets;
        s.Bytes += conn.Bytes;
        s.MaxPackets = Math.Max(s.MaxPackets, conn.Packets);
        s.MaxDurationMs = Math.Max(s.MaxDurationMs, conn.LastMs - conn.FirstMs);
        if (conn.MidStream)
        {
            s.MidStream++;
        }
    }

    private readonly record struct ConnKey(DeviceKey Device, byte Protocol, IpAddr Camera, ushort CameraPort, IpAddr Peer, ushort PeerPort) : IComparable<ConnKey>
    {
        public int CompareTo(ConnKey other)
        {
            var c = Device.CompareTo(other.Device);
            if (c == 0)
            {
                c = Protocol.CompareTo(other.Protocol);
            }

            if (c == 0)
            {
                c = Camera.Value.CompareTo(other.Camera.Value);
            }

            if (c == 0)
            {
                c = CameraPort.CompareTo(other.CameraPort);
            }

            if (c == 0)
            {
                c = Peer.Value.CompareTo(other.Peer.Value);
            }

            return c != 0 ? c : PeerPort.CompareTo(other.PeerPort);
        }
    }

    private readonly record struct ServiceKey(DeviceKey Device, Direction Direction, byte Protocol, ushort Port, IpAddr Peer) : IComparable<ServiceKey>
    {
        public int CompareTo(ServiceKey other)
        {
            var c = Device.CompareTo(other.Device);
            if (c == 0)
            {
                c = Direction.CompareTo(other.Direction);
            }

            if (c == 0)
            {
                c = Protocol.CompareTo(other.Protocol);
            }

            if (c == 0)
            {
                c = Port.CompareTo(other.Port);
            }

            return c != 0 ? c : Peer.Value.CompareTo(other.Peer.Value);
        }
    }

    private sealed class DeviceState
    {
        public Dictionary<IpAddr, long> Addresses { get; } = [];

        public bool OnCameraSide { get; set; }

        public long Frames { get; set; }

        public long Bytes { get; set; }

        public long FirstMs { get; set; }

        public long LastMs { get; set; }

        public bool UsedDhcp { get; set; }

        public DiscoveryProtocols Discovery { get; set; }

        /// <summary>Services kept for it (see <see cref="LearnOptions.MaxServicesPerDevice"/>).</summary>
        public int Services { get; set; }
    }

    private sealed class Conn
    {
        public DeviceKey Device { get; init; }

        public byte Protocol { get; init; }

        public Direction Direction { get; init; }

        public ushort ServerPort { get; init; }

        public IpAddr Peer { get; init; }

        public bool MidStream { get; init; }

        public string? Name { get; set; }

        public bool SynAcked { get; set; }

        public bool Completed { get; set; }

        public bool SeenFromOpener { get; set; }

        public bool SeenFromResponder { get; set; }

        public long Packets { get; set; }

        public long Bytes { get; set; }

        public long FirstMs { get; init; }

        public long LastMs { get; set; }
    }

    private sealed class ServiceState
    {
        public string? Name { get; set; }

        public long Connections { get; set; }

        public long Incomplete { get; set; }

        public long MidStream { get; set; }

        public long MaxPackets { get; set; }

        public long MaxDurationMs { get; set; }

        public long Packets { get; set; }

        public long Bytes { get; set; }

        public long FirstMs { get; set; }

        public long LastMs { get; set; }

        public ServiceState Clone() => (ServiceState)MemberwiseClone();

        public LearnedService ToLearned(ServiceKey key) => new()
        {
            Device = key.Device,
            Direction = key.Direction,
            Protocol = (RuleProtocol)key.Protocol,
            Port = key.Port,
            Peer = key.Peer.ToIPAddress(),
            Name = Name,
            Connections = Connections,
            Incomplete = Incomplete,
            MidStream = MidStream,
            MaxPacketsPerConnection = MaxPackets,
            MaxDurationMs = MaxDurationMs,
            Packets = Packets,
            Bytes = Bytes,
            FirstMs = FirstMs,
            LastMs = LastMs,
        };
    }
}
