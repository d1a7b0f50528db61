using Appliance.Management.Policies;
using Appliance.Policy;
using Appliance.Syslog.Events;

namespace Appliance.Host.Hosting;

/// <summary>
/// Reports the policy service's changes through the <see cref="SecurityEventLog"/>, so the SIEM sees them under
/// the MSGIDs its rules match (<c>policy-applied</c>, <c>policy-rejected</c>, <c>policy-rolled-back</c>) and
/// <c>GET /api/v1/events</c> lists them next to the flow events.
/// </summary>
internal sealed class SecurityEventPolicySink(SecurityEventLog log) : IPolicyEventSink
{
    // Enough for the SIEM to triage without turning one event into a wall of text; the audit log and
    // `camfw policy check` have every diagnostic.
    private const int ReportedErrors = 5;

    public void Applied(PolicyState state)
        => log.PolicyApplied(state.Version, state.Sha256, state.Spec.Cameras.Count, state.Policy.RuleIds.Count, state.Origin.ToString());

    public void Rejected(IReadOnlyList<Diagnostic> errors, ChangeOrigin origin)
    {
        var reason = string.Join("; ", errors.Take(ReportedErrors));
        if (errors.Count > ReportedErrors)
        {
            reason += $"; and {errors.Count - ReportedErrors} more";
        }

        log.PolicyRejected(errors.Count, reason, origin.ToString());
    }

    public void RolledBack(uint fromVersion, PolicyState state)
        => log.PolicyRolledBack(fromVersion, state.Version, $"{state.Origin}; now sha256 {state.Sha256}");
}
