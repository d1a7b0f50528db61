using Appliance.Core.Policy;
using Appliance.Learn;
using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>
/// Learn mode (issue 16), off the data path. Every <see cref="Interval"/> it drains each engine's learn-mode notes
/// (every flow of a camera in learn mode as it opens and as it leaves the table, with its volume; unlisted camera-side
/// devices while the site learns) into a bounded <see cref="LiveLearner"/>; every <see cref="SampleInterval"/> it adds
/// the flows still open; every <see cref="SaveInterval"/> and at stop it writes the summary to the state directory
/// (<see cref="LearnSummaryFile"/>), and reads it back at start, so learning survives restarts and reloads (the learner
/// is never reset by a policy change). <c>GET /api/v1/proposal</c> is built from it on request.
/// </summary>
internal sealed class LearnModeService : BackgroundService
{
    private readonly DataPlaneService _planes;
    private readonly PolicyHolder _policies;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _path;
    private readonly Lazy<OuiRegistry> _vendors = new(() => OuiRegistry.Load(OuiRegistry.DebianDirectory, out _));
    private long _lastSampleMs;
    private long _lastSaveMs;

    public LearnModeService(DataPlaneService planes, PolicyHolder policies, TimeProvider time, IOptions<PolicyServiceOptions>? options = null, ILogger<LearnModeService>? logger = null)
    {
        _planes = planes;
        _policies = policies;
        _time = time;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _path = options is null ? null : System.IO.Path.Combine(options.Value.StateDirectory, LearnSummaryFile.FileName);
        Restore();
    }

    /// <summary>How often the engines' notes are drained.</summary>
    internal static TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often the open flows are sampled (keeps long streams current; closed flows come from the notes).</summary>
    internal static TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the summary is written while running.</summary>
    internal static TimeSpan SaveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>What was learned.</summary>
    public LiveLearner Learner { get; } = new();

    /// <summary>The state file, or null when the host has no state directory (tests).</summary>
    public string? Path => _path;

    /// <summary>Why the state file was not taken at start, or null.</summary>
    public string? RestoreError { get; private set; }

    /// <summary>True while the policy has anything in learn mode: a camera (its own, a profile's or the site's mode) or the site.</summary>
    public bool Learning => _policies.Current?.Spec is { } spec && (spec.Site.Mode == CameraMode.Learn || spec.Cameras.Any(c => c.Mode == CameraMode.Learn));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        DrainNow();
        SaveNow();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One round: drain; sample and save when their time has come.</summary>
    internal void Tick()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now - _lastSampleMs >= (long)SampleInterval.TotalMilliseconds)
        {
            _lastSampleMs = now;
            SampleNow();
        }
        else
        {
            DrainNow();
        }

        // Nothing learns while nothing is in learn mode: the file is left as it is (and written once more at stop).
        if (Learning && now - _lastSaveMs >= (long)SaveInterval.TotalMilliseconds)
        {
            _lastSaveMs = now;
            SaveNow();
        }
    }

    /// <summary>Drains every engine's notes now; returns how many were read.</summary>
    public int DrainNow()
    {
        var read = 0;
        foreach (var pair in _planes.Pairs)
        {
            read += Learner.Drain(pair.Engine);
        }

        return read;
    }

    /// <summary>Drains, then samples every engine's open flows now; returns the open flows learned from.</summary>
    public int SampleNow()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var learned = 0;
        foreach (var pair in _planes.Pairs)
        {
            learned += Learner.Sample(pair.Engine, now);
        }

        return learned;
    }

    /// <summary>Writes the summary now (when anything was learned); a failure is logged, never thrown.</summary>
    public void SaveNow()
    {
        if (_path is null)
        {
            return;
        }

        var summary = Learner.Snapshot();
        if (summary.Devices.Count == 0 && !File.Exists(_path))
        {
            return;
        }

        try
        {
            LearnSummaryFile.Save(_path, summary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            HostLog.LearnSummarySaveFailed(_logger, _path, e.Message);
        }
    }

    /// <summary>The proposal from what the learn-mode devices did, or null when nothing is in learn mode.</summary>
    public ProposalView? Proposal()
    {
        if (!Learning || _policies.Current?.Spec is not { } spec)
        {
            return null;
        }

        SampleNow();
        var learned = Learner.Snapshot();
        var proposal = ProposalBuilder.Build(Covered(learned, spec), new ProposalContext
        {
            Policy = spec,
            Vendors = _vendors.Value,
            Source = "the running appliance (devices in learn mode)",
        });
        var check = PolicyLoader.Load(proposal.PolicySources);
        var outcomes = proposal.Outcomes;
        return new ProposalView(
            proposal.Files.ToDictionary(f => f.Name, f => f.Text, StringComparer.Ordinal),
            check.Spec is { } proposed ? ProposalDiff.Between(spec, proposed) : string.Empty,
            check.Spec?.Cameras.Count ?? 0,
            outcomes.Count(o => o.Outcome == ServiceOutcome.Allowed),
            outcomes.Count(o => o.Outcome == ServiceOutcome.NeedsDecision),
            outcomes.Count(o => o.Outcome is not (ServiceOutcome.Allowed or ServiceOutcome.NeedsDecision)),
            [.. check.Diagnostics.Select(d => d.ToString())])
        {
            NotesLost = learned.Counters.NotesLost,
            Evicted = learned.Counters.ServicesEvicted + learned.Counters.DevicesEvicted,
        };
    }

    /// <summary>
    /// What the proposal covers: every device learned while in learn mode that is still to be decided — cameras the
    /// policy has in learn mode, and unlisted devices (learned while the site was in learn mode); not cameras that
    /// have since moved to monitor or enforce (their policy is the admin's now).
    /// </summary>
    private static LearnSnapshot Covered(LearnSnapshot learned, PolicySpec spec)
    {
        var settled = new HashSet<DeviceKey>();
        foreach (var camera in spec.Cameras)
        {
            if (camera.Mode != CameraMode.Learn)
            {
                settled.Add(camera.Mac is { } mac ? new DeviceKey(mac, default) : new DeviceKey(default, camera.Addresses.Count > 0 ? Appliance.Core.IpAddr.FromIPAddress(camera.Addresses[0]) : default));
            }
        }

        return learned with
        {
            Devices = [.. learned.Devices.Where(d => !settled.Contains(d.Key))],
            Services = [.. learned.Services.Where(s => !settled.Contains(s.Device))],
        };
    }

    private void Restore()
    {
        if (_path is null)
        {
            return;
        }

        if (LearnSummaryFile.Load(_path, out var error) is { } kept)
        {
            Learner.Restore(kept);
            HostLog.LearnSummaryLoaded(_logger, kept.Devices.Count, kept.Services.Count, _path);
        }
        else if (error is not null)
        {
            RestoreError = error;
            HostLog.LearnSummaryIgnored(_logger, _path, error);
        }
    }
}
