using System.Runtime.InteropServices;

namespace Appliance.Core.Engine;

/// <summary>
/// One decision worth reporting (a drop, a monitored would-be drop, or a logged rule match), as the data path
/// writes it into the <see cref="DropEventRing"/>. Blittable; no references, so the ring is one flat array.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct DropEvent
{
    /// <summary>Engine clock, milliseconds (the <c>nowMs</c> passed to the engine).</summary>
    public long TimestampMs;
    public IpAddr Source;
    public IpAddr Destination;
    public MacAddress SourceMac;
    public MacAddress DestinationMac;
    public uint PolicyVersion;
    public int CameraSlot;
    public int RuleIndex;
    public int FrameLength;
    public ushort SourcePort;
    public ushort DestinationPort;
    public Reason Reason;
    public ushort Vlan;
    public ushort EtherType;
    /// <summary>IP protocol number (6, 17, 1, 58...), 0 when not IP.</summary>
    public byte Protocol;
    public Direction Direction;
    public Side Side;
    public VerdictAction Action;
    /// <summary>True when the frame passed only because of monitor mode.</summary>
    public bool Monitored;
    /// <summary>True for a logged rule match (<c>log: true</c>) rather than a drop.</summary>
    public bool IsLoggedMatch;
    /// <summary>ICMP type/code when <see cref="Protocol"/> is ICMP or ICMPv6.</summary>
    public byte IcmpType;
    public byte IcmpCode;

    /// <summary>
    /// The name the camera had last resolved to the peer's address when the frame was decided, as a handle into the
    /// engine's <see cref="DnsNameTable"/> (cell + 1, so the default 0 means none); read it with
    /// <see cref="DropEventRing.NameOf"/>. A handle, not text, so the data path writes it without allocating.
    /// </summary>
    public int PeerNameCell;

    /// <summary>The generation of <see cref="PeerNameCell"/> when it was captured (a reused cell reads as no name).</summary>
    public int PeerNameGeneration;
}
