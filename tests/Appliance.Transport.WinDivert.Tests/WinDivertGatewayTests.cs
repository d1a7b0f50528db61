using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert.Tests;

public sealed class WinDivertGatewayTests
{
    private readonly struct PassAll : IPacketDecider
    {
        public Verdict ProcessPacket(ReadOnlySpan<byte> packet, Side side, long nowMs) => Verdict.Pass(Reason.RuleMatch);

        public void Maintain(long nowMs)
        {
        }
    }

    [Fact]
    public void Open_OnLinux_ThrowsPlatformNotSupportedNamingTheAlternative()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // this test is about every other OS; CI runs it on Linux
        }

        var ex = Assert.Throws<PlatformNotSupportedException>(
            () => WinDivertGateway.Open(new PassAll(), new WinDivertGatewayOptions { CameraInterfaceIndex = 7 }));

        Assert.Contains("only on Windows", ex.Message, StringComparison.Ordinal);
        Assert.Contains("libpcap bridge", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WinDivertAddress_Layout_MatchesWindivertH()
    {
        // windivert.h: INT64 Timestamp; UINT32 bit-fields; UINT32 Reserved2; a 64-byte union: 80 bytes.
        Assert.Equal(80, Marshal.SizeOf<WinDivertAddress>());
        Assert.Equal(0, (int)Marshal.OffsetOf<WinDivertAddress>(nameof(WinDivertAddress.Timestamp)));
        Assert.Equal(8, (int)Marshal.OffsetOf<WinDivertAddress>(nameof(WinDivertAddress.Bits)));
        Assert.Equal(16, (int)Marshal.OffsetOf<WinDivertAddress>(nameof(WinDivertAddress.InterfaceIndex)));
        Assert.Equal(20, (int)Marshal.OffsetOf<WinDivertAddress>(nameof(WinDivertAddress.SubInterfaceIndex)));
    }

    [Theory]
    // Layer 1 (NETWORK_FORWARD), Outbound (bit 17): a forwarded packet.
    [InlineData(0x0002_0001u, 1, true, false)]
    // Layer 0, IPv6 (bit 20), inbound.
    [InlineData(0x0010_0000u, 0, false, true)]
    // Layer 1, Outbound and IPv6.
    [InlineData(0x0012_0001u, 1, true, true)]
    public void WinDivertAddress_Bits_DecodeLikeMsvcBitFields(uint bits, int layer, bool outbound, bool ipv6)
    {
        var address = new WinDivertAddress { Bits = bits };

        Assert.Equal(layer, address.Layer);
        Assert.Equal(outbound, address.Outbound);
        Assert.Equal(ipv6, address.IsIpv6);
    }

    [Theory]
    // IPv4, total length 0x003c = 60.
    [InlineData("45000 03c 0000 0000 4011 0000 c0000201 c0000202", 60)]
    // IPv6, payload length 8: 40 + 8.
    [InlineData("60000000 0008 1140 20010db8000000000000000000000001 20010db8000000000000000000000002", 48)]
    // Version 5: not IP.
    [InlineData("50000000", 0)]
    // IPv4 header cut short.
    [InlineData("4500003c", 0)]
    public void PacketLength_HeaderTable(string hex, int expected)
        => Assert.Equal(expected, WinDivertGateway.PacketLength(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal))));
}
