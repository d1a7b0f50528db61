using System.Net;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.TestSupport.Frames;

namespace Appliance.Learn.Tests;

/// <summary>Learns from frames in memory the way <c>camfw learn</c> does from a capture: two passes, the second through the learning engine.</summary>
internal static class LearnHarness
{
    public static LearnSnapshot Learn(IReadOnlyList<CapturedFrame> frames, LearnOptions? options = null)
    {
        var first = new TrafficLearner(options);
        foreach (var f in frames)
        {
            first.Observe(f.Frame, rawIp: false, f.Side, f.TimestampMicros / 1000);
        }

        var learner = new TrafficLearner(options);
        var (engine, _) = LearningEngine.Create(first.Snapshot().Devices, learner);
        foreach (var f in frames)
        {
            var now = f.TimestampMicros / 1000;
            engine.ProcessFrame(f.Frame, f.Side, now);
            engine.Maintain(now);
            learner.Observe(f.Frame, rawIp: false, f.Side, now);
        }

        return learner.Snapshot();
    }

    public static ProposalContext Context(bool withPolicy = true, IReadOnlyList<IPNetwork>? site = null) => new()
    {
        Policy = withPolicy ? LoadOk(LearnSite.PolicyFiles.Select(f => new PolicySource(f.Name, f.Text)).ToList()) : null,
        SiteNetworks = site ?? [IPNetwork.Parse("192.0.2.0/24")],
        Vendors = OuiRegistry.Load(OuiRegistry.DebianDirectory, out _),
        Source = "test capture",
    };

    public static PolicySpec LoadOk(IReadOnlyList<PolicySource> sources)
    {
        var load = PolicyLoader.Load(sources);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        return load.Spec!;
    }

    public static PacketEngine Enforcing(PolicySpec spec)
    {
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        return new PacketEngine(holder);
    }
}
