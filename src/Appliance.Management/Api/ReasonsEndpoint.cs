using Appliance.Core;
using Appliance.Management.Traffic;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Appliance.Management.Api;

/// <summary>Frames decided for one reason, over every data plane.</summary>
/// <param name="Reason">The reason's name (<c>established-flow</c>, <c>no-rule-matched</c>...), as in events and syslog.</param>
/// <param name="Verdict"><c>pass</c> or <c>drop</c>.</param>
/// <param name="Frames">Frames decided for it since start.</param>
public sealed record ReasonCountDto(string Reason, string Verdict, long Frames);

/// <summary><c>GET /api/v1/reasons</c>: frames by reason, most frequent first (the JSON twin of <c>camfw_frames_by_reason_total</c>).</summary>
/// <param name="Reasons">Every reason counted so far (reasons never seen are left out).</param>
public sealed record ReasonsDto(IReadOnlyList<ReasonCountDto> Reasons);

/// <summary><c>GET /api/v1/reasons</c>: what the data path decided and why, for tools that read JSON (the lab, scripts).</summary>
internal static class ReasonsEndpoint
{
    /// <summary>The per-reason totals, most frequent first, then by name.</summary>
    public static Ok<ReasonsDto> Get(ITrafficSource traffic)
        => TypedResults.Ok<ReasonsDto>(new([.. traffic.Reasons()
            .Where(kv => kv.Value > 0)
            .Select(kv => new ReasonCountDto(ReasonNames.Name(kv.Key), ReasonNames.IsPassReason(kv.Key) ? "pass" : "drop", kv.Value))
            .OrderByDescending(r => r.Frames)
            .ThenBy(r => r.Reason, StringComparer.Ordinal)]));
}
