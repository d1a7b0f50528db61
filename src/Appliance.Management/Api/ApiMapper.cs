using Appliance.Management.Policies;
using Appliance.Management.Traffic;
using Appliance.Policy;

namespace Appliance.Management.Api;

/// <summary>Turns service state into API records.</summary>
internal static class ApiMapper
{
    public static DiagnosticDto ToDto(this Diagnostic d)
        => new(d.File, d.Line, d.Column, d.Severity == Severity.Error ? "error" : "warning", d.Message);

    public static List<DiagnosticDto> ToDto(this IReadOnlyList<Diagnostic> diagnostics) => [.. diagnostics.Select(ToDto)];

    public static OriginDto ToDto(this ChangeOrigin o) => new(o.Kind, o.Remote, o.Detail);

    public static DiffDto ToDto(this PolicyDiff d) => new(d.Added, d.Removed, d.Changed);

    public static PolicyFailureDto? ToDto(this PolicyFailure? f) => f is null ? null : new(f.At, f.Origin.ToDto(), f.Diagnostics.ToDto());

    public static PendingConfirmationDto? ToDto(this PendingConfirmation? p) => p is null ? null : new(p.Deadline, p.AppliedVersion, p.RevertTo.Version);

    public static string OutcomeName(ApplyOutcome outcome) => outcome switch
    {
        ApplyOutcome.Applied => "applied",
        ApplyOutcome.Unchanged => "unchanged",
        ApplyOutcome.Rejected => "rejected",
        ApplyOutcome.NotFound => "not-found",
        _ => "nothing-pending",
    };

    public static ApplyDto ToDto(this ApplyResult r)
        => new(OutcomeName(r.Outcome), r.Message, r.State?.Version, r.State?.Sha256, r.Outcome == ApplyOutcome.Applied ? r.Diff.ToDto() : null, r.ConfirmDeadline, r.Diagnostics.ToDto());

    public static HealthDto Health(PolicyService policies, ITrafficSource traffic)
    {
        var state = policies.Current;
        var planes = traffic.DataPlanes();
        var active = policies.ActiveFailure;
        var syslog = traffic.Syslog;

        // Degraded: the last policy change was rejected, events cannot be delivered, or a plane forwards with a port
        // problem (MTU or offloads changed since start) that loses some frames.
        var status = state is null || planes.Any(p => !p.Healthy) ? "unhealthy" : active is not null || syslog?.Problem is not null || planes.Any(p => p.Error is not null) ? "degraded" : "healthy";
        return new HealthDto(
            status,
            state?.Version,
            state?.Sha256,
            state?.LoadedAt,
            policies.Reloads,
            policies.ReloadFailures,
            policies.LastFailure.ToDto(),
            active is not null,
            [.. planes.Select(p => new DataPlaneDto(p.Name, p.Healthy, p.Error, p.CaptureDrops, p.FlowCount, p.FlowCapacity))],
            policies.Pending.ToDto(),
            syslog is null ? null : new SyslogHealthDto(syslog.Connected, syslog.Pending, syslog.SpoolRecords, syslog.SpoolBytes, syslog.OldestUndeliveredSeconds, syslog.Discarded.Sum(d => d.Value), syslog.Problem));
    }
}
