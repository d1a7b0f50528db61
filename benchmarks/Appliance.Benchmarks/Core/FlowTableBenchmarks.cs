using Appliance.Core;
using Appliance.Core.Flows;
using BenchmarkDotNet.Attributes;

namespace Appliance.Benchmarks.Core;

/// <summary>
/// The flow table alone: established-flow lookup in a table holding <see cref="Flows"/> flows (at 1,000,000 the
/// table is 151 MB, far beyond any cache, so this is the memory-latency case), and churn: create a flow and let
/// <see cref="FlowTable.Maintain"/> expire old ones, in steady state. Per operation; 0 bytes allocated.
/// </summary>
[MemoryDiagnoser]
public class FlowTableBenchmarks
{
    private const int Batch = 1024;

    private FlowTable _table = null!;
    private FlowKey[] _lookups = [];
    private FlowTable _churn = null!;
    private uint _next;
    private long _now;

    [Params(10_000, 1_000_000)]
    public int Flows { get; set; }

    private static FlowKey Key(uint i) => FlowKey.Create(
        IpAddr.FromV4(0x0A40_0000u + (i & 0xFFFF)), (ushort)(i >> 16), IpAddr.FromV4(0x0A00_010A), 443, 6, v6: false, 0, 0);

    [GlobalSetup]
    public void Setup()
    {
        _table = new FlowTable(Flows, 16);
        for (uint i = 0; i < Flows; i++)
        {
            ref var e = ref _table.At(_table.TryAdd(Key(i), 0, 0));
            e.State = FlowState.Established;
            e.ExpiresMs = long.MaxValue;
        }

        var random = new Random(42);
        _lookups = new FlowKey[Batch];
        for (var i = 0; i < Batch; i++)
        {
            _lookups[i] = Key((uint)random.Next(Flows));
        }

        _churn = new FlowTable(65_536, 16);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "established lookup")]
    public int Lookup()
    {
        var found = 0;
        foreach (ref readonly var key in _lookups.AsSpan())
        {
            found += _table.Find(in key, 1) >= 0 ? 1 : 0;
        }

        return found;
    }

    /// <summary>
    /// One flow created per operation; the clock advances 1 ms per invocation and each flow lives 32 ms, so about
    /// 32,000 flows are live in steady state while <see cref="FlowTable.Maintain"/> reclaims the expired ones in small slices.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Batch, Description = "churn: create + expire")]
    public int Churn()
    {
        var added = 0;
        _now++;
        for (var i = 0; i < Batch; i++)
        {
            var key = Key(_next++);
            if (_churn.Find(in key, _now) < 0)
            {
                var index = _churn.TryAdd(in key, 0, _now);
                if (index >= 0)
                {
                    ref var e = ref _churn.At(index);
                    e.State = FlowState.Datagram;
                    e.ExpiresMs = _now + 32;
                    added++;
                }
            }

            _churn.Maintain(_now, 4);
        }

        return added;
    }
}
