using System.Text;
using Appliance.Core.Policy;

namespace Appliance.Management.Policies;

/// <summary>What a policy change did to the cameras: names added, removed, and changed in any effective detail.</summary>
public sealed record PolicyDiff(IReadOnlyList<string> Added, IReadOnlyList<string> Removed, IReadOnlyList<string> Changed)
{
    /// <summary>No camera changed: what confirmations, rejections and no-op reloads report.</summary>
    public static PolicyDiff Empty { get; } = new([], [], []);

    /// <summary>True when no camera was added, removed or changed (rules elsewhere may still differ).</summary>
    public bool IsEmpty => Added.Count == 0 && Removed.Count == 0 && Changed.Count == 0;

    /// <summary>Compares two specs camera by camera (either may be null: first load, or nothing loaded).</summary>
    public static PolicyDiff Between(PolicySpec? before, PolicySpec? after)
    {
        var old = Index(before);
        var now = Index(after);
        var added = now.Keys.Where(k => !old.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var removed = old.Keys.Where(k => !now.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var changed = now.Where(kv => old.TryGetValue(kv.Key, out var o) && o != kv.Value).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        return new PolicyDiff(added, removed, changed);
    }

    /// <summary>One line for logs and syslog: <c>+2 -0 ~1 (added: a, b; changed: c)</c>.</summary>
    public string Summary()
    {
        var sb = new StringBuilder();
        sb.Append('+').Append(Added.Count).Append(" -").Append(Removed.Count).Append(" ~").Append(Changed.Count);
        var parts = new List<string>(3);
        if (Added.Count > 0)
        {
            parts.Add("added: " + Names(Added));
        }

        if (Removed.Count > 0)
        {
            parts.Add("removed: " + Names(Removed));
        }

        if (Changed.Count > 0)
        {
            parts.Add("changed: " + Names(Changed));
        }

        if (parts.Count > 0)
        {
            sb.Append(" (").AppendJoin("; ", parts).Append(')');
        }

        return sb.ToString();
    }

    private static string Names(IReadOnlyList<string> names)
        => names.Count <= 10 ? string.Join(", ", names) : string.Join(", ", names.Take(10)) + $", ... {names.Count - 10} more";

    private static Dictionary<string, string> Index(PolicySpec? spec)
    {
        var index = new Dictionary<string, string>(StringComparer.Ordinal);
        if (spec is null)
        {
            return index;
        }

        var site = spec.Site.UnknownDevices.ToString();
        foreach (var camera in spec.Cameras)
        {
            index[camera.Name] = Fingerprint(camera, site);
        }

        return index;
    }

    // Records compare lists by reference, so equality is decided on a canonical text of everything that affects
    // what the camera may do (origins and comments are left out: moving a rule between files changes nothing).
    private static string Fingerprint(CameraSpec c, string site)
    {
        var sb = new StringBuilder(256);
        sb.Append(c.Mac?.ToString()).Append('|').AppendJoin(',', c.Addresses).Append('|').Append(c.Mode)
            .Append('|').AppendJoin(',', c.Profiles).Append('|').Append(c.AllowArp).Append(c.AllowDhcp).Append(c.AllowIpv6)
            .Append('|').Append(c.Discovery).Append('|').Append(c.FlowQuota).Append('|').Append(site);
        foreach (var r in c.Rules)
        {
            sb.Append("|r:").Append(r.Id).Append(',').Append(r.Direction).Append(',').Append(r.Protocol).Append(',')
                .AppendJoin(' ', r.Ports).Append(',').AppendJoin(' ', r.IcmpTypes).Append(',').AppendJoin(' ', r.Peers).Append(',').AppendJoin(' ', r.Names).Append(',').Append(r.Log);
        }

        return sb.ToString();
    }
}
