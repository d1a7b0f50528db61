using System.Text;
using System.Text.Json;
using Appliance.Management.Api;

namespace Appliance.Management.Policies;

/// <summary>One audited policy event.</summary>
public sealed record AuditRecord(
    DateTimeOffset At,
    string Action,
    string Outcome,
    string Origin,
    string? Remote,
    uint? OldVersion,
    uint? NewVersion,
    string? OldSha256,
    string? NewSha256,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<string> Changed,
    string? Detail);

/// <summary>
/// An append-only JSON-lines file (<c>STATE/audit.log</c>, mode 0640) with one record per policy change, rejection,
/// confirmation and revert; the same events also go to the log (and so to syslog) with their own event ids.
/// </summary>
public sealed class AuditLog
{
    private readonly Lock _gate = new();

    /// <summary>Audits to <paramref name="path"/> (created on first write), or to the log stream only when null.</summary>
    public AuditLog(string? path) => Path = path;

    /// <summary>The file, or null to keep audit records in the log stream only.</summary>
    public string? Path { get; }

    /// <summary>Appends and flushes one record. Throws on I/O failure: an unauditable change is reported, not hidden.</summary>
    public void Write(AuditRecord record)
    {
        if (Path is null)
        {
            return;
        }

        var line = JsonSerializer.Serialize(record, ManagementJsonContext.Default.AuditRecord) + "\n";
        lock (_gate)
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
            Directory.CreateDirectory(dir);
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
            }

            using var stream = new FileStream(Path, options);
            stream.Write(Encoding.UTF8.GetBytes(line));
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>Every record in the file, oldest first (for tests and support).</summary>
    public IReadOnlyList<AuditRecord> ReadAll()
    {
        if (Path is null || !File.Exists(Path))
        {
            return [];
        }

        var records = new List<AuditRecord>();
        foreach (var line in File.ReadLines(Path))
        {
            if (line.Length > 0 && JsonSerializer.Deserialize(line, ManagementJsonContext.Default.AuditRecord) is { } r)
            {
                records.Add(r);
            }
        }

        return records;
    }
}
