using Appliance.Management.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Appliance.Management.WebConsole;

/// <summary>
/// The console's browser-facing defences: the session cookie's name and attributes, the response headers every
/// response carries (a strict Content-Security-Policy with no inline script or style, no framing, no sniffing, no
/// referrer), and the cross-site request forgery check of every state-changing request a session cookie
/// authenticated, whichever route it goes to (the console's or <c>/api/v1</c>'s).
/// </summary>
public static class ConsoleSecurity
{
    /// <summary>Where the console lives.</summary>
    public const string BasePath = "/console";

    /// <summary>The login page.</summary>
    public const string LoginPath = BasePath + "/login";

    /// <summary>Header by which the console's script sends the session's anti-forgery token.</summary>
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>Form field by which the console's forms send the session's anti-forgery token.</summary>
    public const string CsrfField = "csrf";

    /// <summary>
    /// The Content-Security-Policy: scripts, styles, images and fetches from this server only, no inline script or
    /// style at all (not even <c>style=""</c>), forms post only here, no framing, no plugins, no base-URI games.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    /// <summary>
    /// The cookie's name: with https the <c>__Host-</c> prefix, which the browser honours only for a Secure cookie
    /// with Path=/ and no Domain (so no sibling host can plant or shadow it); on loopback http the plain name.
    /// </summary>
    public static string CookieName(bool https) => https ? "__Host-camfw-session" : "camfw-session";

    /// <summary>The session cookie's attributes: HttpOnly, SameSite=Strict, Secure on https, a session cookie (no Expires).</summary>
    public static CookieOptions CookieOptions(bool https) => new()
    {
        HttpOnly = true,
        Secure = https,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        IsEssential = true,
    };

    /// <summary>Adds the security headers to every response, however it ends (error pages too).</summary>
    public static Task AddHeaders(HttpContext context, RequestDelegate next)
    {
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            var headers = ctx.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            // same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with its own form posts
            // and fetches, which would blind the origin check below; other sites still get no referrer at all.
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Cross-Origin-Resource-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
            if (ctx.Request.IsHttps)
            {
                headers.StrictTransportSecurity = "max-age=31536000";
            }

            // Pages and API answers hold live state and secrets (the anti-forgery token): never from a cache.
            if (!headers.ContainsKey("Cache-Control"))
            {
                headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        }, context);
        return next(context);
    }

    /// <summary>
    /// Refuses (403) a state-changing request authenticated by a console session unless it carries the session's
    /// anti-forgery token (header or form field) and, when the browser says where it came from, it came from this
    /// origin. Bearer-token and local-socket requests are not affected: no browser sends those by itself. An endpoint
    /// marked <c>.DisableAntiforgery()</c> is not checked here: that is the login form, which starts a new session
    /// (so it has no session token to send), needs the API token itself, and checks the origin on its own.
    /// </summary>
    public static async Task CheckForgery(HttpContext context, RequestDelegate next)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
            || context.GetEndpoint()?.Metadata.GetMetadata<IAntiforgeryMetadata>() is { RequiresValidation: false })
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<ConsoleSession>() is { } session)
        {
            var presented = context.Request.Headers[CsrfHeader].ToString();
            if (presented.Length == 0 && context.Request.HasFormContentType)
            {
                var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
                presented = form[CsrfField].ToString();
            }

            if (!IsSameOrigin(context.Request) || !ConsoleSessions.CsrfMatches(session, presented))
            {
                await RefuseAsync(context, "the request did not come from this console (missing or wrong anti-forgery token, or another origin)").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>
    /// False when the browser says the request came from elsewhere: a <c>Sec-Fetch-Site</c> other than
    /// <c>same-origin</c>, or an <c>Origin</c> that is not this server's (an opaque <c>null</c> origin included). Both
    /// are headers a page cannot set; when the browser sends both, both must agree. Clients that send neither (curl)
    /// are judged by the token alone.
    /// </summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        return (site.Length == 0 || string.Equals(site, "same-origin", StringComparison.Ordinal)) && OriginMatchesOrAbsent(request);
    }

    private static bool OriginMatchesOrAbsent(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return true;
        }

        var own = request.Scheme + "://" + request.Host.Value;
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// True when an unauthenticated request should be sent to the login page (a browser navigating to a console page)
    /// rather than answered 401: a GET or HEAD under <see cref="BasePath"/> that presents no bearer token and does not
    /// ask for an event stream.
    /// </summary>
    public static bool WantsLoginPage(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && request.Path.StartsWithSegments(BasePath, StringComparison.Ordinal)
            && request.Headers.Authorization.Count == 0
            && !request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }

    private static Task RefuseAsync(HttpContext context, string detail)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        var problems = context.RequestServices.GetService(typeof(IProblemDetailsService)) as IProblemDetailsService;
        var problem = new ProblemDetails { Status = StatusCodes.Status403Forbidden, Title = "Cross-site request refused", Detail = detail };
        return problems is null ? context.Response.WriteAsync(detail) : problems.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }).AsTask();
    }

    /// <summary>The claim value of <see cref="ApiAuth.MethodClaim"/> for a console session.</summary>
    public const string SessionMethod = "console-session";
}
