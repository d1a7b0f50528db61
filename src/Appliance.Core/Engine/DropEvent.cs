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
    /// <summary>IP source, or for ARP the sender protocol address.</summary>
    public IpAddr Source;
    /// <summary>IP destination, or for ARP the target protocol address.</summary>
    public IpAddr Destination;
    /// <summary>Ethernet source: with the IP addresses, what tells a spoofing device from the camera it imitates.</summary>
    public MacAddress SourceMac;
    /// <summary>Ethernet destination.</summary>
    public MacAddress DestinationMac;
    /// <summary>Version of the policy that decided, 0 when none was loaded; lets a report name the rule set of its time.</summary>
    public uint PolicyVersion;
    /// <summary>The camera's counter slot (resolved to a name through the policy's slot registry), or <see cref="Verdict.NoCamera"/>.</summary>
    public int CameraSlot;
    /// <summary>Index of the deciding rule in the policy's rule ids, or <see cref="Verdict.NoRule"/>.</summary>
    public int RuleIndex;
    /// <summary>Length of the whole frame in bytes, as received.</summary>
    public int FrameLength;
    /// <summary>TCP/UDP source port; 0 for other protocols and non-first fragments.</summary>
    public ushort SourcePort;
    /// <summary>TCP/UDP destination port; 0 for other protocols and non-first fragments.</summary>
    public ushort DestinationPort;
    /// <summary>Why it was dropped (or, for a monitored frame, why it would have been; for a logged match, why it passed).</summary>
    public Reason Reason;
    /// <summary>Outer VLAN id, 0 when untagged.</summary>
    public ushort Vlan;
    /// <summary>The innermost EtherType after any VLAN tags (0x0800, 0x86DD, 0x0806...).</summary>
    public ushort EtherType;
    /// <summary>IP protocol number (6, 17, 1, 58...), 0 when not IP.</summary>
    public byte Protocol;
    /// <summary>Egress when the frame came from the camera side, ingress when from the uplink.</summary>
    public Direction Direction;
    /// <summary>The port the frame arrived on.</summary>
    public Side Side;
    /// <summary>What was done with the frame: Pass for monitored frames and logged matches, Drop otherwise.</summary>
    public VerdictAction Action;
    /// <summary>True when the frame passed only because of monitor mode.</summary>
    public bool Monitored;
    /// <summary>True for a logged rule match (<c>log: true</c>) rather than a drop.</summary>
    public bool IsLoggedMatch;
    /// <summary>ICMP type when <see cref="Protocol"/> is ICMP or ICMPv6.</summary>
    public byte IcmpType;
    /// <summary>ICMP code when <see cref="Protocol"/> is ICMP or ICMPv6.</summary>
    public byte IcmpCode;

    /// <summary>
    /// The name the camera had last resolved to the peer's address when the frame was decided, as a handle into the
    /// engine's <see cref="DnsNameTable"/> (cell + 1, so the default 0 means none); read it with
    /// <see cref="DropEventRing.NameOf"/>. A handle, not text, so the data path writes it without allocating.
    /// </summary>
    public int PeerNameCell;

    /// <summary>The generation of <see cref="PeerNameCell"/> when it was captured (a reused cell reads as no name).</summary>
    public int PeerNameGeneration;

    /// <summary>
    /// For a refused or suspicious DNS query: the name it asked about, as a stamp into the engine's
    /// <see cref="DnsQueryNameLog"/> (0: none). Reports show it where they show the peer's name.
    /// </summary>
    public int QueryName;
}
