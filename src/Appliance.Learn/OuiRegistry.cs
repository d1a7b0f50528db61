using System.Globalization;
using Appliance.Core;
using nietras.SeparatedValues;

namespace Appliance.Learn;

/// <summary>
/// Vendors by MAC prefix, read from the IEEE registry files Debian's <c>ieee-data</c> package keeps current
/// (<c>/usr/share/ieee-data/oui.csv</c> for MA-L 24-bit assignments, <c>mam.csv</c> for MA-M 28-bit, <c>oui36.csv</c>
/// for MA-S 36-bit). No table is kept here: a vendor is only ever what the registry says, and the longest assignment
/// wins (an MA-S block inside an MA-L owner's range names the block's owner).
/// </summary>
public sealed class OuiRegistry
{
    /// <summary>Where Debian's <c>ieee-data</c> installs the registry.</summary>
    public const string DebianDirectory = "/usr/share/ieee-data";

    private readonly Dictionary<(int Bits, ulong Prefix), string> _byPrefix = [];

    /// <summary>An empty registry: every vendor is unknown.</summary>
    public static OuiRegistry Empty { get; } = new();

    /// <summary>Number of assignments read.</summary>
    public int Count => _byPrefix.Count;

    /// <summary>
    /// Reads the registry files found in <paramref name="directory"/> (any of <c>oui.csv</c>, <c>mam.csv</c>,
    /// <c>oui36.csv</c>). Missing files are skipped; <paramref name="problems"/> says which and why.
    /// </summary>
    public static OuiRegistry Load(string directory, out IReadOnlyList<string> problems)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var registry = new OuiRegistry();
        var list = new List<string>();
        foreach (var (file, bits) in new[] { ("oui.csv", 24), ("mam.csv", 28), ("oui36.csv", 36) })
        {
            var path = Path.Combine(directory, file);
            if (!File.Exists(path))
            {
                list.Add($"{path} not found (install Debian's ieee-data package)");
                continue;
            }

            try
            {
                registry.ReadFile(path, bits);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                list.Add($"{path}: {e.Message}");
            }
        }

        problems = list;
        return registry;
    }

    private void ReadFile(string path, int bits)
    {
        using var reader = File.OpenText(path);
        Read(reader, bits);
    }

    /// <summary>
    /// Reads one IEEE registry CSV (<c>Registry,Assignment,Organization Name,Organization Address</c>) whose
    /// assignments are <paramref name="bits"/> long (24, 28 or 36). Rows that do not parse are skipped.
    /// </summary>
    public void Read(TextReader reader, int bits)
    {
        ArgumentNullException.ThrowIfNull(reader);
        if (bits is not (24 or 28 or 36))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), "IEEE assignments are 24, 28 or 36 bits");
        }

        // Sep: an RFC 4180 reader without reflection (trim/AOT-safe; CsvHelper's parser pulled its reflection-based
        // type-conversion caches into the NativeAOT build). Rows may have any number of fields.
        using var csv = Sep.New(',').Reader(o => o with { HasHeader = false, DisableColCountCheck = true, Unescape = true }).From(reader);
        var first = true;
        foreach (var row in csv)
        {
            if (first)
            {
                first = false;
                if (row.ColCount > 1 && row[1].Span.SequenceEqual("Assignment"))
                {
                    continue;
                }
            }

            if (row.ColCount < 3 || row[1].Span.Length * 4 != bits
                || !ulong.TryParse(row[1].Span, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var prefix))
            {
                continue;
            }

            var name = row[2].Span.Trim();
            if (name.Length > 0)
            {
                _byPrefix[(bits, prefix)] = name.ToString();
            }
        }
    }

    /// <summary>
    /// The organisation the IEEE assigned <paramref name="mac"/>'s prefix to, or null: unknown, or a locally
    /// administered address (those carry no vendor).
    /// </summary>
    public string? VendorOf(MacAddress mac)
    {
        if (IsLocallyAdministered(mac))
        {
            return null;
        }

        foreach (var bits in (ReadOnlySpan<int>)[36, 28, 24])
        {
            if (_byPrefix.TryGetValue((bits, mac.Value >> (48 - bits)), out var name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>True for a locally administered MAC (the U/L bit set): chosen by software, not assigned by the IEEE.</summary>
    public static bool IsLocallyAdministered(MacAddress mac) => (mac.Value & 0x0200_0000_0000UL) != 0;
}
