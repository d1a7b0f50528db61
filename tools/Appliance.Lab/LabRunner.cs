using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Appliance.Management.Client;
using Spectre.Console;

namespace Appliance.Lab;

/// <summary>
/// <c>camfw lab</c> from start to finish: checks, lock, leftovers of a crashed run, namespaces, rsyslog, the
/// appliance, traffic, the live view, and a teardown that runs however the lab ends (duration, Ctrl-C, SIGTERM,
/// SIGHUP, a failure, or the process exiting under it).
/// </summary>
internal sealed class LabRunner : IDisposable
{
    /// <summary>The management API inside the appliance's namespace (its loopback; nothing else can reach it).</summary>
    private static readonly IPEndPoint ApiEndpoint = new(IPAddress.Loopback, 8080);

    private readonly LabOptions _options;
    private readonly LabSite _site = LabSite.Example;
    private readonly IAnsiConsole _console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        // Piped into a file or a test: plain text, no escape sequences.
        Ansi = Console.IsOutputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
        ColorSystem = Console.IsOutputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
        Interactive = Console.IsOutputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
    });
    private readonly Lock _teardownGate = new();
    private readonly List<LabProcess> _traffic = [];
    private readonly Stopwatch _clock = new();

    /// <summary>How far back "now" looks: a few attempts of every traffic role (they try every 2 s).</summary>
    private static readonly TimeSpan RecentWindow = TimeSpan.FromSeconds(6);

    private readonly Queue<(TimeSpan At, IReadOnlyList<LabCheck> Checks)> _checkHistory = new();
    private LabPaths? _paths;
    private LabLock? _lock;
    private LabProcess? _syslog;
    private LabProcess? _appliance;
    private ManagementClient? _api;
    private LabSnapshot? _lastSeen;
    private TimeSpan? _applianceExitedAt;
    private LabApiRelay? _relay;
    private bool _tornDown;
    private volatile bool _hungUp;

    public LabRunner(LabOptions options)
    {
        _options = options;
        if (Console.IsOutputRedirected)
        {
            // A log file has no width; keep each banner line on one line.
            _console.Profile.Width = 240;
        }
    }

    public async Task<int> RunAsync(CancellationToken cancel)
    {
        if (!CheckPlatform(out var failure))
        {
            _console.MarkupLine($"[red]camfw lab:[/] {Markup.Escape(failure)}");
            return 2;
        }

        var repository = LabPaths.FindRepository();
        if (repository is null)
        {
            _console.MarkupLine("[red]camfw lab:[/] cannot find the repository (lab/traffic.py and policies/); run it from the camfw checkout");
            return 2;
        }

        if (!EnsureTools(repository, out failure))
        {
            _console.MarkupLine($"[red]camfw lab:[/] {Markup.Escape(failure)}");
            return 2;
        }

        _paths = new LabPaths(repository, Path.GetFullPath(_options.WorkDirectory ?? Path.Combine(repository, ".lab")));
        _lock = LabLock.TryAcquire(_options.LockDirectory, out var holder);
        if (_lock is null)
        {
            _console.MarkupLine(holder > 0
                ? $"[red]camfw lab:[/] another lab is running (pid {holder}). Stop it first: Ctrl-C in its terminal, or [bold]kill {holder}[/]."
                : $"[red]camfw lab:[/] another lab is running (lock {Markup.Escape(Path.Combine(_options.LockDirectory, "lab.lock"))} is held).");
            return 3;
        }

        // However the process ends from here on (even if the command line's own Ctrl-C timeout lets Main return
        // before the finally below has finished), the namespaces and children go with it.
        EventHandler onExit = (_, _) => Teardown();
        AppDomain.CurrentDomain.ProcessExit += onExit;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            // The terminal went away: stop as on Ctrl-C rather than die with everything left behind.
            context.Cancel = true;
            _hungUp = true;
            stop.Cancel();
        });

        var exit = "interrupted";
        try
        {
            _clock.Start();
            Setup(stop.Token);
            await WaitForApplianceAsync(stop.Token).ConfigureAwait(false);
            StartTraffic();
            _relay = LabApiRelay.Start(_options.ApiRelayPort, LabNetwork.ApplianceNamespace, ApiEndpoint);
            PrintBanner();

            if (_options.Duration is { } duration)
            {
                stop.CancelAfter(duration);
            }

            await MonitorAsync(stop.Token).ConfigureAwait(false);
            exit = WhyStopped(cancel);
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped during set-up: not a failure, and the teardown below removes what was made so far.
            exit = WhyStopped(cancel);
            return 0;
        }
        catch (LabException e)
        {
            exit = "failed: " + e.Message;
            _console.MarkupLine($"[red]camfw lab failed:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
        catch (Exception e)
        {
            exit = "failed: " + e.Message;
            _console.MarkupLine($"[red]camfw lab failed:[/] {Markup.Escape(e.ToString())}");
            return 1;
        }
        finally
        {
            await WriteSummaryAsync(exit).ConfigureAwait(false);
            Teardown();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
    }

    private string WhyStopped(CancellationToken cancel) => cancel.IsCancellationRequested ? "interrupted" : _hungUp ? "hangup" : "duration";

    private static readonly string[] RequiredTools = ["ip", "ethtool", "setsid", "rsyslogd", "python3", "sysctl"];

    private static bool CheckPlatform(out string failure)
    {
        failure = "";
        if (!OperatingSystem.IsLinux())
        {
            failure = "the lab needs Linux network namespaces; run it on Linux (a Debian VM will do).";
            return false;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            failure = "the lab creates network namespaces and needs root: run sudo ./camfw lab";
            return false;
        }

        return true;
    }

    /// <summary>
    /// On a fresh machine some tools are missing (Debian no longer installs rsyslog by default, nor ethtool): the
    /// lab runs as root anyway, so it installs them with the repository's own script rather than send a newcomer
    /// away with a list.
    /// </summary>
    private bool EnsureTools(string repository, out string failure)
    {
        failure = "";
        var missing = RequiredTools.Where(tool => Shell.Find(tool) is null).ToList();
        var script = Path.Combine(repository, "scripts", "install-deps.sh");
        if (missing.Count > 0 && File.Exists(script))
        {
            _console.MarkupLine($"Missing {Markup.Escape(string.Join(", ", missing))}: running scripts/install-deps.sh (apt-get)...");
            using var install = Process.Start(new ProcessStartInfo("bash", [script]) { UseShellExecute = false });
            install?.WaitForExit();
            missing = RequiredTools.Where(tool => Shell.Find(tool) is null).ToList();
        }

        if (missing.Count > 0)
        {
            failure = $"missing {string.Join(", ", missing)}: install them (Debian: sudo scripts/install-deps.sh) and try again";
            return false;
        }

        return true;
    }

    private void Setup(CancellationToken ct)
    {
        var paths = _paths!;
        var removed = LabNetwork.RemoveAll();
        if (removed.Count > 0)
        {
            _console.MarkupLine($"[yellow]Removed leftovers of an earlier lab:[/] {Markup.Escape(string.Join(' ', removed))}");
        }

        Directory.CreateDirectory(paths.Work);
        foreach (var transient in new[] { paths.Logs, paths.State, Path.Combine(paths.Work, "status") })
        {
            if (Directory.Exists(transient))
            {
                Directory.Delete(transient, recursive: true);
            }

            Directory.CreateDirectory(transient);
        }

        File.Delete(paths.SyslogFile);
        File.Delete(paths.Summary);
        var source = Path.GetFullPath(_options.PolicyDirectory ?? Path.Combine(paths.Repository, "policies"));
        LabPaths.CopyPolicies(source, paths.Policies);
        WarnIfPolicyDiffers(paths.Policies);
        ct.ThrowIfCancellationRequested();

        Step("Building the lab network (namespaces cfwlab-*)", () => LabNetwork.Build(_site, _ => ct.ThrowIfCancellationRequested()));
        ct.ThrowIfCancellationRequested();

        _syslog = LabSyslog.Start(paths.Work, paths.SyslogFile);
        ApplianceConfig.Write(paths, ApiEndpoint, LabSyslog.Port);
        var (file, prefix) = LabPaths.FindAppliance() ?? throw new LabException($"camfw (the appliance) is not next to this program in {AppContext.BaseDirectory}; build the lab with ./camfw lab");
        _appliance = LabProcess.Start("camfw run", LabNetwork.ApplianceNamespace, file, [.. prefix, "run", "--config", paths.Config],
            Path.Combine(paths.Logs, "camfw.log"), paths.Work);
    }

    /// <summary>
    /// The lab's hosts are the example site's; say so when the policy no longer describes them. An invalid policy
    /// is left to the appliance, whose start-up error names every file, line and column.
    /// </summary>
    private void WarnIfPolicyDiffers(string policies)
    {
        var loaded = Appliance.Policy.PolicyLoader.LoadDirectory(policies);
        if (loaded.HasErrors || loaded.Spec is null)
        {
            return;
        }

        var problems = LabSiteCheck.Mismatches(_site, loaded.Spec);
        if (problems.Count > 0)
        {
            _console.MarkupLine("[yellow]This policy does not describe the lab's hosts the way the example site does; some expectations will not hold:[/]");
            foreach (var problem in problems)
            {
                _console.MarkupLine($"  [yellow]-[/] {Markup.Escape(problem)}");
            }
        }
    }

    private void Step(string what, Action action)
    {
        var started = Stopwatch.GetTimestamp();
        _console.Markup($"{Markup.Escape(what)}... ");
        try
        {
            action();
        }
        catch
        {
            _console.MarkupLine("[red]failed[/]");
            throw;
        }

        _console.MarkupLine($"[green]done[/] [grey]({Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s)[/]");
    }

    private async Task WaitForApplianceAsync(CancellationToken ct)
    {
        var paths = _paths!;
        _console.Markup("Starting the appliance (camfw run in cfwlab-fw)... ");
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_appliance!.HasExited)
            {
                _console.MarkupLine("[red]failed[/]");
                throw new LabException($"the appliance exited (code {_appliance.ExitCode}); its log ({_appliance.LogPath}) ends with:\n{_appliance.Tail()}");
            }

            if (_syslog!.HasExited)
            {
                _console.MarkupLine("[red]failed[/]");
                throw new LabException($"rsyslogd exited (code {_syslog.ExitCode}); its log ({_syslog.LogPath}) ends with:\n{_syslog.Tail()}");
            }

            if (_api is null && TryReadToken(paths.TokenFile) is { Length: > 0 } token)
            {
                _api = LabApi.Create(LabNetwork.ApplianceNamespace, ApiEndpoint, token, paths.TokenFile);
            }

            if (_api is not null && await _api.IsHealthyAsync(ct).ConfigureAwait(false))
            {
                _console.MarkupLine($"[green]up[/] [grey]({deadline.Elapsed.TotalSeconds:0.0} s)[/]");
                return;
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                _console.MarkupLine("[red]timed out[/]");
                throw new LabException($"the appliance's API did not come up within 60 s; its log ({_appliance.LogPath}) ends with:\n{_appliance.Tail()}");
            }

            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The appliance creates its token file on first start, holding it open exclusively while it writes: until then
    /// the file is missing or locked, which only means "not yet".
    /// </summary>
    private static string? TryReadToken(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private void StartTraffic()
    {
        var paths = _paths!;
        _traffic.AddRange(new LabTraffic(paths.Work).Start(_site, paths.TrafficScript, paths.Logs, _options.Flood));
    }

    private void PrintBanner()
    {
        var paths = _paths!;
        var url = $"http://127.0.0.1:{_relay!.Port}";
        var phoning = _site.PhoningCamera;
        _console.WriteLine();
        _console.MarkupLine($"[bold green]The lab is up.[/] {_site.Cameras.Count()} cameras, NVR, DNS/NTP server, admin workstation, vendor cloud, internet host and a rogue device, each in its own namespace ([bold]ip netns list[/]).");
        _console.MarkupLine($"  Policy (a copy; edit it): [bold]{Markup.Escape(paths.Policies)}[/]");
        _console.MarkupLine($"  Management API:           [bold]{url}[/] [grey](relayed to {ApiEndpoint} inside {LabNetwork.ApplianceNamespace})[/]");
        _console.MarkupLine($"  API token (0600):         {Markup.Escape(paths.TokenFile)}");
        _console.MarkupLine($"  Web console:              [bold]{url}/console/[/] [grey](log in with the API token)[/]");
        _console.MarkupLine($"    [grey]curl -s -H \"Authorization: Bearer $(sudo cat {Markup.Escape(paths.TokenFile)})\" {url}/api/v1/cameras[/]");
        _console.MarkupLine($"    [grey]sudo ./camfw status --url {url} --token-file {Markup.Escape(paths.TokenFile)}[/]");
        _console.MarkupLine($"  Syslog (rsyslog):         {Markup.Escape(paths.SyslogFile)}");
        _console.MarkupLine($"  Logs:                     {Markup.Escape(paths.Logs)}");
        _console.MarkupLine($"  [bold]Try it:[/] let {Markup.Escape(phoning.Name)} reach its vendor cloud. In {Markup.Escape(Path.Combine(paths.Policies, "cameras", "north.yaml"))}, add under [bold]{Markup.Escape(phoning.Name)}:[/]");
        _console.MarkupLine($"[grey]    rules:\n      - {{ id: vendor-cloud, direction: egress, protocol: tcp, ports: 443, peer: {_site.Cloud.Address} }}[/]");
        _console.MarkupLine("  and save: the phone-home line turns from blocked to getting through within a second. Undo it the same way.");
        _console.MarkupLine(_options.Duration is { } d ? $"  Stopping by itself after {d.TotalSeconds:0} s." : "  [bold]Ctrl-C[/] stops the lab and removes every namespace and process it made.");
        _console.WriteLine();
    }

    private async Task MonitorAsync(CancellationToken ct)
    {
        var traffic = new LabTraffic(_paths!.Work);
        var banner = new LabBanner($"http://127.0.0.1:{_relay!.Port}", _paths.TokenFile, _paths.SyslogFile, _paths.Policies, _paths.Work);
        var snapshot = await SnapshotAsync(traffic, 20, CancellationToken.None).ConfigureAwait(false);
        var live = !_options.Headless && _console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        if (live)
        {
            await _console.Live(LabView.Render(snapshot, banner))
                .AutoClear(false)
                .Overflow(VerticalOverflow.Ellipsis)
                .Cropping(VerticalOverflowCropping.Bottom)
                .StartAsync(async context =>
            {
                while (!ct.IsCancellationRequested)
                {
                    ThrowIfApplianceDied();
                    snapshot = await SnapshotAsync(traffic, 20, ct).ConfigureAwait(false);
                    context.UpdateTarget(LabView.Render(snapshot, banner));
                    await Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        else
        {
            var next = TimeSpan.Zero;
            while (!ct.IsCancellationRequested)
            {
                ThrowIfApplianceDied();
                snapshot = await SnapshotAsync(traffic, 20, ct).ConfigureAwait(false);
                if (_clock.Elapsed >= next)
                {
                    // Plain text, straight to stdout: no markup, no wrapping at a guessed width.
                    Console.Out.Write(LabView.Summarize(snapshot));
                    next = _clock.Elapsed + _options.HeadlessInterval;
                }

                await Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A delay that ends quietly when the lab is stopping.</summary>
    private static async Task Delay(TimeSpan delay, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the caller's loop sees the token.
        }
    }

    private void ThrowIfApplianceDied()
    {
        if (_appliance is { HasExited: true } a)
        {
            _applianceExitedAt ??= _clock.Elapsed;
            throw new LabException($"the appliance stopped (exit code {a.ExitCode}); its log ({a.LogPath}) ends with:\n{a.Tail()}");
        }
    }

    private async Task<LabSnapshot> SnapshotAsync(LabTraffic traffic, int events, CancellationToken ct)
    {
        var devices = traffic.Read(_site);
        var checks = RecordChecks(LabCheck.Evaluate(_site, devices));
        if (_api is null)
        {
            return new LabSnapshot(DateTimeOffset.Now, _clock.Elapsed, null, null, 0, [], new Dictionary<string, long>(), devices, checks, "not started");
        }

        try
        {
            var health = _api.HealthAsync(ct);
            var cameras = _api.CamerasAsync(ct);
            var recent = _api.EventsAsync(events, null, ct);
            var reasons = _api.ReasonsAsync(ct);
            await Task.WhenAll(health, cameras, recent, reasons).ConfigureAwait(false);

            // Health answers 503 with its document when unhealthy: that is a reading, not an API failure.
            var failed = new[] { cameras.Result.Error, recent.Result.Error, reasons.Result.Error }.FirstOrDefault(e => e is not null)
                ?? (health.Result.Body is null ? health.Result.Error : null);
            var feed = recent.Result.Body;
            var snapshot = new LabSnapshot(DateTimeOffset.Now, _clock.Elapsed, health.Result.Body, cameras.Result.Body, feed?.Total ?? 0,
                feed?.Events.Select(LabEvent.From).ToList() ?? [],
                reasons.Result.Body?.Reasons.ToDictionary(r => r.Reason, r => r.Frames, StringComparer.Ordinal) ?? new Dictionary<string, long>(),
                devices, checks, failed);
            if (failed is null)
            {
                _lastSeen = snapshot;
            }

            return snapshot;
        }
        catch (ManagementClientException e)
        {
            return new LabSnapshot(DateTimeOffset.Now, _clock.Elapsed, null, null, 0, [], new Dictionary<string, long>(), devices, checks, e.InnerException?.Message ?? e.Message);
        }
    }

    /// <summary>Keeps a few seconds of checks so each one can say what happens now, not only in total.</summary>
    private IReadOnlyList<LabCheck> RecordChecks(IReadOnlyList<LabCheck> checks)
    {
        var now = _clock.Elapsed;
        _checkHistory.Enqueue((now, checks));
        while (_checkHistory.Count > 1 && now - _checkHistory.Peek().At > RecentWindow)
        {
            _checkHistory.Dequeue();
        }

        var (at, earlier) = _checkHistory.Peek();
        return now - at >= RecentWindow / 2 ? LabCheck.WithRecent(checks, earlier) : checks;
    }

    /// <summary>
    /// Writes <c>summary.json</c> (and <c>--summary</c>) however the lab ends: stopped, failed, or with the appliance
    /// dead. The devices' view is read fresh; the appliance's counters and events are fresh while it answers, else
    /// the last it reported, and the summary says which and why.
    /// </summary>
    private async Task WriteSummaryAsync(string exit)
    {
        if (_paths is null)
        {
            return;
        }

        try
        {
            var traffic = new LabTraffic(_paths.Work);
            var running = _api is not null && _appliance is { HasExited: false };

            // Fresh numbers while the appliance still runs, with as many recent events as the API keeps.
            var fresh = running
                ? await SnapshotAsync(traffic, 1000, CancellationToken.None).ConfigureAwait(false)
                : Offline(traffic);
            var snapshot = fresh.ApiError is null || _lastSeen is null
                ? fresh
                : _lastSeen with { At = fresh.At, Elapsed = fresh.Elapsed, Health = running ? _lastSeen.Health : null, Traffic = fresh.Traffic, Checks = fresh.Checks, ApiError = fresh.ApiError };

            var syslogLines = File.Exists(_paths.SyslogFile) ? File.ReadLines(_paths.SyslogFile).Count() : 0;
            LabSummary.Write(_paths.Summary, _site, snapshot, syslogLines, exit, ApplianceState());
            if (_options.SummaryPath is { } extra)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(extra))!);
                File.Copy(_paths.Summary, extra, overwrite: true);
            }

            if (exit != "interrupted" || _options.Headless)
            {
                // Plain text, straight to stdout: no markup, no wrapping at a guessed width.
                Console.Out.Write(LabView.Summarize(snapshot));
            }

            _console.MarkupLine($"Summary: {Markup.Escape(_paths.Summary)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LabException)
        {
            _console.MarkupLine($"[yellow]could not write the summary:[/] {Markup.Escape(e.Message)}");
        }
    }

    /// <summary>The devices' view with no appliance to ask (it never started, or it is gone).</summary>
    private LabSnapshot Offline(LabTraffic traffic)
    {
        var devices = traffic.Read(_site);
        var checks = RecordChecks(LabCheck.Evaluate(_site, devices));
        var why = _appliance is { HasExited: true } a ? $"the appliance stopped (exit code {a.ExitCode})" : "the appliance's API never answered";
        return new LabSnapshot(DateTimeOffset.Now, _clock.Elapsed, null, null, 0, [], new Dictionary<string, long>(), devices, checks, why);
    }

    private LabApplianceState ApplianceState()
    {
        if (_appliance is null)
        {
            return new LabApplianceState("not started", null, null, null, null);
        }

        if (!_appliance.HasExited)
        {
            return new LabApplianceState(_api is null ? "starting" : "running", null, null, _lastSeen?.At, null);
        }

        return new LabApplianceState("exited", _appliance.ExitCode, _applianceExitedAt?.TotalSeconds, _lastSeen?.At, _appliance.Tail());
    }

    /// <summary>
    /// Stops everything this lab started and removes every lab namespace. Idempotent and safe from any thread:
    /// the normal path, the process-exit hook and a failure may all call it; the first does the work, the others
    /// wait for it to finish.
    /// </summary>
    private void Teardown()
    {
        lock (_teardownGate)
        {
            // Without the lock this run made nothing, and the namespaces out there belong to the lab that holds it.
            if (_tornDown || _lock is null)
            {
                return;
            }

            _tornDown = true;
            var stopwatch = Stopwatch.StartNew();
            try
            {
                _relay?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(2));
                _api?.Dispose();

                // 1. Traffic first, so nothing new arrives; 2. the appliance, which flushes its syslog queue on a
                // graceful stop; 3. the collector last, so it still takes those final messages.
                StopAll(_traffic, TimeSpan.FromSeconds(2));
                StopAll(_appliance is null ? [] : [_appliance], TimeSpan.FromSeconds(5));
                StopAll(_syslog is null ? [] : [_syslog], TimeSpan.FromSeconds(2));

                // 4. Whatever is left inside the namespaces (nothing, normally), then the namespaces themselves.
                var removed = LabNetwork.RemoveAll();
                var left = LabNetwork.Existing();
                if (left.Count > 0)
                {
                    _console.MarkupLine($"[red]Could not remove:[/] {Markup.Escape(string.Join(' ', left))} (try: ip netns del NAME)");
                }
                else if (removed.Count > 0)
                {
                    _console.MarkupLine($"Lab removed: {removed.Count} namespaces and every process in them [grey]({stopwatch.Elapsed.TotalSeconds:0.0} s)[/].");
                }
            }
            catch (Exception e)
            {
                _console.MarkupLine($"[red]Teardown error:[/] {Markup.Escape(e.Message)}; leftovers are removed by the next [bold]camfw lab[/].");
            }
            finally
            {
                _lock?.Dispose();
            }
        }
    }

    private static void StopAll(IReadOnlyList<LabProcess> processes, TimeSpan grace)
    {
        foreach (var p in processes)
        {
            p.RequestStop();
        }

        foreach (var p in processes)
        {
            p.Stop(grace);
            p.Dispose();
        }
    }

    public void Dispose()
    {
        Teardown();
        _api?.Dispose();
    }
}
