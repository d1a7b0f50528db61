using System.Net;
using Appliance.Core;
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

    /// <summary>
    /// Learns from frames the way a running appliance does: through an engine whose policy (<paramref name="spec"/>)
    /// has the devices in learn mode, from the engine's own notes only (drained now and then, as the host does), with
    /// every flow ended at the close (expired) so the figures are final.
    /// </summary>
    public static LearnSnapshot LearnLive(IReadOnlyList<CapturedFrame> frames, PolicySpec spec, LearnOptions? options = null)
    {
        var engine = Enforcing(spec);
        var live = new LiveLearner(options);
        var now = 0L;
        foreach (var f in frames)
        {
            now = f.TimestampMicros / 1000;
            engine.ProcessFrame(f.Frame, f.Side, now);
            engine.Maintain(now);
            if (engine.FlowNotes.Count > 1_000)
            {
                live.Drain(engine);
            }
        }

        // Everything ends: a day later every flow has expired.
        var end = now + 86_400_000;
        for (var i = 0; i < 100_000 && engine.Flows.Count > 0; i++)
        {
            engine.Maintain(end);
            live.Drain(engine);
        }

        Assert.Equal(0, engine.Flows.Count);
        live.Drain(engine);
        Assert.Equal(0, live.NotesLost);
        return live.Snapshot();
    }

    /// <summary>A policy that lists <paramref name="devices"/> (MAC, IP) with no rules, the site in learn mode.</summary>
    public static PolicySpec SiteLearning(IEnumerable<(MacAddress Mac, string Ip)> devices)
    {
        var text = "site:\n  mode: learn\n  unknown_devices: monitor\ncameras:\n";
        var i = 0;
        foreach (var (mac, ip) in devices)
        {
            text += $"  d{i++}: {{ mac: \"{mac}\", ip: {ip} }}\n";
        }

        var load = PolicyLoader.Load([new PolicySource("site.yaml", text)]);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        return load.Spec!;
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
