using System.CommandLine;
using System.Globalization;
using System.Net;
using Appliance.Core;
using Appliance.Core.Engine;
using Appliance.Core.Policy;
using Appliance.Learn;
using Appliance.Policy;
using Appliance.Transport;
using Appliance.Transport.PcapFile;

namespace Appliance.Host.Cli;

/// <summary>
/// <c>camfw learn CAPTURE... --camera-side CIDR|MAC... [--camera-interface NAME|INDEX...] [--policy DIR]
/// [--site-network CIDR...] --out DIR</c>: proposes a least-privilege policy from what the camera-side devices were
/// seen doing. Captures are read by the replay backend (<see cref="PcapReplay"/>) twice: first to find the
/// camera-side devices, then through an engine that lets each of them do anything, so its DNS learning teaches
/// each device's names exactly as enforcement would, while <see cref="TrafficLearner"/> aggregates every frame.
/// </summary>
internal static class LearnCommand
{
    private const string Description = """
        Propose a policy from captured traffic: every camera-side device becomes a camera with what it was seen doing,
        and nothing else. Flows to public addresses are listed for a decision, never allowed; inbound connections
        from public addresses, connections that never completed and one-off probes are listed, not learned.

        The camera side: name it with --camera-side (the camera network's prefix, or the devices' MACs), or for a
        pcapng recorded on both bridge ports with --camera-interface. With --policy, its cameras keep their names,
        its named networks replace addresses, its networks count as the site (not public), and diff.txt says what
        applying the proposal would change. The proposal is never applied: review it, then
        camfw apply DIR --confirm-within 120.
        """;

    public static Command Create()
    {
        var captures = new Argument<string[]>("captures") { Description = "pcap or pcapng captures, in time order.", Arity = ArgumentArity.OneOrMore };
        var cameraSide = new Option<string[]>("--camera-side")
        {
            Description = "A MAC, address or CIDR prefix on the camera side (repeatable). Prefixes also count as the site (not public).",
            AllowMultipleArgumentsPerToken = true,
        };
        var cameraInterface = new Option<string[]>("--camera-interface")
        {
            Description = "pcapng interface (if_name or 0-based index) that is the camera port (repeatable).",
            AllowMultipleArgumentsPerToken = true,
        };
        var policy = new Option<string?>("--policy") { Description = "The site's current policy directory (camera names, named networks, a diff)." };
        var site = new Option<string[]>("--site-network")
        {
            Description = "A prefix of the site that is not private (repeatable): flows to it can be allowed; everything public is only listed.",
            AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "Directory to write the proposal to (must not exist, or be empty).", Required = true };
        var ieee = new Option<string>("--ieee-data") { Description = "Directory of the IEEE registry CSVs (Debian's ieee-data).", DefaultValueFactory = _ => OuiRegistry.DebianDirectory };
        var command = new Command("learn", Description) { captures, cameraSide, cameraInterface, policy, site, output, ieee };
        command.SetAction(parseResult => Run(
            parseResult.GetValue(captures) ?? [],
            new LearnArguments
            {
                CameraSide = parseResult.GetValue(cameraSide) ?? [],
                CameraInterfaces = parseResult.GetValue(cameraInterface) ?? [],
                PolicyDirectory = parseResult.GetValue(policy),
                SiteNetworks = parseResult.GetValue(site) ?? [],
                OutputDirectory = parseResult.GetValue(output)!,
                IeeeDirectory = parseResult.GetValue(ieee) ?? OuiRegistry.DebianDirectory,
            },
            parseResult.InvocationConfiguration.Output,
            parseResult.InvocationConfiguration.Error));
        return command;
    }

    internal sealed record LearnArguments
    {
        public IReadOnlyList<string> CameraSide { get; init; } = [];

        public IReadOnlyList<string> CameraInterfaces { get; init; } = [];

        public string? PolicyDirectory { get; init; }

        public IReadOnlyList<string> SiteNetworks { get; init; } = [];

        public required string OutputDirectory { get; init; }

        public string IeeeDirectory { get; init; } = OuiRegistry.DebianDirectory;

        public LearnOptions Options { get; init; } = new();
    }

    internal static int Run(IReadOnlyList<string> captures, LearnArguments args, TextWriter output, TextWriter error)
    {
        if (captures.Count == 0)
        {
            error.WriteLine("learn: name at least one capture.");
            return 1;
        }

        if (!ReplayCommand.TryParseCameraSide(args.CameraSide, out var macs, out var networks, out var bad))
        {
            error.WriteLine($"learn: --camera-side {bad} is neither a MAC (02:00:00:00:0c:01), an address nor a CIDR prefix with its host bits zero (192.0.2.0/24).");
            return 1;
        }

        if (!ReplayCommand.TryParseCameraSide(args.SiteNetworks, out var siteMacs, out var siteNetworks, out bad) || siteMacs.Count > 0)
        {
            error.WriteLine($"learn: --site-network {bad ?? siteMacs[0].ToString()} is not an address or a CIDR prefix with its host bits zero.");
            return 1;
        }

        if (macs.Count == 0 && networks.Count == 0 && args.CameraInterfaces.Count == 0)
        {
            error.WriteLine("learn: say which side the cameras are on: --camera-side CIDR|MAC... or --camera-interface NAME (pcapng of both ports).");
            return 1;
        }

        if (Directory.Exists(args.OutputDirectory) && Directory.EnumerateFileSystemEntries(args.OutputDirectory).Any())
        {
            error.WriteLine($"learn: {args.OutputDirectory} is not empty; choose a new directory (nothing is overwritten).");
            return 1;
        }

        if (File.Exists(args.OutputDirectory))
        {
            error.WriteLine($"learn: {args.OutputDirectory} is a file; --out names a directory.");
            return 1;
        }

        PolicySpec? current = null;
        if (args.PolicyDirectory is { } policyDirectory)
        {
            var load = PolicyLoader.LoadDirectory(policyDirectory);
            if (load.HasErrors || load.Spec is null)
            {
                foreach (var diagnostic in load.Diagnostics)
                {
                    error.WriteLine(diagnostic.ToString());
                }

                error.WriteLine($"learn: the policy in {policyDirectory} has errors; nothing was learned.");
                return 1;
            }

            current = load.Spec;
        }

        var vendors = OuiRegistry.Load(args.IeeeDirectory, out var ieeeProblems);
        foreach (var problem in ieeeProblems)
        {
            error.WriteLine($"learn: warning: {problem}; vendors from it are unknown.");
        }

        var sides = new ReplaySides { CameraInterfaces = args.CameraInterfaces };
        LearnSnapshot snapshot;
        try
        {
            var devices = FindDevices(captures, current, macs, networks, sides, args.Options, error);
            if (devices is null)
            {
                return 1;
            }

            var learned = Learn(captures, devices, macs, networks, sides, args.Options, error);
            if (learned is null)
            {
                return 1;
            }

            snapshot = learned;
        }
        catch (Exception ex) when (ex is PacketPortException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"learn: {ex.Message}");
            return 1;
        }

        var proposal = ProposalBuilder.Build(snapshot, new ProposalContext
        {
            Policy = current,
            SiteNetworks = [.. networks, .. siteNetworks],
            Vendors = vendors,
            Options = args.Options,
            Source = string.Join(", ", captures.Select(Path.GetFileName)),
        });

        // The same reader `camfw policy check` uses: a proposal that does not load is a bug here, never written.
        var check = PolicyLoader.Load(proposal.PolicySources);
        if (check.HasErrors || check.Spec is null)
        {
            foreach (var diagnostic in check.Diagnostics)
            {
                error.WriteLine(diagnostic.ToString());
            }

            error.WriteLine("learn: the proposal does not pass the policy check (a camfw bug); nothing was written.");
            return 1;
        }

        var files = proposal.Files.ToList();
        if (current is not null)
        {
            files.Add(new ProposalFile("diff.txt", ProposalDiff.Between(current, check.Spec)));
        }

        try
        {
            Write(args.OutputDirectory, files);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"learn: cannot write {args.OutputDirectory}: {ex.Message}");
            return 1;
        }

        PrintSummary(output, args.OutputDirectory, snapshot, proposal, check, current is not null);
        return 0;
    }

    /// <summary>Pass 1: who is on the camera side (no engine decision matters here).</summary>
    private static List<LearnedDevice>? FindDevices(IReadOnlyList<string> captures, PolicySpec? current, List<MacAddress> macs, List<IPNetwork> networks, ReplaySides sides, LearnOptions options, TextWriter error)
    {
        var empty = new PolicySpec { Cameras = [], Sha256 = "learn-pass-1" };
        var engine = NewEngine(empty);
        var learner = new TrafficLearner(options);
        var classifier = new CameraSideClassifier(current ?? empty, macs, networks);
        foreach (var capture in captures)
        {
            var result = PcapReplay.Run(capture, engine, classifier, new ReplayOutputs { Observer = new Observer(learner) }, sides);
            if (result.Error is not null)
            {
                error.WriteLine($"learn: {result.Error}");
                error.WriteLine($"learn: stopped in {capture} after {result.Frames} of {result.FramesRead} frames; nothing was written.");
                return null;
            }
        }

        var devices = learner.Snapshot().Devices.ToList();
        if (devices.Count == 0)
        {
            error.WriteLine("learn: no frame came from the camera side; check --camera-side / --camera-interface. Nothing was written.");
            return null;
        }

        return devices;
    }

    /// <summary>
    /// Pass 2: every device a camera that may do anything, so the engine forwards (and learns from) its DNS answers
    /// as it would under a policy that allows its resolver; the learner aggregates every frame whatever the verdict.
    /// </summary>
    private static LearnSnapshot? Learn(IReadOnlyList<string> captures, List<LearnedDevice> devices, List<MacAddress> macs, List<IPNetwork> networks, ReplaySides sides, LearnOptions options, TextWriter error)
    {
        var learner = new TrafficLearner(options);
        var (engine, spec) = LearningEngine.Create(devices, learner);
        var classifier = new CameraSideClassifier(spec, macs, networks);
        foreach (var capture in captures)
        {
            var result = PcapReplay.Run(capture, engine, classifier, new ReplayOutputs { Observer = new Observer(learner) }, sides);
            if (result.Error is not null)
            {
                error.WriteLine($"learn: {result.Error}");
                return null;
            }
        }

        return learner.Snapshot();
    }

    private static PacketEngine NewEngine(PolicySpec spec)
    {
        var holder = new PolicyHolder();
        holder.Swap(CompiledPolicy.Compile(spec, holder.NextVersion(), holder.Slots));
        return new PacketEngine(holder);
    }

    private static void Write(string directory, List<ProposalFile> files)
    {
        // Written next to the target and renamed into place: a failure part-way leaves no half proposal behind.
        var full = Path.GetFullPath(directory);
        var parent = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(parent);
        var temporary = Path.Combine(parent, "." + Path.GetFileName(full) + ".learn-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }

        try
        {
            foreach (var file in files)
            {
                var path = Path.Combine(temporary, file.Name);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, file.Text);
            }

            if (Directory.Exists(full))
            {
                Directory.Delete(full); // empty (checked before learning)
            }

            Directory.Move(temporary, full);
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
    }

    private static void PrintSummary(TextWriter output, string directory, LearnSnapshot snapshot, Proposal proposal, PolicyLoadResult check, bool diff)
    {
        var outcomes = proposal.Outcomes;
        output.WriteLine($"learn: {snapshot.Counters.Frames:N0} frames, {snapshot.Devices.Count} camera-side device(s), {snapshot.Services.Count} distinct services seen.");
        output.WriteLine($"  allowed:            {outcomes.Count(o => o.Outcome == ServiceOutcome.Allowed)} service(s), as {check.Spec!.Cameras.Sum(c => c.Rules.Count)} rule(s) over {check.Spec.Cameras.Count} camera(s)");
        output.WriteLine($"  needs a decision:   {outcomes.Count(o => o.Outcome == ServiceOutcome.NeedsDecision)} (to public addresses; commented out in the camera files)");
        output.WriteLine($"  not learned:        {outcomes.Count(o => o.Outcome is ServiceOutcome.InboundFromPublic)} inbound from public, {outcomes.Count(o => o.Outcome is ServiceOutcome.NeverCompleted)} never completed, {outcomes.Count(o => o.Outcome is ServiceOutcome.BelowThreshold)} below the threshold");
        output.WriteLine($"  policy check:       {check.ErrorCount} error(s), {check.WarningCount} warning(s)");
        output.WriteLine($"Proposal written to {directory} (REVIEW.md explains it{(diff ? "; diff.txt compares it with --policy" : string.Empty)}).");
        output.WriteLine($"Review it, then: camfw apply {directory} --confirm-within 120");
    }

    private sealed class Observer(TrafficLearner learner) : IReplayObserver
    {
        public void OnJudged(ReadOnlySpan<byte> frame, bool rawIp, Side side, long nowMs, in Verdict verdict, int wireLength)
            => learner.Observe(frame, rawIp, side, nowMs, wireLength);
    }
}
