using System.Runtime.InteropServices;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.Transport;
using Appliance.Transport.LibPcap;
using Appliance.Transport.Xdp;

// The bridge throughput driver for benchmarks/bridge/run.sh: the production data plane (LibPcapPort x2 +
// BridgeDataPlane + PacketEngine with a compiled policy, started as camfw starts it: engine warm-up first) and
// nothing else, so the figure is the data path's. With --xdp, established flows go through the XDP fast path.
// Usage: BridgeBench POLICY_DIR CAMERA_IF UPLINK_IF [--xdp] [--no-warmup] [--buffer-size BYTES] [--cpus LIST]. Runs
// until SIGTERM/SIGINT, then prints one line of counters. --buffer-size sets both capture rings (Bridge:Port:BufferSize),
// --cpus the CPUs of the data-plane thread (Bridge:DataPlaneCpus).
var flags = args.Skip(3).ToList();
var xdp = flags.Contains("--xdp");

// The rings the appliance opens: Bridge:Port:BufferSize, or Bridge:XdpPortBufferSize while the fast path is on.
var portOptions = new LibPcapPortOptions();
if (xdp)
{
    portOptions.BufferSize = new XdpOffloadOptions().XdpPortBufferSize;
}

var sizeAt = flags.IndexOf("--buffer-size");
if (sizeAt >= 0)
{
    if (sizeAt + 1 >= flags.Count || !int.TryParse(flags[sizeAt + 1], out var size))
    {
        Console.Error.WriteLine("--buffer-size needs a size in bytes");
        return 2;
    }

    portOptions.BufferSize = size;
    flags.RemoveRange(sizeAt, 2);
}

CpuSet? cpus = null;
var cpusAt = flags.IndexOf("--cpus");
if (cpusAt >= 0)
{
    if (cpusAt + 1 >= flags.Count || !CpuSet.TryParse(flags[cpusAt + 1], out var set, out _))
    {
        Console.Error.WriteLine("--cpus needs a CPU list such as 1 or 2-3");
        return 2;
    }

    cpus = set;
    flags.RemoveRange(cpusAt, 2);
}

if (args.Length < 3 || flags.Any(a => a is not ("--xdp" or "--no-warmup")))
{
    Console.Error.WriteLine("usage: BridgeBench POLICY_DIR CAMERA_IF UPLINK_IF [--xdp] [--no-warmup] [--buffer-size BYTES] [--cpus LIST]");
    return 2;
}

var load = PolicyLoader.LoadDirectory(args[0]);
if (load.HasErrors || load.Spec is null)
{
    foreach (var d in load.Diagnostics)
    {
        Console.Error.WriteLine(d);
    }

    return 1;
}

var holder = new PolicyHolder();
holder.Swap(CompiledPolicy.Compile(load.Spec, holder.NextVersion(), holder.Slots));
if (!flags.Contains("--no-warmup"))
{
    var (elapsed, frames) = EngineWarmup.Run();
    Console.Error.WriteLine($"warm-up: {frames} frames in {elapsed.TotalMilliseconds:F0} ms");
}

InterfacePreparation.Prepare(args[1], args[2]);
var engine = new PacketEngine(holder);
XdpFlowOffload? offload = null;
BridgeDataPlane bridge;
if (xdp)
{
    offload = XdpFlowOffload.Attach(args[1], args[2], holder);
    offload.Bind(engine);
    bridge = BridgeDataPlane.Create(LibPcapPort.Open(args[1], portOptions), LibPcapPort.Open(args[2], portOptions), new XdpOffloadDecider(engine, offload), options: new BridgeOptions { Cpus = cpus });
}
else
{
    bridge = new BridgeDataPlane(LibPcapPort.Open(args[1], portOptions), LibPcapPort.Open(args[2], portOptions), engine, options: new BridgeOptions { Cpus = cpus });
}

bridge.Start();

using var stop = new ManualResetEventSlim();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
Console.WriteLine("ready");
WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)bridge.Completion).AsyncWaitHandle]);
offload?.DetachPrograms();
await bridge.StopAsync();
offload?.SweepFinal();
offload?.Dispose();
var cam = bridge.CameraSide;
var up = bridge.UplinkSide;
var kernel = offload is null ? "" : $" | xdp: installed={offload.Installed} kernel_forwarded={offload.FramesForwarded}";
Console.WriteLine($"camfw camera: received={cam.FramesReceived} passed={cam.FramesPassed} dropped={cam.FramesDropped} forwarded={cam.FramesForwarded} send_errors={cam.SendErrors} capture_drops={cam.CaptureDrops} | uplink: received={up.FramesReceived} dropped={up.FramesDropped} | engine passed={engine.Counters.FramesPassed}{kernel}");
return bridge.Fault is null ? 0 : 1;
