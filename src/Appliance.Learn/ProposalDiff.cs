using System.Text;
using Appliance.Core.Policy;
using Appliance.Policy;

namespace Appliance.Learn;

/// <summary>
/// What applying a proposal would change, camera by camera, in effective terms (rules as the cameras get them after
/// profiles and networks are expanded; rule ids and comments are ignored): cameras added and removed, identity and
/// allowance changes, and each rule a camera gains or loses.
/// </summary>
public static class ProposalDiff
{
    /// <summary>The difference as text, one line per change; "no change" when there is none.</summary>
    public static string Between(PolicySpec current, PolicySpec proposed)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(proposed);
        var sb = new StringBuilder();
        sb.Append("# What applying the proposal would change (effective rules; '+' gained, '-' lost)\n");
        var before = current.Cameras.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var after = proposed.Cameras.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var changes = 0;
        foreach (var name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var had = before.GetValueOrDefault(name);
            var gets = after.GetValueOrDefault(name);
            if (had is null)
            {
                sb.Append("\n+ camera ").Append(name).Append(" (").Append(PolicyFormatter.FormatIdentity(gets!)).Append("): new\n");
                foreach (var rule in Rules(gets!))
                {
                    sb.Append("+   ").Append(rule).Append('\n');
                }

                changes++;
                continue;
            }

            if (gets is null)
            {
                sb.Append("\n- camera ").Append(name).Append(" (").Append(PolicyFormatter.FormatIdentity(had)).Append("): not seen in the traffic, not in the proposal\n");
                changes++;
                continue;
            }

            var lines = new List<string>();
            if (PolicyFormatter.FormatIdentity(had) != PolicyFormatter.FormatIdentity(gets))
            {
                lines.Add("~   identity " + PolicyFormatter.FormatIdentity(had) + " -> " + PolicyFormatter.FormatIdentity(gets));
            }

            if (PolicyFormatter.FormatAllowances(had) != PolicyFormatter.FormatAllowances(gets))
            {
                lines.Add("~   allows " + PolicyFormatter.FormatAllowances(had) + " -> " + PolicyFormatter.FormatAllowances(gets));
            }

            if (had.Mode != gets.Mode)
            {
                lines.Add($"~   mode {had.Mode.ToString().ToLowerInvariant()} -> {gets.Mode.ToString().ToLowerInvariant()}");
            }

            var old = Rules(had).ToHashSet(StringComparer.Ordinal);
            var now = Rules(gets).ToHashSet(StringComparer.Ordinal);
            lines.AddRange(old.Where(r => !now.Contains(r)).Order(StringComparer.Ordinal).Select(r => "-   " + r));
            lines.AddRange(now.Where(r => !old.Contains(r)).Order(StringComparer.Ordinal).Select(r => "+   " + r));
            if (lines.Count > 0)
            {
                sb.Append("\n~ camera ").Append(name).Append('\n');
                foreach (var line in lines)
                {
                    sb.Append(line).Append('\n');
                }

                changes++;
            }
        }

        if (changes == 0)
        {
            sb.Append("no change\n");
        }

        return sb.ToString();
    }

    private static IEnumerable<string> Rules(CameraSpec camera)
        => camera.Rules.Select(r => PolicyFormatter.FormatRule(r with { Id = "", Log = false, Comment = null }).Replace(" []", string.Empty, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
}
