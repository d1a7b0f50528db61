using System.Collections.Concurrent;
using Appliance.Core.Wire;
using Appliance.TestSupport;
using Appliance.TestSupport.Frames;
using static Appliance.Transport.Xdp.Tests.XdpBridgeLab;

namespace Appliance.Transport.Xdp.Tests;

/// <summary>
/// The real appliance (<c>camfw run</c>, a child process in the appliance namespace, <c>Bridge:XdpOffload: on</c>)
/// killed with SIGKILL: no code of it runs on the way out, so only the kernel can detach its XDP programs. Root only.
/// </summary>
public sealed class CamfwFailClosedTests
{
    [RootFact]
    public async Task Camfw_KilledWithSigkill_ProgramsDetachAndNothingCrossesAfterwards()
    {
        await using var lab = Create(offload: false, startBridge: false);
        var policy = Directory.CreateDirectory(Path.Combine(lab.WorkDirectory, "policies")).FullName;
        File.WriteAllText(Path.Combine(policy, "site.yaml"), XdpBridgeLab.Policy);
        var config = Path.Combine(lab.WorkDirectory, "camfw.json");
        File.WriteAllText(config, $$"""
            {
              "Bridge": {
                "Pairs": [ { "Name": "xdp", "CameraInterface": "{{lab.ApplianceCameraPort}}", "UplinkInterface": "{{lab.ApplianceUplinkPort}}" } ],
                "XdpOffload": "on",
                "XdpSweepInterval": "00:00:00.100"
              },
              "Policy": { "Directory": "{{policy}}", "StateDirectory": "{{Path.Combine(lab.WorkDirectory, "state")}}", "Watch": false },
              "Management": { "Enabled": false }
            }
            """);

        var (file, prefix) = FindCamfw();
        var camfw = lab.Lab.Start(lab.ApplianceNamespace, file, [.. prefix, "run", "--config", config]);
        var output = new ConcurrentQueue<string>();
        camfw.OutputDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        camfw.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        camfw.BeginOutputReadLine();
        camfw.BeginErrorReadLine();
        Eventually.True(
            () => output.Any(l => l.Contains("forwarded in the kernel", StringComparison.Ordinal)) || camfw.HasExited,
            "camfw did not start", within: TimeSpan.FromSeconds(60));
        Assert.False(camfw.HasExited, string.Join("\n", output));
        Assert.True(XdpAttached(lab), "camfw attached its programs");

        // An established flow whose segments the kernel forwards.
        lab.FromUplink(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(45000, 554, TcpFlags.Syn).ToArray());
        Assert.Single(lab.WaitArrival(atCamera: true, 1));
        lab.FromCamera(FrameBuilder.Ethernet(CameraMac, RouterMac).Ipv4(Camera, Nvr).Tcp(554, 45000, TcpFlags.Syn | TcpFlags.Ack).ToArray());
        Assert.Single(lab.WaitArrival(atCamera: false, 1));
        lab.FromUplink(FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(45000, 554, TcpFlags.Ack).ToArray());
        Assert.Single(lab.WaitArrival(atCamera: true, 1));
        Thread.Sleep(200);
        for (var i = 0; i < 50; i++)
        {
            lab.FromUplink(Segment(i));
        }

        Assert.Equal(50, lab.WaitArrival(atCamera: true, 50).Count); // positive control

        camfw.Kill(entireProcessTree: false); // SIGKILL
        Assert.True(camfw.WaitForExit(10_000));
        Eventually.True(() => !XdpAttached(lab), "the kernel detached the programs when camfw died");

        for (var i = 50; i < 100; i++)
        {
            lab.FromUplink(Segment(i));
        }

        Assert.Empty(lab.ArrivedAtCamera(TimeSpan.FromSeconds(1)));
    }

    private static byte[] Segment(int seq)
        => FrameBuilder.Ethernet(RouterMac, CameraMac).Ipv4(Nvr, Camera).Tcp(45000, 554, TcpFlags.Psh | TcpFlags.Ack).Seq((uint)seq).Payload(new byte[100]).ToArray();

    private static bool XdpAttached(XdpBridgeLab lab)
        => lab.Lab.Exec(lab.ApplianceNamespace, "ip", "link", "show", lab.ApplianceCameraPort).Contains("xdp", StringComparison.Ordinal)
            || lab.Lab.Exec(lab.ApplianceNamespace, "ip", "link", "show", lab.ApplianceUplinkPort).Contains("xdp", StringComparison.Ordinal);

    private static (string File, string[] Prefix) FindCamfw()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "camfw");
        if (File.Exists(apphost))
        {
            return (apphost, []);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, "camfw.dll");
        Assert.True(File.Exists(dll), $"camfw is not next to the tests in {AppContext.BaseDirectory}");
        return (Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet", [dll]);
    }
}
