namespace Appliance.Management.Policies;

/// <summary>Where a policy change came from, for the audit log and the API.</summary>
/// <param name="Kind">One of the <c>ChangeOrigin.*Kind</c> constants.</param>
/// <param name="Remote">The remote address (and client certificate subject) for API changes.</param>
/// <param name="Detail">Free text, e.g. the version a rollback went back to.</param>
public sealed record ChangeOrigin(string Kind, string? Remote = null, string? Detail = null)
{
    // The kinds are strings, not an enum, because they are written as-is into audit.log, history meta.json and the
    // API: renaming one changes what a SIEM or an old history entry reads.

    /// <summary>The first load when camfw starts.</summary>
    public const string StartupKind = "startup";

    /// <summary>A reload because the directory watcher saw the policy files change.</summary>
    public const string FileKind = "file";

    /// <summary>A change asked for through the management API with the token (apply, safe apply, reload from disk; the CLI verbs use it); <see cref="Remote"/> names the caller.</summary>
    public const string ApiKind = "api";

    /// <summary>A change made in the web console (its page posted with a session cookie), told apart from a script's token.</summary>
    public const string ConsoleKind = "console";

    /// <summary>A return to a version kept in history; <see cref="Detail"/> names it.</summary>
    public const string RollbackKind = "rollback";

    /// <summary>A safe apply that was not confirmed in time, reverted by the service itself.</summary>
    public const string AutoRevertKind = "auto-revert";

    /// <summary>The origin of the startup load.</summary>
    public static ChangeOrigin Startup { get; } = new(StartupKind);

    /// <summary>The origin of a reload triggered by a change in the policy directory.</summary>
    public static ChangeOrigin FileWatcher { get; } = new(FileKind, Detail: "policy directory changed");

    /// <summary>The text log lines and the console show, e.g. <c>api from 192.0.2.7 (reload from disk)</c>.</summary>
    public override string ToString()
        => Remote is null ? (Detail is null ? Kind : $"{Kind} ({Detail})") : (Detail is null ? $"{Kind} from {Remote}" : $"{Kind} from {Remote} ({Detail})");
}
