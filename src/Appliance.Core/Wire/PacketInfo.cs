using System.Runtime.InteropServices;

namespace Appliance.Core.Wire;

/// <summary>What the frame carries at layer 3.</summary>
public enum L3Kind : byte
{
    /// <summary>Nothing parsed at layer 3 (a parse error before it); the engine drops such a frame.</summary>
    None = 0,
    /// <summary>Ethernet/IPv4 ARP: the ARP fields are set, the IP fields are not.</summary>
    Arp = 1,
    /// <summary>IPv4: the IP fields are set, addresses stored IPv4-mapped.</summary>
    Ipv4 = 2,
    /// <summary>IPv6: the IP fields are set, <see cref="PacketInfo.Protocol"/> is the protocol after the extension headers.</summary>
    Ipv6 = 3,
}

/// <summary>
/// Everything the decision needs from one frame, filled by <c>FrameParser</c> from header views. A flat value
/// type on the caller's stack: parsing allocates nothing. Valid only when <see cref="Error"/> is 0; after a parse
/// error the fields parsed so far are kept (for reporting) and the rest are zero.
/// </summary>
[StructLayout(LayoutKind.Auto)]
public struct PacketInfo
{
    /// <summary>0 when the frame parsed; otherwise the malformed-input reason to drop it with.</summary>
    public Reason Error;

    // ---- Layer 2 (zero for an L3 entry point) ----
    /// <summary>True when the frame was parsed from its Ethernet header (false for the raw-IP entry point).</summary>
    public bool HasEthernet;
    /// <summary>Ethernet source address.</summary>
    public MacAddress SourceMac;
    /// <summary>Ethernet destination address.</summary>
    public MacAddress DestinationMac;

    /// <summary>The innermost EtherType after VLAN tags.</summary>
    public ushort EtherType;

    /// <summary>Number of 802.1Q/802.1ad tags.</summary>
    public byte VlanCount;

    /// <summary>Outer VLAN id (12 bits), 0 when untagged.</summary>
    public ushort OuterVlan;

    /// <summary>Inner VLAN id for QinQ, 0 otherwise.</summary>
    public ushort InnerVlan;

    /// <summary>Which layer-3 fields below are valid.</summary>
    public L3Kind Kind;

    // ---- ARP (Kind == Arp): Ethernet/IPv4 ARP only ----
    /// <summary>ARP operation: 1 request, 2 reply (anything else fails the parse).</summary>
    public ushort ArpOperation;
    /// <summary>ARP sender hardware address, checked against <see cref="SourceMac"/> and the listed devices.</summary>
    public MacAddress ArpSenderMac;
    /// <summary>ARP sender protocol address (IPv4-mapped).</summary>
    public IpAddr ArpSenderIp;
    /// <summary>ARP target hardware address (usually zero in a request).</summary>
    public MacAddress ArpTargetMac;
    /// <summary>ARP target protocol address (IPv4-mapped).</summary>
    public IpAddr ArpTargetIp;

    // ---- IP (Kind == Ipv4 or Ipv6) ----
    /// <summary>IP source address (IPv4 stored IPv4-mapped).</summary>
    public IpAddr Source;
    /// <summary>IP destination address (IPv4 stored IPv4-mapped).</summary>
    public IpAddr Destination;

    /// <summary>The upper-layer protocol after IPv6 extension headers (6, 17, 1, 58...).</summary>
    public byte Protocol;

    /// <summary>Bytes of the IP packet by its own length fields (may be less than the frame: Ethernet padding).</summary>
    public int IpLength;

    /// <summary>IPv4 TTL or IPv6 hop limit (neighbour discovery must arrive with 255, RFC 4861).</summary>
    public byte Ttl;

    /// <summary>Offset of the ARP or IP header in the parsed span (after Ethernet and VLAN tags; 0 for the L3 entry).</summary>
    public int L3Offset;

    // Fragments: IsFragment is set for any fragment (MF set or offset non-zero, or an IPv6 fragment header).
    /// <summary>Set for any fragment: IPv4 MF set or a non-zero offset, or an IPv6 fragment header.</summary>
    public bool IsFragment;

    /// <summary>Offset in 8-byte units; 0 for the first fragment.</summary>
    public ushort FragmentOffset;
    /// <summary>The MF flag: more fragments of this datagram follow.</summary>
    public bool MoreFragments;

    /// <summary>IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).</summary>
    public uint FragmentId;

    /// <summary>
    /// For a fragment, the bytes of fragment data it carries (after the IPv4 header, or after the IPv6 fragment
    /// header). The parser does not reassemble; a flow table that remembers where the first fragment ended can drop
    /// a later fragment starting before that point (an overlap, which RFC 5722 forbids and RFC 1858 warns of).
    /// </summary>
    public int FragmentDataLength;

    // ---- Layer 4 (HasL4: unfragmented, or the first fragment) ----
    /// <summary>True when the layer-4 fields are valid: an unfragmented packet or a first fragment (later fragments carry no header).</summary>
    public bool HasL4;
    /// <summary>TCP/UDP source port; 0 otherwise.</summary>
    public ushort SourcePort;
    /// <summary>TCP/UDP destination port; 0 otherwise.</summary>
    public ushort DestinationPort;

    /// <summary>TCP flags byte (FIN=0x01, SYN=0x02, RST=0x04, PSH=0x08, ACK=0x10, URG=0x20, ECE=0x40, CWR=0x80).</summary>
    public byte TcpFlags;

    /// <summary>TCP sequence number (host order).</summary>
    public uint TcpSequence;

    /// <summary>TCP acknowledgment number (host order); meaningful when the ACK flag is set.</summary>
    public uint TcpAcknowledgment;

    /// <summary>ICMP/ICMPv6 type when the protocol is ICMP or ICMPv6.</summary>
    public byte IcmpType;
    /// <summary>ICMP/ICMPv6 code when the protocol is ICMP or ICMPv6.</summary>
    public byte IcmpCode;

    /// <summary>ICMP/ICMPv6 echo identifier (echo request/reply only).</summary>
    public ushort IcmpEchoId;

    /// <summary>Offset of the TCP/UDP/ICMP header in the parsed span; valid when <see cref="HasL4"/>.</summary>
    public int L4Offset;

    /// <summary>
    /// Offset of the data after the layer-4 header (after TCP options, the UDP header, or the 8-byte ICMP header)
    /// in the parsed span; valid when <see cref="HasL4"/>.
    /// </summary>
    public int PayloadOffset;

    /// <summary>
    /// Bytes of layer-4 data inside the IP length from <see cref="PayloadOffset"/> (for UDP, by the UDP length; for a
    /// first fragment, only what this fragment carries).
    /// </summary>
    public int PayloadLength;

    // ---- The packet quoted by an ICMP/ICMPv6 error (destination unreachable, time exceeded, packet too big...) ----
    /// <summary>True for an ICMP/ICMPv6 error whose quoted packet parsed: the engine passes it only if the quote names a tracked flow.</summary>
    public bool HasQuote;
    /// <summary>Source address of the quoted packet (the original sender, usually the camera or its peer).</summary>
    public IpAddr QuoteSource;
    /// <summary>Destination address of the quoted packet.</summary>
    public IpAddr QuoteDestination;
    /// <summary>IP protocol of the quoted packet.</summary>
    public byte QuoteProtocol;

    /// <summary>Quoted ports (TCP/UDP) or the quoted echo id in <see cref="QuoteSourcePort"/> (ICMP echo).</summary>
    public ushort QuoteSourcePort;
    /// <summary>Quoted destination port (TCP/UDP); 0 for a quoted echo.</summary>
    public ushort QuoteDestinationPort;

    // ---- BOOTP/DHCP (UDP between ports 67 and 68 whose payload holds the fixed BOOTP header) ----

    /// <summary>The UDP payload is a BOOTP/DHCP message with an Ethernet client hardware address.</summary>
    public bool HasDhcp;

    /// <summary>BOOTP op: 1 request, 2 reply (<see cref="DhcpHeader"/>).</summary>
    public byte DhcpOp;

    /// <summary>chaddr: the MAC of the client the message is from or for.</summary>
    public MacAddress DhcpClientMac;
}
