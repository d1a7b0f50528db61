using System.CommandLine;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Policy;
using Appliance.Transport;
using Appliance.Transport.PcapFile;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw replay --policy DIR capture.pcap [--verdicts F.tsv] [--write-passed F] [--write-dropped F]</c>: runs a
/// capture through the engine in order, with the capture's timestamps as the clock, and reports what the policy
/// would have done. The way to try a policy change against real traffic before it goes live.
/// </summary>
internal static class ReplayCommand
{
    private const int TopReasons = 3;

    public static Command Create()
    {
        var policy = new Option<string>("--policy") { Description = "The policy directory.", DefaultValueFactory = _ => "policies" };
        var capture = new Argument<string>("capture") { Description = "A pcap or pcapng capture (Ethernet or raw IP)." };
        var verdicts = new Option<string?>("--verdicts") { Description = "Write one line per frame: index, pass/drop, reason, rule id (TSV)." };
        var passed = new Option<string?>("--write-passed") { Description = "Write the frames that pass to this pcap file." };
        var dropped = new Option<string?>("--write-dropped") { Description = "Write the frames that are dropped to this pcap file." };
        var command = new Command("replay", "Run a capture through the policy and report per camera what would pass and what would drop.")
        {
            policy, capture, verdicts, passed, dropped,
        };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(policy) ?? "policies",
            parseResult.GetValue(capture)!,
            parseResult.GetValue(verdicts),
            parseResult.GetValue(passed),
            parseResult.GetValue(dropped),
            Console.Out,
            Console.Error));
        return command;
    }

    internal static int Run(string policyDirectory, string capture, string? verdictsPath, string? passedPath, string? droppedPath, TextWriter output, TextWriter error)
    {
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
            using var verdicts = verdictsPath is null ? null : new StreamWriter(verdictsPath, append: false) { NewLine = "\n" };
            result = PcapReplay.Run(capture, engine, new CameraSideClassifier(spec), new ReplayOutputs
            {
                Verdicts = verdicts,
                PassedPath = passedPath,
                DroppedPath = droppedPath,
            });
        }
        catch (Exception ex) when (ex is PacketPortException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"replay: {ex.Message}");
            return 1;
        }

        Print(result, capture, output);
        return 0;
    }

    private static void Print(ReplayResult result, string capture, TextWriter output)
    {
        output.WriteLine($"{capture}: {result.Frames} frames, {result.FramesPassed} passed, {result.FramesDropped} dropped");
        output.WriteLine();
        var width = Math.Max(8, result.Cameras.Count == 0 ? 8 : result.Cameras.Max(x => x.Name.Length));
        output.WriteLine($"{"camera".PadRight(width)}  {"passed",8} {"bytes",12}  {"dropped",8} {"bytes",12}  top drop reasons");
        foreach (var camera in result.Cameras)
        {
            var reasons = camera.DropReasons.Count == 0
                ? "-"
                : string.Join(", ", camera.DropReasons.Take(TopReasons).Select(r => $"{ReasonNames.Name(r.Reason)} {r.Count}"));
            output.WriteLine($"{camera.Name.PadRight(width)}  {camera.FramesPassed,8} {camera.BytesPassed,12}  {camera.FramesDropped,8} {camera.BytesDropped,12}  {reasons}");
        }

        output.WriteLine();
        output.WriteLine("reason totals");
        foreach (var (reason, count) in result.ReasonTotals)
        {
            output.WriteLine($"  {(ReasonNames.IsPassReason(reason) ? "pass" : "drop")}  {ReasonNames.Name(reason),-32} {count,10}");
        }
    }
}
