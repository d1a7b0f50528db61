namespace Appliance.Management.Policies;

/// <summary>Where a policy change came from, for the audit log and the API.</summary>
/// <param name="Kind">One of the <c>ChangeOrigin.*Kind</c> constants.</param>
/// <param name="Remote">The remote address (and client certificate subject) for API changes.</param>
/// <param name="Detail">Free text, e.g. the version a rollback went back to.</param>
public sealed record ChangeOrigin(string Kind, string? Remote = null, string? Detail = null)
{
    public const string StartupKind = "startup";
    public const string FileKind = "file";
    public const string ApiKind = "api";
    public const string ConsoleKind = "console";
    public const string RollbackKind = "rollback";
    public const string AutoRevertKind = "auto-revert";

    public static ChangeOrigin Startup { get; } = new(StartupKind);

    public static ChangeOrigin FileWatcher { get; } = new(FileKind, Detail: "policy directory changed");

    public override string ToString()
        => Remote is null ? (Detail is null ? Kind : $"{Kind} ({Detail})") : (Detail is null ? $"{Kind} from {Remote}" : $"{Kind} from {Remote} ({Detail})");
}
