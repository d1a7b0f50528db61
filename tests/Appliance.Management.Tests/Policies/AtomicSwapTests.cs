using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Core.Wire;
using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Policies;

public sealed class AtomicSwapTests
{
    private static readonly MacAddress CameraMac = Frames.Mac("02:00:00:00:00:01");

    [Fact]
    public void Swap_WhileFramesStream_EveryVerdictMatchesOnePolicy()
    {
        // Policy A lets the NVR open TCP 554 on the camera; policy B only 8554. A SYN to 554 passes under A and is
        // dropped under B, a SYN to 8554 the other way round. The data-plane thread reads the version before and
        // after each frame: when they agree and no swap completed meanwhile, the verdict must be exactly that
        // policy's; when a swap fell in between, it must still be one of the two (never a half-built table: no
        // unknown-device, no-policy or fault). The swap count matters because the same two versions alternate: a
        // frame descheduled across two swaps (b -> a -> b) reads the same version before and after while the
        // engine saw the other one.
        var holder = new PolicyHolder();
        var a = Compile(holder, 554);
        var b = Compile(holder, 8554);
        holder.Swap(a);
        var engine = new PacketEngine(holder);
        var isA = new Dictionary<uint, bool> { [a.Version] = true, [b.Version] = false };

        var to554 = new List<byte[]>();
        var to8554 = new List<byte[]>();
        for (var i = 0; i < 2000; i++)
        {
            to554.Add(Syn((ushort)(20000 + i), 554));
            to8554.Add(Syn((ushort)(20000 + i), 8554));
        }

        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        long frames = 0, consistentChecks = 0, swapsDone = 0;
        var dataPlane = new Thread(() =>
        {
            var now = 1_000L;
            var i = 0;
            while (!stop.IsCancellationRequested || frames < 20_000)
            {
                var port554 = (i & 1) == 0;
                var frame = port554 ? to554[(i >> 1) % to554.Count] : to8554[(i >> 1) % to8554.Count];
                var swapsBefore = Volatile.Read(ref swapsDone);
                var before = holder.Current!.Version;
                var verdict = engine.ProcessFrame(frame, Side.Uplink, now);
                var after = holder.Current!.Version;
                var swapsAfter = Volatile.Read(ref swapsDone);
                now += 1;
                i++;
                frames++;

                var expectedUnderA = port554;
                bool passed = verdict.IsPass;
                if (verdict.Reason is not (Reason.RuleMatch or Reason.NoRuleMatched or Reason.EstablishedFlow or Reason.FlowRevoked or Reason.TcpStateBypass))
                {
                    failures.Add($"frame {i}: unexpected reason {ReasonNames.Name(verdict.Reason)}");
                }
                else if (before == after && swapsBefore == swapsAfter && verdict.Reason is Reason.RuleMatch or Reason.NoRuleMatched)
                {
                    consistentChecks++;
                    var expectPass = isA[before] ? expectedUnderA : !expectedUnderA;
                    if (passed != expectPass)
                    {
                        failures.Add($"frame {i}: policy v{before} said {(passed ? "pass" : "drop")} ({ReasonNames.Name(verdict.Reason)}) for port {(port554 ? 554 : 8554)}");
                    }
                }

                if (failures.Count > 10)
                {
                    return;
                }
            }
        })
        { IsBackground = true };

        dataPlane.Start();
        for (var swap = 0; swap < 400; swap++)
        {
            holder.Swap((swap & 1) == 0 ? b : a);
            Interlocked.Increment(ref swapsDone);
            Thread.SpinWait(2000);
        }

        stop.Cancel();
        Assert.True(dataPlane.Join(TimeSpan.FromSeconds(30)));
        Assert.Empty(failures);
        Assert.True(consistentChecks > 1000, $"only {consistentChecks} frames were checked against one policy");
    }

    [Fact]
    public async Task Apply_TighterPolicy_RevokesEstablishedFlowOnItsNextFrame()
    {
        using var root = new TempDirectory("camfw-revoke");
        foreach (var (name, text) in TestPolicies.Files())
        {
            root.Write(Path.Combine("policies", name), text);
        }

        var holder = new PolicyHolder();
        using var service = new PolicyService(holder, PolicyCompiler.Instance, new PolicyServiceOptions { Directory = root.Combine("policies"), StateDirectory = root.Combine("state") }, NullLogger<PolicyService>.Instance);
        Assert.Equal(ApplyOutcome.Applied, (await service.LoadInitialAsync()).Outcome);
        var engine = new PacketEngine(holder);

        // The NVR opens RTSP to the camera; the camera answers: the flow is established under version 1.
        Assert.Equal(Reason.RuleMatch, engine.ProcessFrame(Syn(40000, 554), Side.Uplink, 1000).Reason);
        var synAck = Frames.Tcp(CameraMac, Frames.NvrMac, TestPolicies.CameraIp, TestPolicies.NvrIp, 554, 40000, TcpFlags.Syn | TcpFlags.Ack).ToArray();
        var ack = Frames.Tcp(Frames.NvrMac, CameraMac, TestPolicies.NvrIp, TestPolicies.CameraIp, 40000, 554, TcpFlags.Ack).ToArray();
        Assert.True(engine.ProcessFrame(synAck, Side.Camera, 1001).IsPass);
        Assert.True(engine.ProcessFrame(ack, Side.Uplink, 1002).IsPass);

        // Version 2 no longer lets the NVR in on 554: the very next frame of that flow is dropped as revoked.
        var result = await service.ApplyAsync([.. TestPolicies.Files(nvrPort: 8554).Select(kv => new PolicySource(kv.Key, kv.Value))], new ChangeOrigin(ChangeOrigin.ApiKind, "test"));
        Assert.Equal(ApplyOutcome.Applied, result.Outcome);
        var verdict = engine.ProcessFrame(ack, Side.Uplink, 1003);
        Assert.False(verdict.IsPass);
        Assert.Equal(Reason.FlowRevoked, verdict.Reason);
    }

    private static byte[] Syn(ushort sourcePort, ushort port)
        => Frames.Tcp(Frames.NvrMac, CameraMac, TestPolicies.NvrIp, TestPolicies.CameraIp, sourcePort, port, TcpFlags.Syn).ToArray();

    private static CompiledPolicy Compile(PolicyHolder holder, int port)
    {
        var load = PolicyLoader.Load([.. TestPolicies.Files(nvrPort: port).Select(kv => new PolicySource(kv.Key, kv.Value))]);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        return CompiledPolicy.Compile(load.Spec!, holder.NextVersion(), holder.Slots);
    }
}
