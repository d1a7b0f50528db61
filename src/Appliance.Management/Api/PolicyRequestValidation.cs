using Appliance.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Appliance.Management.Api;

/// <summary>
/// Checks of a policy request that come before the policy service sees it: the body's files and the
/// <c>allow-camera-removal</c> flag. Each failure is a 400 problem document saying what to send instead.
/// </summary>
internal static class PolicyRequestValidation
{
    /// <summary>The query parameter by which a request says it means to remove many cameras.</summary>
    public const string AllowCameraRemovalParameter = "allow-camera-removal";

    private const string Shape = "{\"files\": {\"name.yaml\": \"text\", ...}}";

    /// <summary>
    /// The body's files as sources, or a problem: no body, no <c>files</c>, no file at all, or a file whose text is
    /// null. (A number or object where text belongs already fails JSON deserialisation, also a 400.) A null is
    /// never read as an empty file: that turned <c>{"site.yaml": null}</c> into "delete every other file, apply
    /// nothing".
    /// </summary>
    public static (IReadOnlyList<PolicySource>? Sources, ProblemHttpResult? Problem) Files(PolicyFilesDto? body)
    {
        if (body?.Files is not { Count: > 0 } files)
        {
            return (null, BadRequest($"the body must be {Shape} with at least one file"));
        }

        var missing = files.Where(kv => kv.Value is null).Select(kv => PolicyFileNames.Printable(kv.Key)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            return (null, BadRequest($"file text must be a string, not null: {string.Join(", ", missing)}; to remove a file, leave it out of \"files\" (the request sends the whole policy)"));
        }

        return ([.. files.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new PolicySource(kv.Key, kv.Value!))], null);
    }

    /// <summary>
    /// Reads <c>allow-camera-removal</c> (absent, <c>true</c> or <c>false</c>). <c>true</c> is accepted only with
    /// <c>confirm-within</c>: a change that may cut cameras off goes in only as a safe apply that reverts by itself.
    /// </summary>
    public static ProblemHttpResult? AllowCameraRemoval(IQueryCollection query, bool hasConfirmWithin, out bool allow)
    {
        allow = false;
        if (!query.TryGetValue(AllowCameraRemovalParameter, out var raw))
        {
            return null;
        }

        if (raw.Count != 1 || !bool.TryParse(raw.ToString(), out allow))
        {
            return BadRequest($"{AllowCameraRemovalParameter} must be true or false");
        }

        if (allow && !hasConfirmWithin)
        {
            allow = false;
            return BadRequest($"{AllowCameraRemovalParameter}=true needs confirm-within=SECONDS: a change that removes cameras is applied only as a safe apply, reverted unless confirmed");
        }

        return null;
    }

    private static ProblemHttpResult BadRequest(string detail)
        => TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid policy request");
}
