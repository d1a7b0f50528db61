using System.Runtime.InteropServices;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.Transport;
using Appliance.Transport.LibPcap;

// The bridge throughput driver for benchmarks/bridge/run.sh: the production data plane (LibPcapPort x2 +
// BridgeDataPlane + PacketEngine with a compiled policy) and nothing else, so the figure is the data path's.
// Usage: BridgeBench POLICY_DIR CAMERA_IF UPLINK_IF. Runs until SIGTERM/SIGINT, then prints one line of counters.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: BridgeBench POLICY_DIR CAMERA_IF UPLINK_IF");
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
InterfacePreparation.Prepare(args[1], args[2]);
await using var bridge = new BridgeDataPlane(LibPcapPort.Open(args[1]), LibPcapPort.Open(args[2]), new PacketEngine(holder));
bridge.Start();

using var stop = new ManualResetEventSlim();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
Console.WriteLine("ready");
WaitHandle.WaitAny([stop.WaitHandle, ((IAsyncResult)bridge.Completion).AsyncWaitHandle]);
var cam = bridge.CameraSide;
var up = bridge.UplinkSide;
await bridge.StopAsync();
Console.WriteLine($"camfw camera: received={cam.FramesReceived} passed={cam.FramesPassed} dropped={cam.FramesDropped} forwarded={cam.FramesForwarded} send_errors={cam.SendErrors} capture_drops={cam.CaptureDrops} | uplink: received={up.FramesReceived} dropped={up.FramesDropped}");
return bridge.Fault is null ? 0 : 1;
