using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>
/// The parser runs per frame on the data path: it must allocate nothing, on success and on every failure path.
/// Counted with the thread's allocation counter (deterministic), not timed.
/// </summary>
public class FrameParserAllocationTests
{
    [Fact]
    public void ParseEthernet_EveryTestFrame_AllocatesNothing()
    {
        var frames = new List<byte[]>();
        foreach (var row in FrameParserMalformedTests.EthernetCases)
        {
            frames.Add((byte[])row[1]);
        }

        frames.Add(Frames.Tcp(Frames.CameraMac, Frames.NvrMac, "192.0.2.1", "198.51.100.1", 1, 2, TcpFlags.Syn).ToArray());
        frames.Add(FrameBuilder.Ethernet(Frames.CameraMac, Frames.NvrMac).QinQ(1, 2).Ipv6("2001:db8::1", "2001:db8::2")
            .HopByHop().Routing().FragmentHeader(0, true).DestinationOptions().AuthenticationHeader().Udp(1, 2).ToArray());
        frames.Add(Frames.IcmpError(Frames.RouterMac, Frames.CameraMac, "2001:db8::9", "2001:db8::1", 1, 4,
            Frames.Ip("2001:db8::1", "2001:db8::2").DestinationOptions().Tcp(1, 2, TcpFlags.Syn)).ToArray());
        frames.Add(Frames.ArpRequest(Frames.CameraMac, "192.0.2.1", "192.0.2.2").ToArray());
        var array = frames.ToArray();

        var parsed = 0;
        var windows = AllocationWindows.Measure(_ => parsed += Run(array, l2: true), warmupRounds: 30, roundsPerWindow: 100);

        Assert.True(parsed > 0);
        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
    }

    [Fact]
    public void ParseIp_ValidAndMalformedPackets_AllocateNothing()
    {
        var packets = new List<byte[]>();
        foreach (var row in FrameParserMalformedTests.IpCases)
        {
            packets.Add((byte[])row[1]);
        }

        packets.Add(Frames.Ip("192.0.2.1", "198.51.100.1").Tcp(1, 2, TcpFlags.Ack).ToArray());
        packets.Add(Frames.Ip("2001:db8::1", "2001:db8::2").HopByHop().Udp(1, 2).ToArray());
        var array = packets.ToArray();

        var parsed = 0;
        var windows = AllocationWindows.Measure(_ => parsed += Run(array, l2: false), warmupRounds: 30, roundsPerWindow: 100);

        Assert.True(parsed > 0);
        Assert.True(windows[^1] == 0, AllocationWindows.Describe(windows));
    }

    private static int Run(byte[][] inputs, bool l2)
    {
        var ok = 0;
        foreach (var input in inputs)
        {
            ok += (l2 ? FrameParser.ParseEthernet(input, out _) : FrameParser.ParseIp(input, out _)) ? 1 : 0;
        }

        return ok;
    }
}
