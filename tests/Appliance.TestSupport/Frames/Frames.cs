using Appliance.Core;
using Appliance.Core.Wire;

namespace Appliance.TestSupport.Frames;

/// <summary>One-line shortcuts over <see cref="FrameBuilder"/> for the common frames, plus hex helpers.</summary>
public static class Frames
{
    /// <summary>Locally administered unicast MACs for tests.</summary>
    public static readonly MacAddress CameraMac = Mac("02:00:00:00:0c:01");

    /// <summary>A second camera-side MAC.</summary>
    public static readonly MacAddress OtherCameraMac = Mac("02:00:00:00:0c:02");

    /// <summary>An NVR / uplink-side MAC.</summary>
    public static readonly MacAddress NvrMac = Mac("02:00:00:00:0a:01");

    /// <summary>The uplink router's MAC.</summary>
    public static readonly MacAddress RouterMac = Mac("02:00:00:00:0a:fe");

    /// <summary>Parses a MAC or throws (test data only).</summary>
    public static MacAddress Mac(string text)
        => MacAddress.TryParse(text, out var mac) ? mac : throw new ArgumentException($"Bad MAC '{text}'.", nameof(text));

    /// <summary>TCP over IPv4 or IPv6 (by address syntax) in Ethernet.</summary>
    public static FrameBuilder Tcp(MacAddress srcMac, MacAddress dstMac, string srcIp, string dstIp, ushort srcPort, ushort dstPort, TcpFlags flags)
        => FrameBuilder.Ethernet(srcMac, dstMac).Ip(srcIp, dstIp).Tcp(srcPort, dstPort, flags);

    /// <summary>UDP over IPv4 or IPv6 (by address syntax) in Ethernet.</summary>
    public static FrameBuilder Udp(MacAddress srcMac, MacAddress dstMac, string srcIp, string dstIp, ushort srcPort, ushort dstPort)
        => FrameBuilder.Ethernet(srcMac, dstMac).Ip(srcIp, dstIp).Udp(srcPort, dstPort);

    /// <summary>ICMP/ICMPv6 echo request (or reply) in Ethernet.</summary>
    public static FrameBuilder Echo(MacAddress srcMac, MacAddress dstMac, string srcIp, string dstIp, ushort id, ushort sequence = 1, bool reply = false)
        => FrameBuilder.Ethernet(srcMac, dstMac).Ip(srcIp, dstIp).Echo(id, sequence, reply);

    /// <summary>
    /// An ICMP/ICMPv6 error from <paramref name="srcIp"/> quoting the first <paramref name="quoteLength"/> bytes
    /// (all when null) of <paramref name="quoted"/>'s IP packet.
    /// </summary>
    public static FrameBuilder IcmpError(MacAddress srcMac, MacAddress dstMac, string srcIp, string dstIp, byte type, byte code, FrameBuilder quoted, int? quoteLength = null)
    {
        var packet = quoted.ToIpPacket();
        var cut = quoteLength is { } n ? packet.AsSpan(0, Math.Min(n, packet.Length)).ToArray() : packet;
        return FrameBuilder.Ethernet(srcMac, dstMac).Ip(srcIp, dstIp).IcmpError(type, code, cut);
    }

    /// <summary>Broadcast ARP request.</summary>
    public static FrameBuilder ArpRequest(MacAddress senderMac, string senderIp, string targetIp)
        => FrameBuilder.Ethernet(senderMac, MacAddress.Broadcast).ArpRequest(senderMac, senderIp, targetIp);

    /// <summary>Unicast ARP reply.</summary>
    public static FrameBuilder ArpReply(MacAddress senderMac, string senderIp, MacAddress targetMac, string targetIp)
        => FrameBuilder.Ethernet(senderMac, targetMac).ArpReply(senderMac, senderIp, targetMac, targetIp);

    /// <summary>A bare IPv4/IPv6 packet (no Ethernet) for the L3 entry point.</summary>
    public static FrameBuilder Ip(string srcIp, string dstIp) => FrameBuilder.IpPacket().Ip(srcIp, dstIp);

    /// <summary>Bytes from hex; whitespace, ':' and '-' are ignored.</summary>
    public static byte[] FromHex(string hex)
    {
        var clean = new System.Text.StringBuilder(hex.Length);
        foreach (var c in hex)
        {
            if (!char.IsWhiteSpace(c) && c is not ':' and not '-')
            {
                clean.Append(c);
            }
        }

        return Convert.FromHexString(clean.ToString());
    }

    /// <summary>Lowercase hex.</summary>
    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
