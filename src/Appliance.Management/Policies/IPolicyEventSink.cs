using Appliance.Policy;

namespace Appliance.Management.Policies;

/// <summary>
/// Where <see cref="PolicyService"/> reports each change as a security event, next to its own log lines and the
/// audit log. The host implements it over the syslog security-event log, so the SIEM sees every policy change
/// under the stable MSGIDs <c>policy-applied</c>, <c>policy-rejected</c> and <c>policy-rolled-back</c> whatever
/// the path (startup, directory watcher, API, rollback, auto-revert), without this library depending on syslog.
/// Called under the service's lock, off the data path: implementations must be quick and must not call back into
/// the service.
/// </summary>
public interface IPolicyEventSink
{
    /// <summary>A new version is in force (not a rollback or auto-revert; those come to <see cref="RolledBack"/>).</summary>
    /// <param name="state">The policy now in force; <see cref="PolicyState.Origin"/> says where it came from.</param>
    void Applied(PolicyState state);

    /// <summary>A change was refused; the previous policy (if any) stays in force.</summary>
    /// <param name="errors">Every error found, each naming file, line and column.</param>
    /// <param name="origin">Where the refused change came from.</param>
    void Rejected(IReadOnlyList<Diagnostic> errors, ChangeOrigin origin);

    /// <summary>An earlier version's files were put back in force (operator rollback or automatic revert).</summary>
    /// <param name="fromVersion">The version taken out of force.</param>
    /// <param name="state">The policy now in force (a new version number carrying the earlier files).</param>
    void RolledBack(uint fromVersion, PolicyState state);
}

/// <summary>Reports nothing (tools and tests that only need the audit log and the log lines).</summary>
public sealed class NullPolicyEventSink : IPolicyEventSink
{
    /// <summary>The one instance.</summary>
    public static NullPolicyEventSink Instance { get; } = new();

    /// <inheritdoc />
    public void Applied(PolicyState state)
    {
    }

    /// <inheritdoc />
    public void Rejected(IReadOnlyList<Diagnostic> errors, ChangeOrigin origin)
    {
    }

    /// <inheritdoc />
    public void RolledBack(uint fromVersion, PolicyState state)
    {
    }
}
