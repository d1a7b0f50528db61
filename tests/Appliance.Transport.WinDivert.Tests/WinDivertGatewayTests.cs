using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.TestSupport;
using Appliance.Transport.WinDivert.Native;

namespace Appliance.Transport.WinDivert.Tests;

public sealed class WinDivertGatewayTests
{
    private const string CameraV4 = "10.20.0.5";
    private const string CameraV6 = "2001:db8:20::5";
    private const string UplinkV4 = "198.51.100.7";
    private const string UplinkV6 = "2001:db8:99::7";

    [Fact]
    public void Open_OnLinux_ThrowsPlatformNotSupportedNamingTheAlternative()
    {
        Assert.False(OperatingSystem.IsWindows(), "this test is about every other OS; CI runs it on Linux");
        var decider = new RecordingDecider();
        var options = new Harness().Options;

        var ex = Assert.Throws<PlatformNotSupportedException>(() => WinDivertGateway.Open(decider, decider, options));

        Assert.Contains("only on Windows", ex.Message, StringComparison.Ordinal);
        Assert.Contains("libpcap bridge", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TurnForwardingOff_OnLinux_ThrowsPlatformNotSupported()
    {
        var ex = Assert.Throws<PlatformNotSupportedException>(() => GatewayFailsafe.TurnForwardingOff([7, 3]));

        Assert.Contains("only on Windows", ex.Message, StringComparison.Ordinal);
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

    [Fact]
    public void MibIpInterfaceRow_Layout_MatchesNetioapiH()
    {
        // netioapi.h MIB_IPINTERFACE_ROW on x64: Family at 0, InterfaceLuid 8, InterfaceIndex 16, ForwardingEnabled
        // 41 (second BOOLEAN after the two router-advertisement ULONGs at 32 and 36), SitePrefixLength 144, 168 bytes.
        Assert.Equal(168, Marshal.SizeOf<MibIpInterfaceRow>());
        Assert.Equal(8, (int)Marshal.OffsetOf<MibIpInterfaceRow>(nameof(MibIpInterfaceRow.InterfaceLuid)));
        Assert.Equal(16, (int)Marshal.OffsetOf<MibIpInterfaceRow>(nameof(MibIpInterfaceRow.InterfaceIndex)));
        Assert.Equal(41, (int)Marshal.OffsetOf<MibIpInterfaceRow>(nameof(MibIpInterfaceRow.ForwardingEnabled)));
        Assert.Equal(144, (int)Marshal.OffsetOf<MibIpInterfaceRow>(nameof(MibIpInterfaceRow.SitePrefixLength)));
    }

    [Theory]
    // Layer 1 (NETWORK_FORWARD), Outbound (bit 17): a forwarded packet.
    [InlineData(0x0002_0001u, 1, true, false, false, false)]
    // Layer 0, IPv6 (bit 20), inbound.
    [InlineData(0x0010_0000u, 0, false, true, false, false)]
    // Layer 1, Outbound and IPv6.
    [InlineData(0x0012_0001u, 1, true, true, false, false)]
    // Layer 0, Outbound, Loopback (bit 18), Impostor (bit 19).
    [InlineData(0x000E_0000u, 0, true, false, true, true)]
    public void WinDivertAddress_Bits_DecodeLikeMsvcBitFields(uint bits, int layer, bool outbound, bool ipv6, bool loopback, bool impostor)
    {
        var address = new WinDivertAddress { Bits = bits };

        Assert.Equal(layer, address.Layer);
        Assert.Equal(outbound, address.Outbound);
        Assert.Equal(ipv6, address.IsIpv6);
        Assert.Equal(loopback, address.Loopback);
        Assert.Equal(impostor, address.Impostor);
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
    // IPv4 total length 19, below the 20-byte header it declares.
    [InlineData("45000013 0000 0000 4011 0000 c0000201 c0000202", 0)]
    // IPv4 IHL 6 (24 bytes) with total length 22.
    [InlineData("46000016 0000 0000 4011 0000 c0000201 c0000202 00000000", 0)]
    // IPv4 IHL 4: below the minimum header.
    [InlineData("44000014 0000 0000 4011 0000 c0000201 c0000202", 0)]
    public void PacketLength_HeaderTable(string hex, int expected)
        => Assert.Equal(expected, WinDivertGateway.PacketLength(Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal))));

    [Theory]
    // Pass/drop patterns over a mixed IPv4/IPv6 batch routed out of the uplink from the camera side.
    [InlineData("PPPP")]
    [InlineData("PDPD")]
    [InlineData("DPDP")]
    [InlineData("DDDP")]
    [InlineData("PDDD")]
    public async Task Loop_BatchWithPassDropPattern_ReinjectsPassedBytesAndAddressesUnchanged(string pattern)
    {
        var h = new Harness();
        var packets = Enumerable.Range(0, pattern.Length)
            .Select(i => i % 2 == 0 ? Harness.V4(CameraV4, UplinkV4, 8 + i, (byte)i) : Harness.V6(CameraV6, UplinkV6, 8 + i, (byte)i))
            .Select(p => (Packet: p, Address: Harness.Address(p, Harness.Uplink)))
            .ToArray();
        h.Forward.Pass = (p, _) => pattern[p[^1]] == 'P';
        await using var gateway = await h.StartedAsync();

        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch(packets));
        await Eventually.TrueAsync(() => h.Forward.Seen.Count == pattern.Length, "every packet decided");
        await Eventually.TrueAsync(() => h.Fake.Sent.Count == 1, "one re-injection");

        var expected = packets.Where((_, i) => pattern[i] == 'P').ToArray();
        var sent = Assert.Single(h.Fake.Sent);
        Assert.Equal("forward", sent.Layer);
        Assert.Equal(expected.SelectMany(p => p.Packet).ToArray(), sent.Packets);
        Assert.Equal(expected.Select(p => p.Address).ToArray(), sent.Addresses);
        Assert.All(h.Forward.Seen, s => Assert.Equal(Side.Camera, s.Side));
        Assert.Equal(expected.Length, gateway.Report().Camera!.Traffic.FramesForwarded);
        Assert.Equal(pattern.Length - expected.Length, gateway.Report().Camera!.Traffic.FramesDropped);
    }

    [Fact]
    public async Task Loop_BatchAllDropped_SendsNothing()
    {
        var h = new Harness();
        h.Forward.Pass = (_, _) => false;
        await using var gateway = await h.StartedAsync();
        var a = Harness.V4(UplinkV4, CameraV4);
        var b = Harness.V6(UplinkV6, CameraV6);

        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((a, Harness.Address(a, Harness.Camera)), (b, Harness.Address(b, Harness.Camera))));
        await Eventually.TrueAsync(() => h.Forward.Seen.Count == 2, "both decided");

        // Positive control: a later passed packet is sent, so the loop did reach the send step after the dropped batch.
        h.Forward.Pass = (_, _) => true;
        var c = Harness.V4(UplinkV4, CameraV4, marker: 9);
        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((c, Harness.Address(c, Harness.Camera))));
        await Eventually.TrueAsync(() => h.Fake.Sent.Count > 0, "the control packet sent");
        Assert.Equal(c, Assert.Single(h.Fake.Sent).Packets);
        Assert.Equal(2, gateway.Report().Uplink!.Traffic.FramesDropped);
    }

    public static TheoryData<string, bool, uint, bool, bool, Side?> Sides() => new()
    {
        // Forward layer: IfIdx is the interface the packet leaves by.
        { "towards a camera: from the uplink side", true, Harness.Camera, false, false, Side.Uplink },
        { "out of the uplink, source a camera network's: from the camera side", true, Harness.Uplink, true, false, Side.Camera },
        { "out of the uplink, source not a camera network's: uplink to uplink, not camera traffic", true, Harness.Uplink, false, false, null },
        { "out of a third interface: not camera traffic", true, Harness.Third, true, false, null },
        { "spoofed camera source towards a camera: judged from the uplink side (the engine drops the spoof)", true, Harness.Camera, true, false, Side.Uplink },

        // Network layer (this host): inbound on the camera interface is the camera side, outbound the uplink side.
        { "host inbound on the camera interface", false, Harness.Camera, true, false, Side.Camera },
        { "host outbound on the camera interface", false, Harness.Camera, false, true, Side.Uplink },
        { "host packet on another interface (the filter should not deliver it)", false, Harness.Uplink, true, false, null },
    };

    [Theory]
    [MemberData(nameof(Sides))]
    public async Task Loop_SideDecision_FollowsInterfaceAndSource(string scenario, bool forward, uint ifIdx, bool cameraSource, bool outbound, Side? expected)
    {
        var h = new Harness();
        await using var gateway = await h.StartedAsync();
        var decider = forward ? h.Forward : h.Local;
        var handle = forward ? FakeWinDivert.ForwardHandle : FakeWinDivert.LocalHandle;
        var v4 = Harness.V4(cameraSource ? CameraV4 : UplinkV4, "192.0.2.1");
        var v6 = Harness.V6(cameraSource ? CameraV6 : UplinkV6, "2001:db8:1::1");

        h.Fake.Script(handle, Harness.Batch((v4, Harness.Address(v4, ifIdx, forward, outbound)), (v6, Harness.Address(v6, ifIdx, forward, outbound))));

        // Positive control: a packet known to reach the decider follows, so "not decided" is observed after the loop
        // went past the batch.
        var control = Harness.V4(UplinkV4, CameraV4, marker: 0xEE);
        h.Fake.Script(handle, Harness.Batch((control, Harness.Address(control, Harness.Camera, forward, outbound: true))));
        await Eventually.TrueAsync(() => decider.Seen.Any(s => s.Packet[^1] == 0xEE), scenario + ": control decided");

        var seen = decider.Seen.Where(s => s.Packet[^1] != 0xEE).ToArray();
        if (expected is { } side)
        {
            Assert.Equal(2, seen.Length);
            Assert.All(seen, s => Assert.Equal(side, s.Side));
        }
        else
        {
            Assert.Empty(seen);
            Assert.Equal(2, gateway.NotCameraTraffic);
            Assert.DoesNotContain(h.Fake.Sent, b => b.Packets.AsSpan().IndexOf(v4) >= 0);
        }
    }

    public static TheoryData<string> MalformedBatchNames() => [.. MalformedBatches().Keys];

    private static Dictionary<string, ScriptedReceive> MalformedBatches()
    {
        var good = Harness.V4(CameraV4, UplinkV4, marker: 1);
        var goodAddress = Harness.Address(good, Harness.Uplink);
        var v6 = Harness.V6(CameraV6, UplinkV6, marker: 2);
        var shortTotal = Harness.V4(CameraV4, UplinkV4, marker: 3);
        shortTotal[3] = 19; // total length below the header
        var longTotal = Harness.V4(CameraV4, UplinkV4, marker: 4);
        longTotal[3] = 200; // says 200 bytes, has 28
        var notIp = Harness.V4(CameraV4, UplinkV4, marker: 5);
        notIp[0] = 0x55;
        return new()
        {
            ["address bytes not a multiple of 80"] = new ScriptedReceive(good, [goodAddress], AddressBytes: 79),
            ["no addresses"] = new ScriptedReceive(good, [], AddressBytes: 0),
            ["more data than the buffer"] = new ScriptedReceive(good, [goodAddress], ReceivedLength: uint.MaxValue),
            ["total length below the header"] = Harness.Batch((shortTotal, Harness.Address(shortTotal, Harness.Uplink))),
            ["total length past the data"] = Harness.Batch((longTotal, Harness.Address(longTotal, Harness.Uplink))),
            ["not IP"] = Harness.Batch((notIp, Harness.Address(notIp, Harness.Uplink))),
            ["IPv6 packet with the IPv4 address flag"] = Harness.Batch((v6, Harness.Address(good, Harness.Uplink))),
            ["more addresses than packets"] = new ScriptedReceive(good, [goodAddress, goodAddress]),
        };
    }

    [Theory]
    [MemberData(nameof(MalformedBatchNames))]
    public async Task Loop_MalformedBatch_NothingMalformedPassesAndItIsCounted(string scenario)
    {
        var batch = MalformedBatches()[scenario];
        var h = new Harness();
        await using var gateway = await h.StartedAsync();

        h.Fake.Script(FakeWinDivert.ForwardHandle, batch);
        var control = Harness.V4(UplinkV4, CameraV4, marker: 0xEE);
        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((control, Harness.Address(control, Harness.Camera))));
        await Eventually.TrueAsync(() => h.Fake.Sent.Any(b => b.Packets.SequenceEqual(control)), scenario + ": control sent");

        Assert.Equal(1, gateway.Malformed);
        Assert.True(gateway.IsHealthy, scenario + ": a malformed batch is dropped, not fatal");

        // Only whole, well-formed packets ever reach the engine or the wire: here, at most the leading good one.
        foreach (var sent in h.Fake.Sent.Where(b => !b.Packets.SequenceEqual(control)))
        {
            Assert.Equal(WinDivertGateway.PacketLength(sent.Packets), sent.Packets.Length);
        }
    }

    public static TheoryData<int, string> OpenErrors() => new()
    {
        { 2, "WinDivert64.sys was not found" },
        { 5, "Administrator" },
        { 87, "ERROR_INVALID_PARAMETER" },
        { 577, "signature" },
        { 654, "incompatible WinDivert driver version is loaded" },
        { 1060, "driver service is not installed" },
        { 1275, "security software" },
        { 1753, "Base Filtering Engine" },
        { 31, "error 31" },
    };

    [Theory]
    [MemberData(nameof(OpenErrors))]
    public void Open_DriverError_ThrowsClearMessageAndLeavesForwardingOff(int error, string expected)
    {
        var h = new Harness();
        h.Fake.OpenErrors[WinDivertLayer.NetworkForward] = error;

        var ex = Assert.Throws<PacketPortException>(() => h.Open());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains($"error {error}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Fake.Log, e => e.EndsWith(" on", StringComparison.Ordinal));
        Assert.Contains("forwarding 7 v4 off", h.Fake.Log);
    }

    [Fact]
    public void Open_LocalLayerFails_ClosesTheForwardHandle()
    {
        var h = new Harness();
        h.Fake.OpenErrors[WinDivertLayer.Network] = 5;

        var ex = Assert.Throws<PacketPortException>(() => h.Open());

        Assert.Contains("NETWORK layer", ex.Message, StringComparison.Ordinal);
        Assert.True(h.Fake.IsClosed(FakeWinDivert.ForwardHandle));
    }

    public static TheoryData<Exception, string> OpenThrows() => new()
    {
        { new DllNotFoundException("WinDivert.dll"), "could not be loaded" },
        { new BadImageFormatException("32-bit"), "not a 64-bit DLL" },
        { new EntryPointNotFoundException("WinDivertRecvEx"), "WinDivert 1.x" },
    };

    [Theory]
    [MemberData(nameof(OpenThrows))]
    public void Open_DllProblem_ThrowsClearMessage(Exception thrown, string expected)
    {
        var h = new Harness();
        h.Fake.OpenThrows[WinDivertLayer.NetworkForward] = thrown;

        var ex = Assert.Throws<PacketPortException>(() => h.Open());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Same(thrown, ex.InnerException);
    }

    [Theory]
    [InlineData(1ul, 4ul, "version 1.4")]
    [InlineData(2ul, 1ul, "version 2.1")]
    [InlineData(3ul, 0ul, "version 3.0")]
    public void Open_WrongDriverVersion_ThrowsAndClosesTheHandle(ulong major, ulong minor, string expected)
    {
        var h = new Harness();
        h.Fake.VersionMajor = major;
        h.Fake.VersionMinor = minor;

        var ex = Assert.Throws<PacketPortException>(() => h.Open());

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.True(h.Fake.IsClosed(FakeWinDivert.ForwardHandle));
    }

    [Fact]
    public void Open_DriverWithoutVersionParameter_ThrowsOlderThan2()
    {
        var h = new Harness();
        h.Fake.GetParamError = 87;

        var ex = Assert.Throws<PacketPortException>(() => h.Open());

        Assert.Contains("older than 2.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Succeeds_ForwardingOffFirstFixedFiltersAndShortQueue()
    {
        var h = new Harness();

        _ = h.Open();

        var log = h.Fake.Log;
        var firstOpen = log.ToList().FindIndex(e => e.StartsWith("open", StringComparison.Ordinal));
        Assert.All(new[] { "forwarding 7 v4 off", "forwarding 7 v6 off", "forwarding 3 v4 off", "forwarding 3 v6 off" }, e => Assert.InRange(log.ToList().IndexOf(e), 0, firstOpen - 1));
        Assert.Contains("open forward true", log);
        Assert.Contains("open local ifIdx == 7 and !loopback", log);
        Assert.Contains("setparam forward QueueTime 500", log);
        Assert.Contains("setparam local QueueTime 500", log);
        Assert.DoesNotContain(log, e => e.EndsWith(" on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_LoopTurns_ForwardingOnBeforeTheFirstReceive()
    {
        var h = new Harness();

        await using var gateway = await h.StartedAsync();

        var log = h.Fake.Log.ToList();
        var on = log.IndexOf("forwarding 7 v4 on");
        Assert.True(on >= 0, "forwarding turned on");
        Assert.True(gateway.IsHealthy);
        Assert.True(h.Fake.Forwarding[(Harness.Camera, System.Net.Sockets.AddressFamily.InterNetworkV6)]);
        Assert.True(h.Fake.Forwarding[(Harness.Uplink, System.Net.Sockets.AddressFamily.InterNetwork)]);
    }

    [Fact]
    public async Task Send_SoftError_CountedWithItsCodeAndTheBatchCountsAsForwarded()
    {
        var h = new Harness();
        await using var gateway = await h.StartedAsync();
        h.Fake.SendErrors.Enqueue(WinDivertErrors.HostUnreachable);
        var a = Harness.V4(UplinkV4, CameraV4, marker: 1);
        var b = Harness.V4(UplinkV4, CameraV4, marker: 2);

        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((a, Harness.Address(a, Harness.Camera)), (b, Harness.Address(b, Harness.Camera))));
        await Eventually.TrueAsync(() => gateway.SendErrors.Count > 0, "the send error counted");

        Assert.Equal([new KeyValuePair<int, long>(1232, 1)], gateway.SendErrors);
        Assert.Equal(2, gateway.Report().Uplink!.Traffic.FramesForwarded);
        Assert.Equal(0, gateway.Report().Uplink!.Traffic.SendErrors);
        Assert.True(gateway.IsHealthy);
    }

    [Fact]
    public async Task Send_HardError_CountedWithItsCodeAndThePacketsAsSendErrors()
    {
        var h = new Harness();
        await using var gateway = await h.StartedAsync();
        h.Fake.SendErrors.Enqueue(87);
        var a = Harness.V6(CameraV6, UplinkV6);

        h.Fake.Script(FakeWinDivert.ForwardHandle, Harness.Batch((a, Harness.Address(a, Harness.Uplink))));
        await Eventually.TrueAsync(() => gateway.SendErrors.Count > 0, "the send error counted");

        Assert.Equal([new KeyValuePair<int, long>(87, 1)], gateway.SendErrors);
        Assert.Equal(1, gateway.Report().Camera!.Traffic.SendErrors);
        Assert.Equal(0, gateway.Report().Camera!.Traffic.FramesForwarded);
    }
}
