using System.Globalization;
using System.Text.Json;
using Appliance.Management.Api;
using Appliance.Policy;

namespace Appliance.Management.Policies;

/// <summary>One policy that was in force: its files and how it got there.</summary>
public sealed record PolicyHistoryEntry(uint Version, string Sha256, string ContentHash, DateTimeOffset AppliedAt, ChangeOrigin Origin, IReadOnlyList<string> Sources);

/// <summary>
/// Every applied policy, kept under <c>STATE/history/&lt;version&gt;/</c> (the files plus <c>meta.json</c>), newest
/// <see cref="Limit"/> only. Rollback reads a version back from here, so history survives restarts.
/// </summary>
public sealed class PolicyHistory
{
    private const string MetaFile = "meta.json";
    private const string FilesDir = "files";

    /// <summary>Opens the history under <paramref name="directory"/> (created on first record), keeping at most <paramref name="limit"/> versions.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is below 1: rollback needs at least the version in force.</exception>
    public PolicyHistory(string directory, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Directory = Path.GetFullPath(directory);
        Limit = limit;
    }

    /// <summary>Where versions are kept.</summary>
    public string Directory { get; }

    /// <summary>Most versions kept; older ones are deleted as new ones arrive.</summary>
    public int Limit { get; }

    /// <summary>Stores <paramref name="sources"/> as <paramref name="entry"/>'s version, then trims to <see cref="Limit"/>.</summary>
    public void Save(PolicyHistoryEntry entry, IReadOnlyList<PolicySource> sources)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var final = Path.Combine(Directory, Name(entry.Version));
        var temp = Path.Combine(Directory, $"{DurableFile.TempPrefix}{entry.Version}-{Guid.NewGuid():N}");

        // 1. Build the version complete in a hidden directory, 2. rename it into place, so a listing never sees
        // half a version.
        foreach (var source in sources)
        {
            DurableFile.WriteAllText(Path.Combine(temp, FilesDir, source.Name), source.Text);
        }

        var meta = new HistoryMeta(entry.Version, entry.Sha256, entry.ContentHash, entry.AppliedAt, entry.Origin.Kind, entry.Origin.Remote, entry.Origin.Detail, [.. entry.Sources]);
        DurableFile.WriteAllText(Path.Combine(temp, MetaFile), JsonSerializer.Serialize(meta, ManagementJsonContext.Default.HistoryMeta));
        if (System.IO.Directory.Exists(final))
        {
            System.IO.Directory.Delete(final, recursive: true);
        }

        System.IO.Directory.Move(temp, final);
        DurableFile.SyncDirectory(Directory);
        Trim();
    }

    /// <summary>Every stored version, newest first. Unreadable entries are skipped.</summary>
    public IReadOnlyList<PolicyHistoryEntry> List()
    {
        var entries = new List<PolicyHistoryEntry>();
        if (!System.IO.Directory.Exists(Directory))
        {
            return entries;
        }

        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory))
        {
            if (TryReadMeta(dir, out var entry))
            {
                entries.Add(entry);
            }
        }

        entries.Sort(static (a, b) => b.Version.CompareTo(a.Version));
        return entries;
    }

    /// <summary>The highest stored version, or 0.</summary>
    public uint HighestVersion()
    {
        var list = List();
        return list.Count == 0 ? 0 : list[0].Version;
    }

    /// <summary>A stored version's entry and files.</summary>
    public bool TryLoad(uint version, out PolicyHistoryEntry? entry, out IReadOnlyList<PolicySource> sources)
    {
        var dir = Path.Combine(Directory, Name(version));
        sources = [];
        if (!TryReadMeta(dir, out var found))
        {
            entry = null;
            return false;
        }

        var files = PolicyDirectoryReader.Read(Path.Combine(dir, FilesDir));
        if (files.HasErrors && found.Sources.Count > 0)
        {
            entry = null;
            return false;
        }

        sources = files.Sources;

        entry = found;
        return true;
    }

    private static string Name(uint version) => version.ToString("D10", CultureInfo.InvariantCulture);

    private static bool TryReadMeta(string dir, out PolicyHistoryEntry entry)
    {
        entry = null!;
        var name = Path.GetFileName(dir);
        if (name.StartsWith('.') || !uint.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        try
        {
            var meta = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(dir, MetaFile)), ManagementJsonContext.Default.HistoryMeta);
            if (meta is null)
            {
                return false;
            }

            entry = new PolicyHistoryEntry(meta.Version, meta.Sha256, meta.ContentHash, meta.AppliedAt, new ChangeOrigin(meta.OriginKind, meta.Remote, meta.Detail), meta.Sources);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return false;
        }
    }

    private void Trim()
    {
        var all = List();
        for (var i = Limit; i < all.Count; i++)
        {
            System.IO.Directory.Delete(Path.Combine(Directory, Name(all[i].Version)), recursive: true);
        }

        // Leftovers of a crash between steps 1 and 2 of Save.
        foreach (var dir in System.IO.Directory.EnumerateDirectories(Directory, DurableFile.TempPrefix + "*"))
        {
            if (System.IO.Directory.GetCreationTimeUtc(dir) < DateTime.UtcNow.AddHours(-1))
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
        }
    }
}

/// <summary>How <c>meta.json</c> of a history entry is stored.</summary>
public sealed record HistoryMeta(uint Version, string Sha256, string ContentHash, DateTimeOffset AppliedAt, string OriginKind, string? Remote, string? Detail, List<string> Sources);
