using System.Buffers.Binary;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using BenchmarkDotNet.Attributes;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// The DNS answer path (issue 15): each camera of a batch sends a query and gets its answer, which the engine matches
/// to the query, validates and learns from before forwarding it. The baseline is the query alone, so the difference is
/// the price of an answer (match, validate, learn). Figures are per query (+ answer), <c>OperationsPerInvoke</c>.
/// </summary>
/// <remarks>
/// Two categories, each with its own baseline. <c>guard on</c>: the site's defaults, tunnel guard reporting; the batch
/// sends about 100 queries per camera per simulated millisecond at 10 cameras, far above the guard's rate (120 a
/// minute), so its flagged path (count, rate-limited report) is part of those figures. <c>guard off</c>: the same frames
/// with the site's guard off, so the query row is the query path alone and the difference is the answer path alone.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory, BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class DnsBenchmarks
{
    private const int Batch = 1024;
    private static readonly uint ResolverIp = 0x0A00_0101; // 10.0.1.1

    private PacketEngine _engine = null!;
    private PacketEngine _guardOff = null!;
    private byte[][] _queries = [];
    private byte[][] _answers = [];
    private long _now;

    [Params(10, 10_000)]
    public int Cameras { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var spec = EngineSetup.Site(Cameras);
        var firmware = new RuleSpec { Id = "firmware", Direction = Direction.Egress, Protocol = RuleProtocol.Tcp, Ports = [new(443, 443)], Peers = [], Names = ["*.fw.vendor.example"] };
        spec = spec with { Cameras = [.. spec.Cameras.Select(c => c with { Rules = [.. c.Rules, firmware] })] };
        _engine = NewEngine(spec);
        _guardOff = NewEngine(spec with { Site = spec.Site with { DnsGuard = spec.Site.DnsGuard with { Action = DnsGuardAction.Off } } });

        _queries = new byte[Batch][];
        _answers = new byte[Batch][];
        var stride = Math.Max(1, Cameras / Batch);
        for (var i = 0; i < Batch; i++)
        {
            var cam = i * stride % Cameras;
            var port = (ushort)(20_000 + i);
            var id = (ushort)(i * 7919);
            var name = $"cdn{i % 50}.fw.vendor.example";
            _queries[i] = Udp(EngineSetup.CameraMac(cam), EngineSetup.NvrMac, EngineSetup.CameraIp(cam), ResolverIp, port, 53, Message(id, name, null));
            _answers[i] = Udp(EngineSetup.NvrMac, EngineSetup.CameraMac(cam), ResolverIp, EngineSetup.CameraIp(cam), 53, port, Message(id, name, 0xCB00_7100u + (uint)(i % 200)));
        }

        _now = 1;
        QueryAndAnswer();
        QueryAndAnswerGuardOff();
        foreach (var (engine, what) in new[] { (_engine, "guard on"), (_guardOff, "guard off") })
        {
            if (engine.DnsStats.Learned < Batch)
            {
                throw new InvalidOperationException($"{what}: answers taught {engine.DnsStats.Learned}, expected {Batch}");
            }
        }

        // The guard-off rows must not take the guard's path at all: nothing flagged under any tunnel reason.
        Reason[] tunnel = [Reason.DnsTunnelRate, Reason.DnsTunnelLongName, Reason.DnsTunnelEntropy, Reason.DnsTunnelSubdomains, Reason.DnsTunnelQueryType];
        if (tunnel.Sum(_guardOff.Counters.ForReason) != 0)
        {
            throw new InvalidOperationException("guard off: the tunnel guard flagged queries");
        }
    }

    [BenchmarkCategory("guard on")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "DNS query")]
    public int QueryOnly() => Queries(_engine);

    [BenchmarkCategory("guard on")]
    [Benchmark(OperationsPerInvoke = Batch, Description = "DNS query + answer (learned)")]
    public int QueryAndAnswer() => QueriesAndAnswers(_engine);

    [BenchmarkCategory("guard off")]
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "DNS query, guard off")]
    public int QueryOnlyGuardOff() => Queries(_guardOff);

    [BenchmarkCategory("guard off")]
    [Benchmark(OperationsPerInvoke = Batch, Description = "DNS query + answer (learned), guard off")]
    public int QueryAndAnswerGuardOff() => QueriesAndAnswers(_guardOff);

    private static PacketEngine NewEngine(PolicySpec spec)
    {
        var holder = new PolicyHolder(new CameraSlotRegistry(Math.Max(spec.Cameras.Count, 16)));
        holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        return new PacketEngine(holder, new EngineOptions { FlowCapacity = 65_536, EventRingCapacity = 1_024 });
    }

    private int Queries(PacketEngine engine)
    {
        _now++;
        var sum = 0;
        foreach (var q in _queries)
        {
            sum += (int)engine.ProcessFrame(q, Side.Camera, _now).Reason;
        }

        return sum;
    }

    private int QueriesAndAnswers(PacketEngine engine)
    {
        _now++;
        var sum = 0;
        for (var i = 0; i < _queries.Length; i++)
        {
            sum += (int)engine.ProcessFrame(_queries[i], Side.Camera, _now).Reason;
            sum += (int)engine.ProcessFrame(_answers[i], Side.Uplink, _now).Reason;
        }

        return sum;
    }

    /// <summary>A query (no address) or a response with one A record, the answer's name compressed against the question.</summary>
    private static byte[] Message(ushort id, string name, uint? address)
    {
        var m = new List<byte>();
        void U16(int v) => m.AddRange([(byte)(v >> 8), (byte)v]);
        U16(id);
        U16(address is null ? 0x0100 : 0x8180);
        U16(1);
        U16(address is null ? 0 : 1);
        U16(0);
        U16(0);
        foreach (var label in name.Split('.'))
        {
            m.Add((byte)label.Length);
            m.AddRange(System.Text.Encoding.ASCII.GetBytes(label));
        }

        m.Add(0);
        U16(1);
        U16(1);
        if (address is { } a)
        {
            U16(0xC00C);
            U16(1);
            U16(1);
            m.AddRange([0, 0, 0x0E, 0x10]); // TTL 3600
            U16(4);
            m.AddRange([(byte)(a >> 24), (byte)(a >> 16), (byte)(a >> 8), (byte)a]);
        }

        return [.. m];
    }

    private static byte[] Udp(MacAddress srcMac, MacAddress dstMac, uint srcIp, uint dstIp, ushort srcPort, ushort dstPort, byte[] payload)
    {
        var f = new byte[14 + 20 + 8 + payload.Length];
        dstMac.WriteTo(f);
        srcMac.WriteTo(f.AsSpan(6));
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), EtherTypes.Ipv4);
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + 8 + payload.Length));
        ip[8] = 64;
        ip[9] = IpProtocols.Udp;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], srcIp);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], dstIp);
        var udp = ip[20..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, srcPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], dstPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(udp[8..]);
        return f;
    }
}
