using Appliance.Core.Policy;
using Appliance.Learn;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Microsoft.Extensions.Hosting;

namespace Appliance.Host.Hosting;

/// <summary>
/// Learn mode (issue 16): every <see cref="Interval"/> samples each engine's flow table for the cameras in
/// <c>mode: learn</c> into a bounded <see cref="LiveLearner"/>, off the data path (the data plane is not touched: the
/// table is copied entry by entry as the API's flow list does), and builds <c>GET /api/v1/proposal</c> from it on request.
/// </summary>
internal sealed class LearnModeService(DataPlaneService planes, PolicyHolder policies, TimeProvider time) : BackgroundService
{
    private readonly Lazy<OuiRegistry> _vendors = new(() => OuiRegistry.Load(OuiRegistry.DebianDirectory, out _));

    /// <summary>How often the flow tables are sampled.</summary>
    internal static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>What was learned.</summary>
    public LiveLearner Learner { get; } = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                SampleNow();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Samples every engine now; returns the flows learned from.</summary>
    public int SampleNow()
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var learned = 0;
        foreach (var pair in planes.Pairs)
        {
            learned += Learner.Sample(pair.Engine, now);
        }

        return learned;
    }

    /// <summary>The proposal from what the learn-mode cameras did, or null when none is in learn mode.</summary>
    public ProposalView? Proposal()
    {
        if (policies.Current?.Spec is not { } spec || !spec.Cameras.Any(c => c.Mode == CameraMode.Learn))
        {
            return null;
        }

        SampleNow();
        var proposal = ProposalBuilder.Build(Learner.Snapshot(), new ProposalContext
        {
            Policy = spec,
            Vendors = _vendors.Value,
            Source = "the running appliance (cameras in learn mode)",
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
            [.. check.Diagnostics.Select(d => d.ToString())]);
    }
}
