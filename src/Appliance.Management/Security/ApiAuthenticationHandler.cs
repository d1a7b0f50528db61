using System.Globalization;
using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Appliance.Management.WebConsole;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Management.Security;

/// <summary>Names of the management API's authentication scheme, authorization policy and claims.</summary>
public static class ApiAuth
{
    /// <summary>The one authentication scheme: a bearer token on TCP, the peer's uid on the local socket.</summary>
    public const string Scheme = "camfw";

    /// <summary>The policy every endpoint but health requires.</summary>
    public const string AdminPolicy = "camfw-admin";

    /// <summary>Claim carried by a caller allowed to administer the appliance.</summary>
    public const string RoleClaim = "camfw:role";

    /// <summary>Value of <see cref="RoleClaim"/> for an administrator.</summary>
    public const string AdminRole = "admin";

    /// <summary>Claim naming how the caller was recognised (<c>token</c>, <c>unix-socket</c>, <c>console-session</c>).</summary>
    public const string MethodClaim = "camfw:auth";

    /// <summary>The policy: an authenticated caller holding the admin role.</summary>
    public static AuthorizationPolicy BuildAdminPolicy() => new AuthorizationPolicyBuilder(Scheme)
        .RequireAuthenticatedUser()
        .RequireClaim(RoleClaim, AdminRole)
        .Build();
}

/// <summary>Options of <see cref="ApiAuthenticationHandler"/>.</summary>
public sealed class ApiAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Peer uids the local socket serves besides root (the service's own uid).</summary>
    public IReadOnlySet<uint> AllowedPeerUids { get; set; } = new HashSet<uint>();
}

/// <summary>
/// Authenticates management API and console requests. On TCP: <c>Authorization: Bearer TOKEN</c>, compared in
/// constant time, or else the console's session cookie (a session the login form opened with the same token), so the
/// API and the console share one authorization policy. On the local Unix socket: the peer's uid as the kernel reports
/// it (SO_PEERCRED), no token. A failed request to a
/// protected endpoint is counted per remote address; once an address is over the limit, its failures are answered 429
/// without a 401 challenge or a log line each, but a request presenting the right token is always checked and served:
/// the failures are rate-limited, not the owner who shares the address (issue 12.4). What protects the token is its
/// entropy (32 random bytes when generated, at least <see cref="ApiToken.MinimumLength"/> characters when configured),
/// not the guessing rate; the lockout keeps a guesser from filling the log and costs it a useful answer.
/// </summary>
internal sealed class ApiAuthenticationHandler(
    IOptionsMonitor<ApiAuthenticationOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiToken token,
    AuthFailureLimiter limiter,
    ConsoleSessions sessions,
    IProblemDetailsService problems) : AuthenticationHandler<ApiAuthenticationOptions>(options, loggerFactory, encoder)
{
    private readonly ILogger _log = loggerFactory.CreateLogger<ApiAuthenticationHandler>();

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Context.Features.Get<PeerCredentials>() is { } peer)
        {
            return Task.FromResult(AuthenticatePeer(peer));
        }

        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateSession());
        }

        if (!TryGetBearer(header, out var presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("not a bearer token"));
        }

        // Checked whether or not the address is locked out: the owner's request must not fail for someone else's guesses.
        if (!token.Matches(presented))
        {
            return Task.FromResult(AuthenticateResult.Fail("wrong bearer token"));
        }

        return Task.FromResult(Success("token", "token"));
    }

    // An unknown or expired cookie is no credential at all (not a failure): the browser is sent to log in again, and
    // guessing 256-bit session ids is not a thing the failure limiter needs to slow down.
    private AuthenticateResult AuthenticateSession()
    {
        if (!Request.Cookies.TryGetValue(ConsoleSecurity.CookieName(Request.IsHttps), out var cookie) || !sessions.TryUse(cookie, out var session))
        {
            return AuthenticateResult.NoResult();
        }

        // The CSRF check and logout find the session here; it never leaves the process.
        Context.Features.Set(session!);
        return Success(ConsoleSecurity.SessionMethod, "console session from " + session!.Remote);
    }

    private AuthenticateResult AuthenticatePeer(PeerCredentials peer)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"uid {peer.Uid}");
        if (peer.Uid == 0 || Options.AllowedPeerUids.Contains(peer.Uid))
        {
            return Success("unix-socket", name);
        }

        // Authenticated (the kernel vouches for the uid) but not an administrator: 403 with a clear reason, not 401.
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ApiAuth.MethodClaim, "unix-socket")], ApiAuth.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiAuth.Scheme));
    }

    private static AuthenticateResult Success(string method, string name)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, name), new Claim(ApiAuth.MethodClaim, method), new Claim(ApiAuth.RoleClaim, ApiAuth.AdminRole)],
            ApiAuth.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiAuth.Scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // A browser on a console page without a live session goes to the login form; nothing was guessed, so nothing
        // is counted. Everything else (the API, the event stream, a wrong token) gets the 401 below.
        if (ConsoleSecurity.WantsLoginPage(Request))
        {
            Response.Redirect(ConsoleSecurity.LoginPath);
            return;
        }

        var remote = Normalize(Context.Connection.RemoteIpAddress);
        if (limiter.IsLockedOut(remote, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await WriteProblemAsync(StatusCodes.Status429TooManyRequests, "Too many failed authentications", $"too many failed authentications from this address; a request with the right token is still served, others are refused for {seconds} s").ConfigureAwait(false);
            return;
        }

        Log.AuthFailed(_log, remote.ToString(), Request.Method, Request.Path.ToString());
        if (limiter.RecordFailure(remote))
        {
            Log.AuthRateLimited(_log, remote.ToString(), (int)limiter.Lockout.TotalSeconds);
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"camfw\"";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", "missing or wrong bearer token").ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var who = Context.User.Identity?.Name ?? "this caller";
        return WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", $"{who} may not administer the appliance: the local socket serves root and the service's own user");
    }

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem }).ConfigureAwait(false))
        {
            // The client accepts no JSON: the status and headers say enough.
            await Response.WriteAsync(detail).ConfigureAwait(false);
        }
    }

    private static IPAddress Normalize(IPAddress? address) => address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Extracts the token of an <c>Authorization: Bearer TOKEN</c> header.</summary>
    internal static bool TryGetBearer(string header, out string token)
    {
        const string Scheme = "Bearer ";
        if (header.Length > Scheme.Length && header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            token = header[Scheme.Length..].Trim();
            return token.Length > 0;
        }

        token = "";
        return false;
    }
}
