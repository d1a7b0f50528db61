using System.Globalization;
using System.Net;
using System.Text.Json;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.WebConsole;

/// <summary>
/// The web console's routes under <c>/console</c>: every page requires <see cref="ApiAuth.AdminPolicy"/>, the same
/// policy as the API, met by a console session (or a bearer token); only the login form, logout (which without a
/// session only clears the cookie) and the embedded stylesheet and script (which hold no data) are anonymous. The
/// console's actions on the policy go to the API's own endpoints with the session cookie and the anti-forgery header,
/// so there is one implementation of each.
/// </summary>
internal static class ConsoleEndpoints
{
    private const string HtmlType = "text/html; charset=utf-8";

    /// <summary>The embedded assets by URL name: (resource name, content type).</summary>
    private static readonly Dictionary<string, (string Resource, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["console.css"] = ("Appliance.Management.WebConsole.Assets.console.css", "text/css; charset=utf-8"),
        ["console.js"] = ("Appliance.Management.WebConsole.Assets.console.js", "text/javascript; charset=utf-8"),
    };

    private static readonly Lazy<Dictionary<string, (byte[] Bytes, string ContentType, Microsoft.Net.Http.Headers.EntityTagHeaderValue ETag)>> LoadedAssets = new(LoadAssets);

    /// <summary>How often the event stream looks for new events.</summary>
    internal static readonly TimeSpan StreamPollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Comment lines keep the stream open through idle proxies.</summary>
    internal static readonly TimeSpan StreamHeartbeat = TimeSpan.FromSeconds(15);

    /// <summary>Maps the console.</summary>
    public static void MapWebConsole(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => TypedResults.Redirect(ConsoleSecurity.BasePath + "/")).AllowAnonymous();

        var group = app.MapGroup(ConsoleSecurity.BasePath).RequireAuthorization(ApiAuth.AdminPolicy);
        group.MapGet("/login", GetLogin).AllowAnonymous();
        group.MapPost("/login", LoginAsync).AllowAnonymous().DisableAntiforgery();
        group.MapGet("/assets/{name}", GetAsset).AllowAnonymous();
        // Anonymous so "Log out" pressed after the session expired lands on the login page, not on a 401 counted as a
        // failed authentication; with a live session, the anti-forgery check still guards it.
        group.MapPost("/logout", Logout).AllowAnonymous();
        group.MapGet("/", Overview);
        group.MapGet("/cameras", Cameras);
        group.MapGet("/cameras/{name}", Camera);
        group.MapGet("/blocked", Blocked);
        group.MapGet("/events", Events);
        group.MapGet("/events/stream", StreamAsync);
        group.MapGet("/policy", Policy);
        group.MapGet("/proposal", Proposal);
    }

    internal static ContentHttpResult GetLogin() => TypedResults.Content(ConsolePages.Login(null), HtmlType);

    internal static async Task<Results<RedirectHttpResult, ContentHttpResult>> LoginAsync(HttpContext context, ApiToken token, AuthFailureLimiter limiter, ConsoleState state, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger(typeof(ConsoleEndpoints));
        var remote = Normalize(context.Connection.RemoteIpAddress);

        // No session yet, so no anti-forgery token: the browser's own word on where the form came from decides.
        if (!ConsoleSecurity.IsSameOrigin(context.Request) || !context.Request.HasFormContentType)
        {
            return TypedResults.Content(ConsolePages.Login("This login did not come from the console's own form."), HtmlType, statusCode: StatusCodes.Status403Forbidden);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var presented = form["token"].ToString().Trim();

        // The right token is always served, locked out or not (as for the API): the lockout slows guessers down, it
        // must not lock out the owner who shares their address.
        if (presented.Length > 0 && token.Matches(presented))
        {
            // Logging in again from a browser that still holds a live session (a second tab, a bookmarked login page)
            // ends that session: one browser, one session.
            if (context.Features.Get<ConsoleSession>() is { } previous)
            {
                state.Sessions.Remove(previous.Key);
            }

            var (cookie, session) = state.Sessions.Create(remote.ToString());
            context.Response.Cookies.Append(ConsoleSecurity.CookieName(context.Request.IsHttps), cookie, ConsoleSecurity.CookieOptions(context.Request.IsHttps));
            Log.ConsoleLogin(log, remote.ToString(), session.Key[..8]);
            return TypedResults.Redirect(ConsoleSecurity.BasePath + "/");
        }

        if (limiter.IsLockedOut(remote, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Content(ConsolePages.Login($"Too many failed logins from this address; try again in {seconds} s."), HtmlType, statusCode: StatusCodes.Status429TooManyRequests);
        }

        Log.AuthFailed(log, remote.ToString(), "POST", ConsoleSecurity.LoginPath);
        if (limiter.RecordFailure(remote))
        {
            Log.AuthRateLimited(log, remote.ToString(), (int)limiter.Lockout.TotalSeconds);
        }

        return TypedResults.Content(ConsolePages.Login("That is not the management token."), HtmlType, statusCode: StatusCodes.Status401Unauthorized);
    }

    internal static RedirectHttpResult Logout(HttpContext context, ConsoleState state, ILoggerFactory loggers)
    {
        if (context.Features.Get<ConsoleSession>() is { } session)
        {
            state.Sessions.Remove(session.Key);
            Log.ConsoleLogout(loggers.CreateLogger(typeof(ConsoleEndpoints)), session.Remote, session.Key[..8]);
        }

        context.Response.Cookies.Delete(ConsoleSecurity.CookieName(context.Request.IsHttps), ConsoleSecurity.CookieOptions(context.Request.IsHttps));
        return TypedResults.Redirect(ConsoleSecurity.LoginPath);
    }

    internal static Results<FileContentHttpResult, NotFound> GetAsset(HttpContext context, string name)
    {
        if (!LoadedAssets.Value.TryGetValue(name, out var asset))
        {
            return TypedResults.NotFound();
        }

        // Revalidated on every use (no-cache, ETag): a new appliance version's script is never mixed with old pages.
        context.Response.Headers.CacheControl = "no-cache";
        return TypedResults.File(asset.Bytes, asset.ContentType, entityTag: asset.ETag);
    }

    internal static ContentHttpResult Overview(HttpContext context, ConsoleState state, PolicyService policies, ITrafficSource traffic, IEventFeed events)
    {
        state.Inbox.CatchUp(events);
        return Page(ConsolePages.Overview(PageOf(context, state), policies, traffic));
    }

    internal static ContentHttpResult Cameras(HttpContext context, ConsoleState state, PolicyService policies, ITrafficSource traffic, IEventFeed events)
    {
        state.Inbox.CatchUp(events);
        return Page(ConsolePages.Cameras(PageOf(context, state), policies, traffic));
    }

    internal static ContentHttpResult Camera(HttpContext context, string name, ConsoleState state, PolicyService policies, ITrafficSource traffic, IEventFeed events)
    {
        state.Inbox.CatchUp(events);
        var html = ConsolePages.Camera(PageOf(context, state), name, policies, traffic, events);
        return html is null
            ? TypedResults.Content(NotFoundPage(name), HtmlType, statusCode: StatusCodes.Status404NotFound)
            : Page(html);
    }

    internal static ContentHttpResult Blocked(HttpContext context, ConsoleState state, IEventFeed events)
    {
        state.Inbox.CatchUp(events);
        return Page(ConsolePages.Blocked(PageOf(context, state)));
    }

    internal static ContentHttpResult Events(HttpContext context, ConsoleState state, IEventFeed events)
        => Page(ConsolePages.Events(PageOf(context, state), events));

    internal static ContentHttpResult Policy(HttpContext context, ConsoleState state, PolicyService policies)
        => Page(ConsolePages.Policy(PageOf(context, state), policies));

    internal static ContentHttpResult Proposal(HttpContext context, ConsoleState state, ITrafficSource traffic)
        => Page(ConsolePages.Proposal(PageOf(context, state), traffic));

    /// <summary>
    /// Server-sent events: every new security event as one JSON <c>data:</c> line, its sequence as the event id so a
    /// reconnecting browser resumes where it stopped (<c>Last-Event-ID</c>, or <c>?after=</c> for the first
    /// connection). The stream ends when the client goes or the session that opened it ends (logout, expiry).
    /// </summary>
    internal static async Task StreamAsync(HttpContext context, ConsoleState state, IEventFeed events, [FromQuery(Name = "after")] string? after)
    {
        var last = 0L;
        var resume = context.Request.Headers["Last-Event-ID"].ToString();
        if ((resume.Length > 0 && !long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out last))
            || (resume.Length == 0 && after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out last)))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("'after' and Last-Event-ID must be event sequence numbers", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        var session = context.Features.Get<ConsoleSession>();
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var ct = context.RequestAborted;
        await context.Response.WriteAsync("retry: 2000\n\n", ct).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);

        var quietSince = state.Time.GetUtcNow();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                if (session is not null && !state.Sessions.IsLive(session.Key))
                {
                    await context.Response.WriteAsync("event: session-ended\ndata: {}\n\n", ct).ConfigureAwait(false);
                    return;
                }

                var batch = events.Recent(ManagementApi.MaxPage, last);
                for (var i = batch.Count - 1; i >= 0; i--)
                {
                    var e = batch[i];
                    var json = JsonSerializer.Serialize(new EventDto(e.Sequence, e.At, e.Kind, e.Level, e.Message, e.Fields), ManagementJsonContext.Default.EventDto);
                    await context.Response.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"id: {e.Sequence}\ndata: {json}\n\n"), ct).ConfigureAwait(false);
                    last = Math.Max(last, e.Sequence);
                }

                var now = state.Time.GetUtcNow();
                if (batch.Count > 0)
                {
                    quietSince = now;
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }
                else if (now - quietSince >= StreamHeartbeat)
                {
                    quietSince = now;
                    await context.Response.WriteAsync(": keep-alive\n\n", ct).ConfigureAwait(false);
                    await context.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                }

                // A polling cadence, not a timeout: real time, whatever clock the sessions run on.
                await Task.Delay(StreamPollInterval, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The browser went away: nothing to report.
        }
    }

    private static ContentHttpResult Page(string html) => TypedResults.Content(html, HtmlType);

    private static PageContext PageOf(HttpContext context, ConsoleState state)
    {
        // A bearer-token client (curl) may read the pages too; it gets a throwaway token in forms it cannot use.
        var session = context.Features.Get<ConsoleSession>() ?? new ConsoleSession("-", "-", state.Time.GetUtcNow(), "token");
        return new PageContext(session, state, state.Time.GetUtcNow());
    }

    private static string NotFoundPage(string name)
    {
        var h = new Html();
        h.Raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>camfw · not found</title><link rel=\"stylesheet\" href=\"/console/assets/console.css\"></head><body><main id=\"main\"><h1>No camera named ")
            .Text(name).Raw("</h1><p><a href=\"/console/cameras\">All cameras</a></p></main></body></html>");
        return h.ToString();
    }

    private static Dictionary<string, (byte[] Bytes, string ContentType, Microsoft.Net.Http.Headers.EntityTagHeaderValue ETag)> LoadAssets()
    {
        var loaded = new Dictionary<string, (byte[], string, Microsoft.Net.Http.Headers.EntityTagHeaderValue)>(StringComparer.Ordinal);
        foreach (var (name, (resource, type)) in Assets)
        {
            using var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"the console asset {resource} is not embedded in the assembly");
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var bytes = memory.ToArray();
            var etag = new Microsoft.Net.Http.Headers.EntityTagHeaderValue("\"" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))[..16] + "\"");
            loaded.Add(name, (bytes, type, etag));
        }

        return loaded;
    }

    private static IPAddress Normalize(IPAddress? address) => address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
