using Appliance.Core.Policy;
using Appliance.Policy;
using BenchmarkDotNet.Attributes;

namespace Appliance.Benchmarks.Policy;

/// <summary>
/// A whole policy reload as the appliance does it: YAML text (already in memory) to a swappable
/// <see cref="CompiledPolicy"/>. Target: 10,000 cameras in under 1 second.
/// </summary>
[MemoryDiagnoser]
public class CompileBenchmarks
{
    private IReadOnlyList<PolicySource> _sources = [];
    private PolicySpec _spec = null!;

    [Params(1_000, 10_000)]
    public int Cameras { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sources = SyntheticPolicy.Generate(Cameras);
        _spec = PolicyLoader.Load(_sources).Spec ?? throw new InvalidOperationException("the synthetic policy does not load");
    }

    /// <summary>Parse and validate only.</summary>
    [Benchmark(Baseline = true)]
    public PolicySpec? Load() => PolicyLoader.Load(_sources).Spec;

    /// <summary>Compile a validated spec into lookup tables only.</summary>
    [Benchmark]
    public CompiledPolicy Compile() => CompiledPolicy.Compile(_spec, 1, new CameraSlotRegistry());

    /// <summary>The whole reload: load, validate, compile.</summary>
    [Benchmark]
    public CompiledPolicy LoadAndCompile()
        => CompiledPolicy.Compile(PolicyLoader.Load(_sources).Spec!, 1, new CameraSlotRegistry());
}
