using System.Buffers.Binary;
using Appliance.Core.Wire;
using BenchmarkDotNet.Attributes;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// Per-frame cost of <see cref="FrameParser"/>: each invocation parses a batch of <see cref="BatchSize"/> distinct
/// frames (source ports differ, so nothing is trivially predicted from one frame), and
/// <c>OperationsPerInvoke</c> divides the figures by the batch: time and allocation are per frame.
/// </summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private const int BatchSize = 1024;

    // Built with tests/Appliance.TestSupport/Frames/FrameBuilder (the benchmarks do not reference test code).
    // Ethernet / IPv4 / TCP ACK 192.0.2.10:40000 -> 198.51.100.5:554, padded to the 60-byte minimum.
    private const string TcpIpv4 =
        "020000000a01020000000c010800450000280000000040068e8dc000020ac63364059c40022a00000000000000005010faf02a360000000000000000";

    // Ethernet / IPv6 / hop-by-hop / destination options / routing / TCP ACK 2001:db8::10 -> 2001:db8::5.
    private const string TcpIpv6Chain =
        "020000000a01020000000c0186dd60000000002c004020010db800000000000000000000001020010db80000000000000000000000053c000104000000002b0001040000000006000400000000009c40022a00000000000000005010faf0baf20000";

    // Ethernet / 802.1ad 100 / 802.1Q 200 / IPv4 / UDP 40000 -> 554 with 18 bytes of data.
    private const string UdpQinQ =
        "020000000a01020000000c0188a80064810000c808004500002e0000000040118e7cc000020ac63364059c40022a001a750c000000000000000000000000000000000000";

    private byte[][] _tcpIpv4 = [];
    private byte[][] _tcpIpv6Chain = [];
    private byte[][] _udpQinQ = [];
    private byte[][] _bareIpv4 = [];

    [GlobalSetup]
    public void Setup()
    {
        _tcpIpv4 = Batch(TcpIpv4, sourcePortOffset: 34);
        _tcpIpv6Chain = Batch(TcpIpv6Chain, sourcePortOffset: 14 + 40 + 24);
        _udpQinQ = Batch(UdpQinQ, sourcePortOffset: 22 + 20);
        _bareIpv4 = new byte[BatchSize][];
        for (var i = 0; i < BatchSize; i++)
        {
            _bareIpv4[i] = _tcpIpv4[i][14..54];
        }

        // A benchmark of a parse that fails measures the wrong path: check every frame once.
        foreach (var set in new[] { _tcpIpv4, _tcpIpv6Chain, _udpQinQ })
        {
            foreach (var frame in set)
            {
                if (!FrameParser.ParseEthernet(frame, out var info) || !info.HasL4)
                {
                    throw new InvalidOperationException($"benchmark frame does not parse: {info.Error}");
                }
            }
        }
    }

    private static byte[][] Batch(string hex, int sourcePortOffset)
    {
        var template = Convert.FromHexString(hex);
        var batch = new byte[BatchSize][];
        for (var i = 0; i < BatchSize; i++)
        {
            batch[i] = (byte[])template.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(batch[i].AsSpan(sourcePortOffset), (ushort)(32768 + i));
        }

        return batch;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = BatchSize, Description = "Ethernet/IPv4/TCP")]
    public int TcpOverIpv4()
    {
        var sum = 0;
        foreach (var frame in _tcpIpv4)
        {
            FrameParser.ParseEthernet(frame, out var info);
            sum += info.SourcePort;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize, Description = "Ethernet/IPv6+HbH+DstOpt+Routing/TCP")]
    public int TcpOverIpv6WithExtensionHeaders()
    {
        var sum = 0;
        foreach (var frame in _tcpIpv6Chain)
        {
            FrameParser.ParseEthernet(frame, out var info);
            sum += info.SourcePort;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize, Description = "Ethernet/QinQ/IPv4/UDP")]
    public int UdpOverQinQ()
    {
        var sum = 0;
        foreach (var frame in _udpQinQ)
        {
            FrameParser.ParseEthernet(frame, out var info);
            sum += info.SourcePort;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = BatchSize, Description = "bare IPv4/TCP (L3 entry)")]
    public int BareIpv4Tcp()
    {
        var sum = 0;
        foreach (var packet in _bareIpv4)
        {
            FrameParser.ParseIp(packet, out var info);
            sum += info.SourcePort;
        }

        return sum;
    }
}
