using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Netns;
using static Appliance.TestSupport.Frames.GateSite;

namespace Appliance.Transport.LibPcap.Tests;

/// <summary>
/// The whole data path on real interfaces: a camera host, the appliance's two ports (no address, their own
/// namespace), and an uplink holding the site router, the NVR, the site DNS server, a pretend vendor cloud, a
/// pretend internet host and a public-looking resolver, each on its own documentation address. The uplink hosts
/// share one namespace and one MAC (as hosts behind a router would); the firewall tells them apart by address.
/// No namespace has a route out.
/// </summary>
public sealed class BridgeEndToEndTests
{
    private const string UplinkMac = "02:00:00:00:0a:01";
    private const int StreamBytes = 2 * 1024 * 1024;
    private const string Python = "/usr/bin/python3";

    [RootFact]
    public async Task Bridge_SiteTraffic_OnlyWhatThePolicyAllowsGetsThrough()
    {
        using var lab = new NetnsLab();
        var work = Directory.CreateTempSubdirectory("camfw-e2e-");
        try
        {
            var tool = NetTool.WriteTo(work.FullName);
            var (cam, ap, up, camEth, apCam, apUp, upEth) = BuildTopology(lab);

            // The appliance: both ports opened from a thread inside its namespace, offloads off, one engine.
            var engine = new PacketEngine(LoadPolicy(work.FullName));
            var (cameraPort, uplinkPort) = NetnsLab.InNamespace(ap, () =>
            {
                InterfacePreparation.Prepare(apCam, apUp);
                return (LibPcapPort.Open(apCam), LibPcapPort.Open(apUp));
            });
            await using var bridge = new BridgeDataPlane(cameraPort, uplinkPort, engine);
            bridge.Start();

            // Servers: the camera's RTSP-like stream and web page; the uplink's resolvers and a cloud endpoint.
            // Each would answer anyone if the appliance let it.
            WaitReady(lab.Start(cam, Python, tool, "serve", $"tcp:{Camera}:554:{StreamBytes}", $"tcp:{Camera}:80:100"));
            WaitReady(lab.Start(up, Python, tool, "serve", $"udp:{SiteDns}:53", $"udp:{PublicResolver}:53", $"tcp:{Cloud}:443:100"));

            // 1. The NVR pulls the stream: its SYN is allowed, every reply rides the flow.
            var stream = lab.TryExec(up, TimeSpan.FromSeconds(20), Python, tool, "tcp-get", Nvr, Camera, "554", "10");
            Assert.True(stream.ExitCode == 0, $"NVR stream failed: {stream.Stdout} {stream.Stderr}");
            Assert.Equal(StreamBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), stream.Stdout.Trim());

            // 2. DNS to the site resolver works.
            var dns = lab.TryExec(cam, TimeSpan.FromSeconds(10), Python, tool, "udp-ask", SiteDns, "53", "3");
            Assert.True(dns.ExitCode == 0, $"site DNS failed: {dns.Stdout} {dns.Stderr}");
            Assert.Equal("answer:query", dns.Stdout.Trim());

            // 3-5 run together (each waits for its timeout). The camera phoning home, an internet host opening the
            // camera's web page, and DNS to a public-looking resolver all fail.
            var cloud = Task.Run(() => lab.TryExec(cam, TimeSpan.FromSeconds(10), Python, tool, "tcp-get", "-", Cloud, "443", "2"));
            var inbound = Task.Run(() => lab.TryExec(up, TimeSpan.FromSeconds(10), Python, tool, "tcp-get", Internet, Camera, "80", "2"));
            var publicDns = Task.Run(() => lab.TryExec(cam, TimeSpan.FromSeconds(10), Python, tool, "udp-ask", PublicResolver, "53", "2"));
            await Task.WhenAll(cloud, inbound, publicDns);
            Assert.True((await cloud).ExitCode == 1, $"camera reached the cloud: {(await cloud).Stdout}");
            Assert.True((await inbound).ExitCode == 1, $"internet host reached the camera: {(await inbound).Stdout}");
            Assert.True((await publicDns).ExitCode == 1, $"public resolver answered: {(await publicDns).Stdout}");

            Assert.True(bridge.IsHealthy);
            Assert.False(bridge.Completion.IsCompleted);
            Assert.True(bridge.CameraSide.FramesForwarded > StreamBytes / 1500, "the stream's frames were forwarded");
            Assert.True(bridge.CameraSide.FramesDropped >= 2, "the cloud SYN and the public DNS query were dropped");
            Assert.True(bridge.UplinkSide.FramesDropped >= 1, "the inbound SYN was dropped");
            Assert.Equal(0, bridge.CameraSide.SendErrors + bridge.UplinkSide.SendErrors);

            await bridge.StopAsync();
            Assert.True(bridge.Completion.IsCompletedSuccessfully);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static PolicyHolder LoadPolicy(string work)
    {
        var dir = Directory.CreateDirectory(Path.Combine(work, "policy")).FullName;
        File.WriteAllText(Path.Combine(dir, "site.yaml"), PolicyYaml);
        var load = PolicyLoader.LoadDirectory(dir);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(load.Spec!, holder.NextVersion(), holder.Slots));
        return holder;
    }

    private static (string Cam, string Ap, string Up, string CamEth, string ApCam, string ApUp, string UpEth) BuildTopology(NetnsLab lab)
    {
        var cam = lab.AddNamespace("c");
        var ap = lab.AddNamespace("a");
        var up = lab.AddNamespace("u");
        var (camEth, apCam) = lab.AddVeth(cam, ap, macA: CameraMacText);
        var (apUp, upEth) = lab.AddVeth(ap, up, macB: UplinkMac);

        // Real hosts put wire-sized, checksummed frames on a cable; veths would otherwise pass 64 KB TSO/GSO
        // super-frames with checksums left for an offload engine that a captured-and-resent frame never meets.
        lab.Exec(cam, "ethtool", "-K", camEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");
        lab.Exec(up, "ethtool", "-K", upEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");

        lab.Exec(cam, "ip", "addr", "add", $"{Camera}/24", "dev", camEth);
        lab.Exec(cam, "ip", "route", "add", "default", "via", Router);
        foreach (var address in new[] { Router, Nvr, SiteDns })
        {
            lab.Exec(up, "ip", "addr", "add", $"{address}/24", "dev", upEth);
            lab.Exec(cam, "ip", "neigh", "replace", address, "lladdr", UplinkMac, "dev", camEth, "nud", "permanent");
        }

        foreach (var address in new[] { Cloud, Internet, PublicResolver })
        {
            lab.Exec(up, "ip", "addr", "add", $"{address}/32", "dev", "lo");
        }

        // ARP is not what this test is about: static entries keep it out of the way.
        lab.Exec(up, "ip", "neigh", "replace", Camera, "lladdr", CameraMacText, "dev", upEth, "nud", "permanent");
        return (cam, ap, up, camEth, apCam, apUp, upEth);
    }

    private static void WaitReady(System.Diagnostics.Process server)
    {
        var line = server.StandardOutput.ReadLineAsync();
        Assert.True(line.Wait(TimeSpan.FromSeconds(10)), "server did not start");
        Assert.Equal("ready", line.Result);
    }
}
