using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.Transport;
using Appliance.Transport.PcapFile;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw replay --policy DIR capture.pcap [--verdicts F.tsv] [--write-passed F] [--write-dropped F]
/// [--camera-side MAC|CIDR...] [--camera-interface NAME|INDEX...]</c>: runs a capture through the engine in order,
/// with the capture's timestamps as the clock, and reports what the policy would have done. The way to try a policy
/// change against real traffic before it goes live. How each frame's bridge side is decided is in the help text
/// below (and <see cref="PcapReplay"/>); outputs are written to temporary files and renamed only when the whole
/// capture was judged, and a capture that fails part-way still prints the summary of what was judged (exit 1).
/// </summary>
internal static class ReplayCommand
{
    private const int TopReasons = 3;

    private const string Description = """
        Run a capture through the policy and report per camera what would pass and what would drop.

        Sides: the bridge judges a frame by the port it arrived on; a capture file has to say. A frame counts as from
        the camera side when its source MAC or source IP (ARP: sender) is a listed camera's, or one named with
        --camera-side; everything else counts as from the uplink. So a device on the camera switch that is no
        camera (a rogue box, a laptop) is judged as an uplink host unless it is named: name the camera network
        (--camera-side 192.0.2.0/24, when no uplink host is in it) or the devices' MACs, and it is judged as the
        bridge would, as an unknown device. For a pcapng capture recorded on both bridge ports (dumpcap -i CAM -i UP),
        --camera-interface CAM decides by port instead; frames the capture marks as sent by a port (outbound copies
        of what the other port received) are then not judged twice. The summary counts frames per side and why.

        Time: the capture's timestamps drive the engine clock. Timestamps before 1970, after 9999, earlier than the
        frame before or missing are clamped to the previous frame's time (never negative, never backwards), counted
        and reported; clamping can only make a flow expire early, so it errs on the side of dropping.
        """;

    public static Command Create()
    {
        var policy = new Option<string>("--policy") { Description = "The policy directory.", DefaultValueFactory = _ => "policies" };
        var capture = new Argument<string>("capture") { Description = "A pcap or pcapng capture (Ethernet or raw IP; pcapng with any number of interfaces and sections)." };
        var verdicts = new Option<string?>("--verdicts") { Description = "Write one line per frame: index, pass/drop/skip, reason, rule id (TSV). Written only when the whole capture was judged." };
        var passed = new Option<string?>("--write-passed") { Description = "Write the frames that pass to this pcap file (only when the whole capture was judged)." };
        var dropped = new Option<string?>("--write-dropped") { Description = "Write the frames that are dropped to this pcap file (only when the whole capture was judged)." };
        var cameraSide = new Option<string[]>("--camera-side")
        {
            Description = "A MAC, address or CIDR prefix on the camera side besides the listed cameras (repeatable): such devices are judged as unknown devices on the camera port.",
            AllowMultipleArgumentsPerToken = true,
        };
        var cameraInterface = new Option<string[]>("--camera-interface")
        {
            Description = "pcapng interface (if_name or 0-based index) that is the camera port (repeatable): sides come from the interface, not from addresses.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("replay", Description)
        {
            policy, capture, verdicts, passed, dropped, cameraSide, cameraInterface,
        };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(policy) ?? "policies",
            parseResult.GetValue(capture)!,
            parseResult.GetValue(verdicts),
            parseResult.GetValue(passed),
            parseResult.GetValue(dropped),
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error,
            parseResult.GetValue(cameraSide) ?? [],
            parseResult.GetValue(cameraInterface) ?? []));
        return command;
    }

    internal static int Run(
        string policyDirectory,
        string capture,
        string? verdictsPath,
        string? passedPath,
        string? droppedPath,
        TextWriter output,
        TextWriter error,
        IReadOnlyList<string>? cameraSide = null,
        IReadOnlyList<string>? cameraInterfaces = null)
    {
        if (!TryParseCameraSide(cameraSide ?? [], out var macs, out var networks, out var bad))
        {
            error.WriteLine($"replay: --camera-side {bad} is neither a MAC (02:00:00:00:0c:01), an address nor a CIDR prefix with its host bits zero (192.0.2.0/24).");
            return 1;
        }

        var load = PolicyLoader.LoadDirectory(policyDirectory);
        foreach (var diagnostic in load.Diagnostics)
        {
            error.WriteLine(diagnostic.ToString());
        }

        if (load.HasErrors || load.Spec is not { } spec)
        {
            error.WriteLine($"replay: the policy in {policyDirectory} has errors; nothing was replayed.");
            return 1;
        }

        var holder = new PolicyHolder();
        try
        {
            holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        }
        catch (PolicyCompileException ex)
        {
            error.WriteLine($"replay: the policy does not compile: {ex.Message}");
            return 1;
        }

        var engine = new PacketEngine(holder);
        ReplayResult result;
        try
        {
            result = PcapReplay.Run(
                capture,
                engine,
                new CameraSideClassifier(spec, macs, networks),
                new ReplayOutputs { VerdictsPath = verdictsPath, PassedPath = passedPath, DroppedPath = droppedPath },
                new ReplaySides { CameraInterfaces = cameraInterfaces ?? [] });
        }
        catch (Exception ex) when (ex is PacketPortException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"replay: {ex.Message}");
            return 1;
        }

        Print(result, capture, output);
        if (result.Error is not null)
        {
            var outputs = verdictsPath is null && passedPath is null && droppedPath is null
                ? string.Empty
                : " No output file was written (existing ones are unchanged).";
            error.WriteLine($"replay: {result.Error}");
            error.WriteLine($"replay: stopped after judging {result.Frames} of {result.FramesRead} frames read; the summary above covers those.{outputs}");
            return 1;
        }

        return 0;
    }

    internal static bool TryParseCameraSide(IReadOnlyList<string> items, out List<MacAddress> macs, out List<IPNetwork> networks, out string? bad)
    {
        macs = [];
        networks = [];
        bad = null;
        foreach (var item in items)
        {
            if (MacAddress.TryParse(item, out var mac))
            {
                macs.Add(mac);
            }
            else if (IPAddress.TryParse(item, out var address) && !item.Contains('/', StringComparison.Ordinal))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            }
            else if (IPNetwork.TryParse(item, out var network)
                && IPAddress.TryParse(item.AsSpan(0, item.IndexOf('/', StringComparison.Ordinal)), out var written)
                && written.Equals(network.BaseAddress))
            {
                // Host bits set (192.0.2.1/24) are refused, not masked: the operator may have meant a /32.
                networks.Add(network);
            }
            else
            {
                bad = item;
                return false;
            }
        }

        return true;
    }

    private static void Print(ReplayResult result, string capture, TextWriter output)
    {
        output.WriteLine($"{capture}: {result.Frames} frames, {result.FramesPassed} passed, {result.FramesDropped} dropped");
        if (result.FramesRead != result.Frames)
        {
            output.WriteLine($"  {result.FramesRead} frames read; not judged: {result.FramesOutboundCopies} outbound copies, {result.FramesUnsupportedLinkType} of an unsupported link type");
        }

        if (result.Interfaces.Count > 0)
        {
            output.WriteLine($"  interfaces: {string.Join("; ", result.Interfaces)}");
        }

        var s = result.Sides;
        var camera = s.CameraByCameraAddress + s.CameraByNamed + s.CameraByInterface;
        var uplink = s.UplinkByInterface + s.UplinkByDefault;
        output.WriteLine(s.CameraByInterface + s.UplinkByInterface > 0
            ? $"  sides (by interface): {camera} camera, {uplink} uplink"
            : $"  sides: {camera} camera ({s.CameraByCameraAddress} listed cameras, {s.CameraByNamed} --camera-side), {uplink} uplink (source neither a camera nor named camera-side)");
        var clock = result.Clock;
        if (clock.Clamped > 0)
        {
            output.WriteLine($"  timestamps clamped to the previous frame's: {clock.Negative} before 1970, {clock.OutOfRange} beyond 9999 or overflowing, {clock.Backwards} going backwards, {clock.Missing} missing");
        }

        output.WriteLine();
        var width = Math.Max(8, result.Cameras.Count == 0 ? 8 : result.Cameras.Max(x => x.Name.Length));
        output.WriteLine($"{"camera".PadRight(width)}  {"passed",8} {"bytes",12}  {"dropped",8} {"bytes",12}  top drop reasons");
        foreach (var row in result.Cameras)
        {
            var reasons = row.DropReasons.Count == 0
                ? "-"
                : string.Join(", ", row.DropReasons.Take(TopReasons).Select(r => $"{ReasonNames.Name(r.Reason)} {r.Count}"));
            output.WriteLine($"{row.Name.PadRight(width)}  {row.FramesPassed,8} {row.BytesPassed,12}  {row.FramesDropped,8} {row.BytesDropped,12}  {reasons}");
        }

        output.WriteLine();
        output.WriteLine("reason totals");
        foreach (var (reason, count) in result.ReasonTotals)
        {
            output.WriteLine($"  {(ReasonNames.IsPassReason(reason) ? "pass" : "drop")}  {ReasonNames.Name(reason),-32} {count,10}");
        }
    }
}
