using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of an Ethernet/IPv4 ARP packet (RFC 826). Only that combination exists on a camera network, so any
/// other hardware or protocol type, address length or operation is <see cref="Reason.BadArp"/>: an ARP variant the
/// engine cannot bind to a MAC/IP pair must not reach the "no rule matched" path.
/// </summary>
public readonly ref struct ArpPacket
{
    /// <summary>The Ethernet/IPv4 ARP body; Ethernet padding after it is ignored.</summary>
    public const int Length = 28;

    /// <summary>ARP request.</summary>
    public const ushort OperationRequest = 1;

    /// <summary>ARP reply.</summary>
    public const ushort OperationReply = 2;

    private const int HardwareTypeOffset = 0;
    private const int ProtocolTypeOffset = 2;
    private const int HardwareLengthOffset = 4;
    private const int ProtocolLengthOffset = 5;
    private const int OperationOffset = 6;
    private const int SenderMacOffset = 8;
    private const int SenderIpOffset = 14;
    private const int TargetMacOffset = 18;
    private const int TargetIpOffset = 24;

    private const ushort HardwareEthernet = 1;

    private readonly ReadOnlySpan<byte> _buffer;

    private ArpPacket(ReadOnlySpan<byte> buffer) => _buffer = buffer;

    /// <summary>
    /// Wraps an ARP body: <see cref="Reason.TruncatedArp"/> when shorter than 28 bytes, <see cref="Reason.BadArp"/>
    /// unless it is Ethernet (1) / IPv4 (0x0800) with lengths 6/4 and operation request or reply.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<byte> buffer, out ArpPacket packet, out Reason error)
    {
        packet = default;
        if (buffer.Length < Length)
        {
            error = Reason.TruncatedArp;
            return false;
        }

        var operation = BinaryPrimitives.ReadUInt16BigEndian(buffer[OperationOffset..]);
        if (BinaryPrimitives.ReadUInt16BigEndian(buffer[HardwareTypeOffset..]) != HardwareEthernet
            || BinaryPrimitives.ReadUInt16BigEndian(buffer[ProtocolTypeOffset..]) != EtherTypes.Ipv4
            || buffer[HardwareLengthOffset] != 6
            || buffer[ProtocolLengthOffset] != 4
            || operation is not (OperationRequest or OperationReply))
        {
            error = Reason.BadArp;
            return false;
        }

        packet = new ArpPacket(buffer[..Length]);
        error = 0;
        return true;
    }

    /// <summary>1 request, 2 reply.</summary>
    public ushort Operation => BinaryPrimitives.ReadUInt16BigEndian(_buffer[OperationOffset..]);

    /// <summary>Sender hardware address.</summary>
    public MacAddress SenderMac => MacAddress.Read(_buffer.Slice(SenderMacOffset, 6));

    /// <summary>Sender protocol address.</summary>
    public IpAddr SenderIp => IpAddr.ReadV4(_buffer.Slice(SenderIpOffset, 4));

    /// <summary>Target hardware address (zero in a request).</summary>
    public MacAddress TargetMac => MacAddress.Read(_buffer.Slice(TargetMacOffset, 6));

    /// <summary>Target protocol address.</summary>
    public IpAddr TargetIp => IpAddr.ReadV4(_buffer.Slice(TargetIpOffset, 4));
}
