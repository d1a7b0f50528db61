using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Core.Policy;

namespace Appliance.Core.Flows;

/// <summary>Where a tracked flow is in its life.</summary>
public enum FlowState : byte
{
    /// <summary>The slot is empty.</summary>
    Free = 0,

    /// <summary>TCP: the opener's SYN passed; waiting for the SYN-ACK (half-open).</summary>
    SynSent = 1,

    /// <summary>TCP: the responder's SYN-ACK passed; waiting for the opener's ACK (half-open).</summary>
    SynReceived = 2,

    /// <summary>TCP: the handshake completed.</summary>
    Established = 3,

    /// <summary>TCP: one side sent FIN.</summary>
    FinWait = 4,

    /// <summary>TCP: both sides sent FIN.</summary>
    Closing = 5,

    /// <summary>TCP: an RST passed; kept briefly so stragglers are recognised rather than reported as bypasses.</summary>
    Closed = 6,

    /// <summary>UDP or another protocol without connections: a pseudo-flow.</summary>
    Datagram = 7,

    /// <summary>An ICMP/ICMPv6 echo request and its replies.</summary>
    IcmpEcho = 8,

    /// <summary>The first fragment of a datagram passed; later fragments of it may follow.</summary>
    Fragment = 9,
}

/// <summary>What an entry's key describes.</summary>
internal enum FlowKind : byte
{
    Connection = 0,
    FragmentFromCamera = 1,
    FragmentToCamera = 2,
}

/// <summary>Flow flags.</summary>
[Flags]
internal enum FlowFlags : byte
{
    None = 0,

    /// <summary>The opener was a monitored would-be drop; its flow exists so that replies are not reported one by one.</summary>
    Monitored = 1,

    FinFromCamera = 2,
    FinFromPeer = 4,

    /// <summary>The responder has answered (UDP, ICMP echo, TCP SYN-ACK): such flows are evicted last.</summary>
    Replied = 8,

    /// <summary>On its camera's half-open list (see <see cref="FlowTable"/>): yields its quota place to new openers.</summary>
    HalfOpenList = 16,

    /// <summary>On its camera's closed list: yields its quota place first.</summary>
    ClosedList = 32,

    /// <summary>Handed to the engine's <see cref="IFlowOffload"/>: it must be told when the flow stops qualifying.</summary>
    Offloaded = 64,

    /// <summary>
    /// TCP: the engine's own sequence ends are stale, because the fast path forwarded segments it never saw. A FIN or
    /// RST is then judged against the ends the fast path tracked (<c>IFlowOffload.TryReadSequenceEnds</c>), and once
    /// the flow leaves the fast path the engine takes those over and clears this flag. Only a fast path that cannot
    /// say leaves FIN and RST unchecked, as before sequence tracking (as Linux's flowtable hands offloaded flows back
    /// to conntrack in liberal mode).
    /// </summary>
    SequenceUnknown = 128,
}

/// <summary>Learn mode's marks on a flow.</summary>
[Flags]
internal enum FlowLearn : byte
{
    None = 0,

    /// <summary>Its camera is in learn mode: the table writes a closed note when the flow leaves.</summary>
    Noted = 1,

    /// <summary>TCP: the handshake completed at some point.</summary>
    Established = 2,
}

/// <summary>
/// A flow's identity, oriented to the camera rather than to the packet: (camera address, camera port) and
/// (peer address, peer port), so both directions of a flow find the same key without sorting endpoints.
/// Addresses are <see cref="IpAddr"/> halves (IPv4 mapped); <see cref="Family"/> and the VLAN tags are part of the
/// key, so an IPv4 and an IPv6 flow, or the same tuple on two VLANs, never collide. For an ICMP echo the camera
/// port holds the echo id and the peer port is 0; for a fragment the ports hold the fragment id.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal struct FlowKey
{
    public ulong CameraHi;
    public ulong CameraLo;
    public ulong PeerHi;
    public ulong PeerLo;
    public ushort CameraPort;
    public ushort PeerPort;
    public ushort OuterVlan;
    public ushort InnerVlan;
    public byte Protocol;
    public FlowKind Kind;

    /// <summary>0 for IPv4, 1 for IPv6.</summary>
    public byte Family;

    public readonly IpAddr Camera => new(new UInt128(CameraHi, CameraLo));

    public readonly IpAddr Peer => new(new UInt128(PeerHi, PeerLo));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FlowKey Create(IpAddr camera, ushort cameraPort, IpAddr peer, ushort peerPort, byte protocol, bool v6, ushort outerVlan, ushort innerVlan, FlowKind kind = FlowKind.Connection)
    {
        var (cameraHi, cameraLo) = IpIndex.Halves(camera.Value);
        var (peerHi, peerLo) = IpIndex.Halves(peer.Value);
        return new()
        {
            CameraHi = cameraHi,
            CameraLo = cameraLo,
            PeerHi = peerHi,
            PeerLo = peerLo,
            CameraPort = cameraPort,
            PeerPort = peerPort,
            OuterVlan = outerVlan,
            InnerVlan = innerVlan,
            Protocol = protocol,
            Kind = kind,
            Family = v6 ? (byte)1 : (byte)0,
        };
    }

    /// <summary>Ports, VLANs, protocol, kind and family packed into two words for hashing and comparing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong PackA() => ((ulong)CameraPort << 48) | ((ulong)PeerPort << 32) | ((ulong)OuterVlan << 16) | InnerVlan;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint PackB() => ((uint)Protocol << 16) | ((uint)Kind << 8) | Family;
}

/// <summary>
/// One slot of the flow table: the key fields flattened (a nested key struct would pad to 80 bytes) followed by
/// the state, then the flow's volume. 96 bytes, so 2^21 slots (what 1,000,000 flows need at a load factor under one
/// half) take 201 MB (pages are resident only once used).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FlowEntry
{
    public long ExpiresMs;
    public long CreatedMs;
    public ulong CameraHi;
    public ulong CameraLo;
    public ulong PeerHi;
    public ulong PeerLo;

    /// <summary>The version of the policy that admitted (or last re-checked) the flow.</summary>
    public uint PolicyVersion;
    public int CameraSlot;
    public ushort CameraPort;
    public ushort PeerPort;
    public ushort OuterVlan;
    public ushort InnerVlan;
    public byte Protocol;
    public FlowKind Kind;
    public byte Family;
    public FlowState State;
    public FlowFlags Flags;

    /// <summary>Who opened the flow, seen from the camera.</summary>
    public Direction Direction;

    /// <summary>For a fragment entry: bytes of fragment data the first fragment carried; a later one must start at or after it.</summary>
    public ushort FragmentEnd;

    /// <summary>
    /// TCP: one past the highest sequence number the opener has sent (SYN and FIN count one), as far as the engine
    /// saw it: where the opener's RST or FIN must fall.
    /// </summary>
    public uint OpenerSequenceEnd;

    /// <summary>TCP: the same for the responder; set by its SYN-ACK (<see cref="FlowFlags.Replied"/>).</summary>
    public uint ResponderSequenceEnd;

    /// <summary>
    /// Frames the flow carried, both ways (wraps after 2^32: a volume for learn mode, never a decision). Counted only while
    /// the flow is <see cref="FlowLearn.Noted"/> (its camera learns), and by the fast path's sync: the established path
    /// of every other camera does not pay for it.
    /// </summary>
    public uint Packets;

    /// <summary>Learn mode's marks (see <see cref="FlowLearn"/>).</summary>
    public FlowLearn Learn;

    /// <summary>Wire bytes of the frames the flow carried, both ways.</summary>
    public long Bytes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Matches(in FlowKey key)
        => CameraLo == key.CameraLo && PeerLo == key.PeerLo && CameraHi == key.CameraHi && PeerHi == key.PeerHi
            && CameraPort == key.CameraPort && PeerPort == key.PeerPort && OuterVlan == key.OuterVlan
            && InnerVlan == key.InnerVlan && Protocol == key.Protocol && Kind == key.Kind && Family == key.Family;

    public readonly FlowKey Key => new()
    {
        CameraHi = CameraHi,
        CameraLo = CameraLo,
        PeerHi = PeerHi,
        PeerLo = PeerLo,
        CameraPort = CameraPort,
        PeerPort = PeerPort,
        OuterVlan = OuterVlan,
        InnerVlan = InnerVlan,
        Protocol = Protocol,
        Kind = Kind,
        Family = Family,
    };

    public readonly bool IsHalfOpen => State is FlowState.SynSent or FlowState.SynReceived;

    /// <summary>Evicted first when the table is full: half-open TCP and datagram flows nobody answered.</summary>
    public readonly bool IsEvictable => IsHalfOpen || State is FlowState.Fragment
        || (State is FlowState.Datagram or FlowState.IcmpEcho && (Flags & FlowFlags.Replied) == 0);

    public void SetKey(in FlowKey key)
    {
        CameraHi = key.CameraHi;
        CameraLo = key.CameraLo;
        PeerHi = key.PeerHi;
        PeerLo = key.PeerLo;
        CameraPort = key.CameraPort;
        PeerPort = key.PeerPort;
        OuterVlan = key.OuterVlan;
        InnerVlan = key.InnerVlan;
        Protocol = key.Protocol;
        Kind = key.Kind;
        Family = key.Family;
    }
}
