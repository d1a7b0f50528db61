using System.Runtime.InteropServices;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Netns;
using Appliance.Transport.LibPcap;

namespace Appliance.Transport.Xdp.Tests;

/// <summary>
/// A camera host, the appliance's two ports (their own namespace) and an uplink host, on veths this lab makes and
/// removes. The two hosts are libpcap ports on the outer veth ends: tests put exact frames on the wire and read
/// exactly what arrives. The appliance is the production bridge (libpcap ports, BridgeDataPlane, PacketEngine) with
/// or without the XDP fast path. The outer ends run an XDP pass program: a veth accepts redirected frames only when
/// its peer runs XDP (a real NIC needs nothing of the kind).
/// </summary>
internal sealed class XdpBridgeLab : IAsyncDisposable
{
    public const string CameraMacText = "02:00:00:00:0c:01";
    public const string RouterMacText = "02:00:00:00:0a:01";
    public const string Camera = "192.0.2.10";
    public const string Nvr = "192.0.2.20";
    public const string Camera6 = "2001:db8::10";
    public const string Nvr6 = "2001:db8::20";

    public static readonly MacAddress CameraMac = Mac(CameraMacText);
    public static readonly MacAddress RouterMac = Mac(RouterMacText);

    public const string Policy = $"""
        site:
          ipv6: true
        networks:
          nvr: [{Nvr}, {Nvr6}]
        cameras:
          gate:
            mac: {CameraMacText}
            ip: [{Camera}, {Camera6}]
            rules:
              - id: rtsp-from-nvr
                direction: ingress
                protocol: tcp
                ports: 554
                peer: nvr
              - id: video-to-nvr
                direction: egress
                protocol: udp
                ports: 5004
                peer: nvr
        """;

    /// <summary>The same site without either rule: every flow of the first is revoked.</summary>
    public const string RevokedPolicy = $"""
        site:
          ipv6: true
        networks:
          nvr: [{Nvr}, {Nvr6}]
        cameras:
          gate:
            mac: {CameraMacText}
            ip: [{Camera}, {Camera6}]
        """;

    private readonly NetnsLab _lab;
    private readonly DirectoryInfo _work;
    private readonly List<IDisposable> _pass = [];

    private XdpBridgeLab(NetnsLab lab, DirectoryInfo work)
    {
        _lab = lab;
        _work = work;
    }

    public NetnsLab Lab => _lab;

    public string ApplianceNamespace { get; private set; } = "";

    public string CameraNamespace { get; private set; } = "";

    public string UplinkNamespace { get; private set; } = "";

    public string ApplianceCameraPort { get; private set; } = "";

    public string ApplianceUplinkPort { get; private set; } = "";

    public PolicyHolder Policies { get; } = new();

    public PacketEngine Engine { get; private set; } = null!;

    public XdpFlowOffload? Offload { get; private set; }

    public BridgeDataPlane Bridge { get; private set; } = null!;

    public LibPcapPort CameraHost { get; private set; } = null!;

    public LibPcapPort UplinkHost { get; private set; } = null!;

    public string WorkDirectory => _work.FullName;

    /// <summary>Builds the network and, unless <paramref name="startBridge"/> is false, the appliance.</summary>
    public static XdpBridgeLab Create(bool offload, EngineOptions? engineOptions = null, bool startBridge = true)
    {
        var lab = new XdpBridgeLab(new NetnsLab("xd"), Directory.CreateTempSubdirectory("camfw-xdp-"));
        try
        {
            lab.Build();
            lab.Swap(Policy);
            if (startBridge)
            {
                lab.StartBridge(offload, engineOptions);
            }

            return lab;
        }
        catch
        {
            lab.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    private void Build()
    {
        CameraNamespace = _lab.AddNamespace("c");
        ApplianceNamespace = _lab.AddNamespace("a");
        UplinkNamespace = _lab.AddNamespace("u");
        var (camEth, apCam) = _lab.AddVeth(CameraNamespace, ApplianceNamespace, macA: CameraMacText);
        var (apUp, upEth) = _lab.AddVeth(ApplianceNamespace, UplinkNamespace, macB: RouterMacText);
        ApplianceCameraPort = apCam;
        ApplianceUplinkPort = apUp;

        // No addresses anywhere: the hosts' kernels answer nothing; the tests' frames are all there is.
        _lab.Exec(CameraNamespace, "ethtool", "-K", camEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");
        _lab.Exec(UplinkNamespace, "ethtool", "-K", upEth, "tso", "off", "gso", "off", "gro", "off", "tx", "off");
        _pass.Add(NetnsLab.InNamespace(CameraNamespace, () => XdpPassProgram.Attach(camEth)));
        _pass.Add(NetnsLab.InNamespace(UplinkNamespace, () => XdpPassProgram.Attach(upEth)));
        CameraHost = NetnsLab.InNamespace(CameraNamespace, () => LibPcapPort.Open(camEth));
        UplinkHost = NetnsLab.InNamespace(UplinkNamespace, () => LibPcapPort.Open(upEth));
    }

    public void StartBridge(bool offload, EngineOptions? engineOptions = null)
    {
        Engine = new PacketEngine(Policies, engineOptions);
        var (camera, uplink, fast) = NetnsLab.InNamespace(ApplianceNamespace, () =>
        {
            InterfacePreparation.Prepare(ApplianceCameraPort, ApplianceUplinkPort);
            var o = offload ? XdpFlowOffload.Attach(ApplianceCameraPort, ApplianceUplinkPort, Policies, TimeSpan.FromMilliseconds(100)) : null;
            return (LibPcapPort.Open(ApplianceCameraPort), LibPcapPort.Open(ApplianceUplinkPort), o);
        });
        Offload = fast;
        if (fast is not null)
        {
            fast.Bind(Engine);
            Bridge = BridgeDataPlane.Create(camera, uplink, new XdpOffloadDecider(Engine, fast));
        }
        else
        {
            Bridge = new BridgeDataPlane(camera, uplink, Engine);
        }

        Bridge.Start();
    }

    /// <summary>Loads, compiles and publishes <paramref name="yaml"/> as the next policy version.</summary>
    public CompiledPolicy Swap(string yaml)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_work.FullName, $"policy-{Guid.NewGuid():N}")).FullName;
        File.WriteAllText(Path.Combine(dir, "site.yaml"), yaml);
        var load = PolicyLoader.LoadDirectory(dir);
        Assert.False(load.HasErrors, string.Join("\n", load.Diagnostics));
        var compiled = CompiledPolicy.Compile(load.Spec!, Policies.NextVersion(), Policies.Slots);
        Policies.Swap(compiled);
        return compiled;
    }

    public void FromCamera(byte[] frame) => Assert.True(CameraHost.TrySend(frame), "the camera host could not send");

    public void FromUplink(byte[] frame) => Assert.True(UplinkHost.TrySend(frame), "the uplink host could not send");

    /// <summary>
    /// Sends a frame the engine must see (a handshake segment, FIN, RST, SYN, a spoof) and waits until the bridge has
    /// taken it, so that the next frame, from either side, is decided after it, as it would be on a wire where the
    /// hosts answer each other. (The two ports' receive queues are independent: without the wait, a frame sent later
    /// on the other port may be read first.)
    /// </summary>
    public void Settled(Action send)
    {
        var before = UserSpaceFrames;
        send();
        Eventually.True(() => UserSpaceFrames > before, "the bridge did not receive the frame", within: TimeSpan.FromSeconds(10));
    }

    /// <summary>Frames the user-space bridge received from both ports.</summary>
    public long UserSpaceFrames => Bridge.CameraSide.FramesReceived + Bridge.UplinkSide.FramesReceived;

    /// <summary>Every frame that arrived at the uplink host since the last call, waiting until none came for <paramref name="quiet"/>.</summary>
    public List<byte[]> ArrivedAtUplink(TimeSpan? quiet = null) => Collect(UplinkHost, quiet ?? TimeSpan.FromMilliseconds(300));

    /// <summary>Every frame that arrived at the camera host since the last call.</summary>
    public List<byte[]> ArrivedAtCamera(TimeSpan? quiet = null) => Collect(CameraHost, quiet ?? TimeSpan.FromMilliseconds(300));

    /// <summary>Waits until <paramref name="count"/> frames arrived at one host (or 10 s passed) and returns them.</summary>
    public List<byte[]> WaitArrival(bool atCamera, int count)
    {
        var port = atCamera ? CameraHost : UplinkHost;
        var frames = new List<byte[]>();
        var until = DateTime.UtcNow.AddSeconds(10);
        while (frames.Count < count && DateTime.UtcNow < until)
        {
            var handler = new Collector(frames);
            if (port.Receive(ref handler, 256) == 0)
            {
                Thread.Sleep(2);
            }
        }

        return frames;
    }

    private static List<byte[]> Collect(LibPcapPort port, TimeSpan quiet)
    {
        var frames = new List<byte[]>();
        var lastArrival = DateTime.UtcNow;
        while (DateTime.UtcNow - lastArrival < quiet)
        {
            var handler = new Collector(frames);
            if (port.Receive(ref handler, 256) > 0)
            {
                lastArrival = DateTime.UtcNow;
            }
            else
            {
                Thread.Sleep(5);
            }
        }

        return frames;
    }

    public async ValueTask DisposeAsync()
    {
        if (Bridge is not null)
        {
            await Bridge.StopAsync();
        }

        Offload?.Dispose();
        CameraHost?.Dispose();
        UplinkHost?.Dispose();
        foreach (var p in _pass)
        {
            p.Dispose();
        }

        _lab.Dispose();
        _work.Delete(recursive: true);
    }

    private static MacAddress Mac(string text) => MacAddress.TryParse(text, out var mac) ? mac : throw new ArgumentException(text);

    private readonly struct Collector(List<byte[]> frames) : IFrameHandler
    {
        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata) => frames.Add(frame.ToArray());
    }
}

/// <summary>Attaches bpf/xdp_pass.bpf.c natively to an interface of the calling thread's namespace, for as long as the handle lives.</summary>
internal static unsafe class XdpPassProgram
{
    public static IDisposable Attach(string interfaceName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "xdp_pass.bpf.o");
        var obj = LibBpf.bpf_object__open_file(path, null);
        Assert.True(obj != 0, $"cannot open {path}: errno {Marshal.GetLastPInvokeError()}");
        Assert.True(LibBpf.bpf_object__load(obj) == 0, "cannot load xdp_pass");
        var fd = LibBpf.bpf_program__fd(LibBpf.bpf_object__find_program_by_name(obj, "xdp_pass"));
        var options = new LibBpf.LinkCreateOptions { Size = (nuint)sizeof(LibBpf.LinkCreateOptions), Flags = LibBpf.XdpFlagsDriverMode };
        var link = LibBpf.bpf_link_create(fd, (int)LibBpf.if_nametoindex(interfaceName), LibBpf.AttachXdp, &options);
        Assert.True(link >= 0, $"cannot attach xdp_pass to {interfaceName}: {-link}");
        return new Handle(obj, link);
    }

    private sealed class Handle(nint obj, int link) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _ = LibBpf.close(link);
                LibBpf.bpf_object__close(obj);
            }
        }
    }
}
