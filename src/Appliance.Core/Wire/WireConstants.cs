namespace Appliance.Core.Wire;

/// <summary>TCP header flag bits as they sit in byte 13 of the header (and in <see cref="PacketInfo.TcpFlags"/>).</summary>
[Flags]
public enum TcpFlags : byte
{
    /// <summary>No flag set.</summary>
    None = 0,

    /// <summary>No more data from sender.</summary>
    Fin = 0x01,

    /// <summary>Synchronise sequence numbers (connection opener).</summary>
    Syn = 0x02,

    /// <summary>Reset the connection.</summary>
    Rst = 0x04,

    /// <summary>Push function.</summary>
    Psh = 0x08,

    /// <summary>The acknowledgment field is significant.</summary>
    Ack = 0x10,

    /// <summary>The urgent pointer is significant.</summary>
    Urg = 0x20,

    /// <summary>ECN echo.</summary>
    Ece = 0x40,

    /// <summary>Congestion window reduced.</summary>
    Cwr = 0x80,
}

/// <summary>EtherType values the parser understands (IEEE 802 numbers).</summary>
public static class EtherTypes
{
    /// <summary>Internet Protocol version 4.</summary>
    public const ushort Ipv4 = 0x0800;

    /// <summary>Address Resolution Protocol.</summary>
    public const ushort Arp = 0x0806;

    /// <summary>Internet Protocol version 6.</summary>
    public const ushort Ipv6 = 0x86DD;

    /// <summary>IEEE 802.1Q customer VLAN tag (C-tag).</summary>
    public const ushort Vlan = 0x8100;

    /// <summary>IEEE 802.1ad service VLAN tag (S-tag, QinQ outer tag).</summary>
    public const ushort QinQ = 0x88A8;

    /// <summary>Pre-standard QinQ outer tag some switches still emit.</summary>
    public const ushort QinQLegacy = 0x9100;

    /// <summary>True for any TPID the parser treats as a VLAN tag.</summary>
    public static bool IsVlanTag(ushort etherType) => etherType is Vlan or QinQ or QinQLegacy;
}

/// <summary>IP protocol / IPv6 next-header numbers (IANA "Assigned Internet Protocol Numbers").</summary>
public static class IpProtocols
{
    /// <summary>IPv6 hop-by-hop options header; only valid directly after the fixed IPv6 header.</summary>
    public const byte HopByHop = 0;

    /// <summary>Internet Control Message Protocol (IPv4).</summary>
    public const byte Icmp = 1;

    /// <summary>Transmission Control Protocol.</summary>
    public const byte Tcp = 6;

    /// <summary>User Datagram Protocol.</summary>
    public const byte Udp = 17;

    /// <summary>IPv6 routing header.</summary>
    public const byte Routing = 43;

    /// <summary>IPv6 fragment header.</summary>
    public const byte Fragment = 44;

    /// <summary>Encapsulating Security Payload: opaque, ends the parseable chain.</summary>
    public const byte Esp = 50;

    /// <summary>Authentication Header (IPv4 or IPv6); its length is in 4-byte units.</summary>
    public const byte Ah = 51;

    /// <summary>ICMP for IPv6.</summary>
    public const byte Icmpv6 = 58;

    /// <summary>IPv6 "no next header".</summary>
    public const byte NoNextHeader = 59;

    /// <summary>IPv6 destination options header.</summary>
    public const byte DestinationOptions = 60;
}
