using System.Buffers.Binary;

namespace Appliance.Core.Wire;

/// <summary>
/// A view of the fixed part of a BOOTP/DHCP message (RFC 951, RFC 2131 section 2) in a UDP payload: the fields the
/// engine decides on. Options are not read.
/// </summary>
public readonly ref struct DhcpHeader
{
    /// <summary>op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr (16), sname (64), file (128).</summary>
    public const int FixedLength = 236;

    /// <summary>BOOTREQUEST: client to server.</summary>
    public const byte BootRequest = 1;

    /// <summary>BOOTREPLY: server to client.</summary>
    public const byte BootReply = 2;

    /// <summary>The ARP hardware type of Ethernet (RFC 1700), the only one whose client address is a MAC.</summary>
    public const byte EthernetHardwareType = 1;

    private const int OpOffset = 0;
    private const int HardwareTypeOffset = 1;
    private const int HardwareLengthOffset = 2;
    private const int TransactionIdOffset = 4;
    private const int FlagsOffset = 10;
    private const int YourAddressOffset = 16;
    private const int ClientHardwareAddressOffset = 28;

    private readonly ReadOnlySpan<byte> _message;

    private DhcpHeader(ReadOnlySpan<byte> message) => _message = message;

    /// <summary>Wraps a UDP payload; false when it is shorter than the fixed BOOTP header.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> payload, out DhcpHeader header)
    {
        if (payload.Length < FixedLength)
        {
            header = default;
            return false;
        }

        header = new DhcpHeader(payload[..FixedLength]);
        return true;
    }

    /// <summary>1 BOOTREQUEST, 2 BOOTREPLY.</summary>
    public byte Op => _message[OpOffset];

    /// <summary>Hardware address type (1: Ethernet).</summary>
    public byte HardwareType => _message[HardwareTypeOffset];

    /// <summary>Hardware address length (6 for Ethernet).</summary>
    public byte HardwareLength => _message[HardwareLengthOffset];

    /// <summary>Transaction id chosen by the client.</summary>
    public uint TransactionId => BinaryPrimitives.ReadUInt32BigEndian(_message[TransactionIdOffset..]);

    /// <summary>The broadcast bit (the client cannot receive unicast before it has an address).</summary>
    public bool Broadcast => (_message[FlagsOffset] & 0x80) != 0;

    /// <summary>yiaddr: the address the server offers or assigns.</summary>
    public IpAddr YourAddress => IpAddr.FromV4(BinaryPrimitives.ReadUInt32BigEndian(_message[YourAddressOffset..]));

    /// <summary>True when chaddr holds an Ethernet MAC (htype 1, hlen 6).</summary>
    public bool HasEthernetClient => HardwareType == EthernetHardwareType && HardwareLength == 6;

    /// <summary>chaddr's first six bytes: the client's MAC when <see cref="HasEthernetClient"/>.</summary>
    public MacAddress ClientMac => MacAddress.Read(_message.Slice(ClientHardwareAddressOffset, 6));
}
