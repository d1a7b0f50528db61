using System.Globalization;
using System.Text.Json;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Appliance.Management.WebConsole;
using Appliance.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Appliance.Management.Api;

/// <summary>
/// The management API's endpoints: <c>/api/v1</c> (every endpoint but health requires <see cref="ApiAuth.AdminPolicy"/>)
/// and <c>/metrics</c>. Handlers are small static methods with bound parameters; every error is an RFC 9457 problem
/// document, and an invalid query value is a 400 naming the parameter.
/// </summary>
internal static class ManagementApi
{
    /// <summary>Largest page of flows or events.</summary>
    public const int MaxPage = 1000;

    /// <summary>Page size when <c>limit</c> is not given.</summary>
    public const int DefaultPage = 100;

    /// <summary>Maps every endpoint.</summary>
    public static void MapManagementApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").RequireAuthorization(ApiAuth.AdminPolicy);
        api.MapGet("/health", GetHealth).AllowAnonymous();
        api.MapGet("/policy", GetPolicy);
        api.MapPut("/policy", PutPolicyAsync);
        api.MapPost("/policy/validate", ValidatePolicyAsync);
        api.MapPost("/policy/reload", ReloadPolicyAsync);
        api.MapGet("/policy/history", GetHistory);
        api.MapPost("/policy/rollback/{version}", RollbackAsync);
        api.MapPost("/policy/confirm", ConfirmAsync);
        api.MapGet("/cameras", GetCameras);
        api.MapGet("/flows", GetFlows);
        api.MapGet("/events", GetEvents);
        api.MapGet("/dns/names", GetLearnedNames);
        api.MapGet("/reasons", ReasonsEndpoint.Get);
        api.MapGet("/proposal", GetProposal);

        app.MapGet("/metrics", GetMetrics).RequireAuthorization(ApiAuth.AdminPolicy);
    }

    // 503 with the same document when unhealthy: monitors read the status code, people read the body.
    internal static JsonHttpResult<HealthDto> GetHealth(PolicyService policies, ITrafficSource traffic)
    {
        var health = ApiMapper.Health(policies, traffic);
        return TypedResults.Json(health, ManagementJsonContext.Default.HealthDto, statusCode: health.Status == "unhealthy" ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK);
    }

    internal static Results<Ok<PolicyDto>, ProblemHttpResult> GetPolicy(PolicyService policies)
    {
        if (policies.Current is not { } s)
        {
            return TypedResults.Problem("no policy loaded", statusCode: StatusCodes.Status503ServiceUnavailable, title: "No policy loaded");
        }

        return TypedResults.Ok(new PolicyDto(s.Version, s.Sha256, s.LoadedAt, s.Origin.ToDto(), policies.Options.Directory, [.. s.Files.Select(f => f.Name)], s.Spec.Cameras.Count, policies.Pending.ToDto()));
    }

    internal static async Task<Results<Ok<ApplyDto>, ProblemHttpResult>> PutPolicyAsync(
        HttpContext context,
        PolicyService policies,
        ManagementOptions options,
        [FromQuery(Name = "confirm-within")] string? confirmWithin)
    {
        var errors = new QueryErrors();
        var maxSeconds = (int)Math.Min(int.MaxValue, policies.Options.MaxConfirmWithin.TotalSeconds);
        int? seconds = errors.OptionalInt("confirm-within", confirmWithin, 1, maxSeconds, "whole seconds");
        if (errors.Any)
        {
            return errors.Problem();
        }

        if (PolicyRequestValidation.AllowCameraRemoval(context.Request.Query, seconds is not null, out var allowCameraRemoval) is { } flagProblem)
        {
            return flagProblem;
        }

        var (sources, problem) = await ReadFilesAsync(context, options).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        var within = seconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
        var result = await policies.ApplyAsync(sources!, ApiOrigin(context), within, allowCameraRemoval, context.RequestAborted).ConfigureAwait(false);
        return ApplyResponse(result);
    }

    internal static async Task<Results<Ok<ValidateDto>, ProblemHttpResult>> ValidatePolicyAsync(HttpContext context, PolicyService policies, ManagementOptions options)
    {
        var (sources, problem) = await ReadFilesAsync(context, options).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        // A dry run needs no safety net, so the flag stands alone here.
        if (PolicyRequestValidation.AllowCameraRemoval(context.Request.Query, hasConfirmWithin: true, out var allowCameraRemoval) is { } flagProblem)
        {
            return flagProblem;
        }

        var load = policies.Validate(sources!, allowCameraRemoval);
        var errors = load.Diagnostics.Count(d => d.Severity == Severity.Error);
        var dto = new ValidateDto(!load.HasErrors, errors, load.Diagnostics.Count - errors, load.Spec?.Cameras.Count, load.Spec?.Sha256, load.Diagnostics.ToDto());
        if (dto.Valid)
        {
            return TypedResults.Ok(dto);
        }

        // The problem document carries the whole validation result as extension members, so a client reading it as
        // a ValidateDto gets every diagnostic.
        return TypedResults.Problem(
            $"the policy has {errors} error(s)",
            statusCode: StatusCodes.Status422UnprocessableEntity,
            title: "Invalid policy",
            extensions: new Dictionary<string, object?>
            {
                ["valid"] = false,
                ["errors"] = dto.Errors,
                ["warnings"] = dto.Warnings,
                ["cameras"] = dto.Cameras,
                ["sha256"] = dto.Sha256,
                ["diagnostics"] = dto.Diagnostics,
            });
    }

    internal static async Task<Results<Ok<ApplyDto>, ProblemHttpResult>> ReloadPolicyAsync(HttpContext context, PolicyService policies)
        => ApplyResponse(await policies.ReloadFromDiskAsync(ApiOrigin(context, "reload from disk"), context.RequestAborted).ConfigureAwait(false));

    internal static Ok<HistoryDto> GetHistory(PolicyService policies)
    {
        var current = policies.Current?.Version;
        var entries = policies.History.List().Select(e => new HistoryEntryDto(e.Version, e.Sha256, e.AppliedAt, e.Origin.ToDto(), e.Sources, e.Version == current)).ToList();
        return TypedResults.Ok(new HistoryDto(current, entries));
    }

    internal static async Task<Results<Ok<ApplyDto>, ProblemHttpResult>> RollbackAsync(HttpContext context, PolicyService policies, string version)
    {
        if (!uint.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v == 0)
        {
            return QueryErrors.Single("version", $"'version' must be a positive whole number, not '{version}'");
        }

        return ApplyResponse(await policies.RollbackAsync(v, ApiOrigin(context), context.RequestAborted).ConfigureAwait(false));
    }

    internal static async Task<Results<Ok<ApplyDto>, ProblemHttpResult>> ConfirmAsync(HttpContext context, PolicyService policies)
        => ApplyResponse(await policies.ConfirmAsync(ApiOrigin(context), context.RequestAborted).ConfigureAwait(false));

    internal static Ok<CamerasDto> GetCameras(PolicyService policies, ITrafficSource traffic, DeniedDestinationTracker denied)
        => TypedResults.Ok(Cameras(policies, traffic, denied));

    // Learn mode's proposal: read-only; applying it stays the admin's explicit (safe) apply.
    internal static Results<Ok<ProposalDto>, ProblemHttpResult> GetProposal(ITrafficSource traffic)
    {
        if (traffic.Proposal() is not { } p)
        {
            return TypedResults.Problem("no camera is in learn mode (mode: learn), so there is nothing to propose", statusCode: StatusCodes.Status404NotFound, title: "No proposal");
        }

        return TypedResults.Ok(new ProposalDto(new Dictionary<string, string>(p.Files, StringComparer.Ordinal), p.Diff, p.Cameras, p.Allowed, p.NeedsDecision, p.NotLearned, p.Problems, p.NotesLost, p.Evicted));
    }

    internal static Results<Ok<FlowsDto>, ProblemHttpResult> GetFlows(ITrafficSource traffic, [FromQuery(Name = "offset")] string? offset, [FromQuery(Name = "limit")] string? limit)
    {
        var errors = new QueryErrors();
        var first = errors.OptionalInt("offset", offset, 0, int.MaxValue, "a whole number") ?? 0;
        var count = errors.OptionalInt("limit", limit, 1, MaxPage, "a whole number") ?? DefaultPage;
        if (errors.Any)
        {
            return errors.Problem();
        }

        var page = traffic.Flows(first, count);
        var flows = page.Flows.Select(f => new FlowDto(f.Plane, f.Camera, f.Protocol, f.Source, f.SourcePort, f.Destination, f.DestinationPort, f.Direction, f.State, f.PolicyVersion, f.LastSeen, f.PeerName)).ToList();
        return TypedResults.Ok(new FlowsDto(page.Total, first, count, flows));
    }

    /// <summary>Every camera's learned names (or one camera's), ordered by camera, name and address.</summary>
    internal static Ok<LearnedNamesDto> GetLearnedNames(ITrafficSource traffic, [FromQuery(Name = "camera")] string? camera)
        => TypedResults.Ok(new LearnedNamesDto([.. traffic.LearnedNames()
            .Where(n => camera is null || string.Equals(n.Camera, camera, StringComparison.Ordinal))
            .OrderBy(n => n.Camera, StringComparer.Ordinal).ThenBy(n => n.Name, StringComparer.Ordinal).ThenBy(n => n.Address, StringComparer.Ordinal)
            .Select(n => new LearnedNameDto(n.Camera, n.Name, n.Address, n.RemainingSeconds, n.AdmitsSeconds))]));

    internal static Results<Ok<EventsDto>, ProblemHttpResult> GetEvents(IEventFeed events, [FromQuery(Name = "limit")] string? limit, [FromQuery(Name = "after")] string? after)
    {
        var errors = new QueryErrors();
        var count = errors.OptionalInt("limit", limit, 1, MaxPage, "a whole number") ?? DefaultPage;
        var since = errors.OptionalLong("after", after, 0, long.MaxValue, "an event sequence number") ?? 0;
        if (errors.Any)
        {
            return errors.Problem();
        }

        var list = events.Recent(count, since).Select(e => new EventDto(e.Sequence, e.At, e.Kind, e.Level, e.Message, e.Fields)).ToList();
        return TypedResults.Ok(new EventsDto(events.Total, list));
    }

    internal static ContentHttpResult GetMetrics(PolicyService policies, ITrafficSource traffic)
        => TypedResults.Text(PrometheusWriter.Write(policies, traffic), PrometheusWriter.ContentType);

    // One mapping for apply, reload, rollback and confirm: each outcome has the same status whichever verb led to it.
    // An error is a problem document whose extension members are the ApplyDto's, so the diagnostics travel with it.
    internal static Results<Ok<ApplyDto>, ProblemHttpResult> ApplyResponse(ApplyResult result)
    {
        var dto = result.ToDto();
        var (status, title) = result.Outcome switch
        {
            ApplyOutcome.Rejected => (StatusCodes.Status422UnprocessableEntity, "Policy rejected"),
            ApplyOutcome.NotFound => (StatusCodes.Status404NotFound, "Policy version not found"),
            ApplyOutcome.NothingPending => (StatusCodes.Status409Conflict, "Nothing to confirm"),
            _ => (StatusCodes.Status200OK, null),
        };
        if (status == StatusCodes.Status200OK)
        {
            return TypedResults.Ok(dto);
        }

        return TypedResults.Problem(
            dto.Message,
            statusCode: status,
            title: title,
            extensions: new Dictionary<string, object?>
            {
                ["outcome"] = dto.Outcome,
                ["message"] = dto.Message,
                ["version"] = dto.Version,
                ["sha256"] = dto.Sha256,
                ["diagnostics"] = dto.Diagnostics,
            });
    }

    private static async Task<(IReadOnlyList<PolicySource>? Sources, ProblemHttpResult? Problem)> ReadFilesAsync(HttpContext context, ManagementOptions options)
    {
        var json = ManagementJsonContext.Default;
        if (context.Request.ContentLength > options.MaxRequestBodyBytes)
        {
            return (null, TypedResults.Problem($"request body larger than {options.MaxRequestBodyBytes} bytes", statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large"));
        }

        if (!context.Request.HasJsonContentType())
        {
            return (null, TypedResults.Problem("send application/json: {\"files\": {\"site.yaml\": \"...\"}}", statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type"));
        }

        PolicyFilesDto? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, json.PolicyFilesDto, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException e)
        {
            // Kestrel enforces MaxRequestBodySize on chunked bodies while they are read.
            return (null, TypedResults.Problem(e.Message, statusCode: e.StatusCode, title: e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request"));
        }
        catch (JsonException e)
        {
            return (null, TypedResults.Problem($"malformed JSON: {e.Message}", statusCode: StatusCodes.Status400BadRequest, title: "Malformed request body"));
        }

        // No files, or a file whose text is null, is a 400 (a null is never read as an empty file).
        return PolicyRequestValidation.Files(body);
    }

    private static ChangeOrigin ApiOrigin(HttpContext context, string? detail = null)
    {
        string remote;
        if (context.Features.Get<PeerCredentials>() is { } peer)
        {
            remote = string.Create(CultureInfo.InvariantCulture, $"local socket (uid {peer.Uid}, pid {peer.Pid})");
        }
        else
        {
            remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (context.Connection.ClientCertificate is { } cert)
            {
                remote += $" ({cert.Subject})";
            }
        }

        // A change made in the web console (its page posted with a session cookie) is recorded as the console's, so the
        // history and syslog tell an admin's clicks from a script's token.
        var viaConsole = string.Equals(context.User.FindFirst(ApiAuth.MethodClaim)?.Value, ConsoleSecurity.SessionMethod, StringComparison.Ordinal);
        return new ChangeOrigin(viaConsole ? ChangeOrigin.ConsoleKind : ChangeOrigin.ApiKind, remote, detail);
    }

    private static CamerasDto Cameras(PolicyService policies, ITrafficSource traffic, DeniedDestinationTracker denied)
    {
        var state = policies.Current;
        if (state is null)
        {
            return new CamerasDto(null, []);
        }

        var list = new List<CameraDto>(state.Spec.Cameras.Count);
        foreach (var camera in state.Spec.Cameras)
        {
            var counters = policies.Holder.Slots.TryGet(camera.Name, out var slot) ? traffic.Camera(slot) : default;
            var top = denied.Top(camera.Name, 5);
            list.Add(new CameraDto(
                camera.Name,
                camera.Mac?.ToString(),
                [.. camera.Addresses.Select(a => a.ToString())],
                camera.Profiles,
                PolicyFormatter.ModeWord(camera.Mode),
                counters.LastSeen,
                counters.FramesPassed,
                counters.FramesDropped,
                counters.BytesPassed,
                counters.BytesDropped,
                [.. top.Select(d => new DeniedDestinationDto(d.Address, d.Port, d.Protocol, d.Count, d.LastSeen, d.Name))],
                counters.NoDnsForPeer));
        }

        return new CamerasDto(state.Version, list);
    }

    /// <summary>Collects invalid query values; each becomes an entry of a 400 validation problem naming the parameter.</summary>
    private sealed class QueryErrors
    {
        private Dictionary<string, string[]>? _errors;

        public bool Any => _errors is not null;

        public int? OptionalInt(string name, string? raw, int min, int max, string what)
            => OptionalLong(name, raw, min, max, what) is { } v ? (int)v : null;

        public long? OptionalLong(string name, string? raw, long min, long max, string what)
        {
            if (raw is null)
            {
                return null;
            }

            // Out of range is refused, never clamped: a client asking for 5000 rows must learn it gets at most 1000.
            if (long.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            {
                return v;
            }

            (_errors ??= [])[name] = [string.Create(CultureInfo.InvariantCulture, $"'{name}' must be {what} from {min} to {max}, not '{raw}'")];
            return null;
        }

        public ProblemHttpResult Problem() => Problem(_errors!);

        public static ProblemHttpResult Single(string name, string message) => Problem(new Dictionary<string, string[]> { [name] = [message] });

        // A validation problem (RFC 9457 with an "errors" member per parameter), typed as ProblemHttpResult so every
        // handler's error arm is the same type.
        private static ProblemHttpResult Problem(Dictionary<string, string[]> errors) => TypedResults.Problem(new HttpValidationProblemDetails(errors)
        {
            Status = StatusCodes.Status400BadRequest,
            Detail = string.Join("; ", errors.Values.SelectMany(v => v)),
        });
    }
}
