using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.WebConsole;
using Appliance.TestSupport.Host;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.WebConsole;

/// <summary>
/// The console over real HTTP on loopback (a real Kestrel): login, the session cookie's attributes, the routes'
/// refusals without a session, cross-site request forgery, the security headers, expiry and logout.
/// </summary>
public sealed partial class ConsoleHttpTests
{
    private static readonly string[] PageList = ["/console", "/console/", "/console/cameras", "/console/cameras/cam-a", "/console/blocked", "/console/events", "/console/policy"];

    /// <summary>Every console page (GET) with data behind it.</summary>
    public static TheoryData<string> Pages => [.. PageList];

    /// <summary>Every console page, and a path under it that matches none.</summary>
    public static TheoryData<string> Paths => [.. PageList, "/console/no-such-page"];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Page_NoSession_RedirectsToLoginWithoutData(string path)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(ConsoleSecurity.LoginPath, response.Headers.Location!.OriginalString);
        AssertNoData(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task EventStream_NoSession_Returns401WithoutData()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/console/events/stream?after=0");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        AssertNoData(await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/console/cameras")]
    [InlineData("/console/policy")]
    public async Task Post_NoSession_Returns401(string path)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var response = await PostFormAsync(client, path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>
    /// Every route the server maps, asked with no credentials at all. The anonymous ones are exactly these few, which
    /// hold no data; every other one sends a browser's GET under /console to the login page and answers anything else
    /// 401. A route added later without authorization fails here, not in an audit.
    /// </summary>
    [Fact]
    public async Task EveryRoute_NoCredentials_LoginPageOr401NeverData()
    {
        var feed = new ListFeed();
        feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        await using var api = await StartAsync(events: feed);
        var routes = api.Server.Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (Method: m, Pattern: e.RoutePattern.RawText ?? "", Anonymous: e.Metadata.GetMetadata<IAllowAnonymous>() is not null)))
            .ToList();
        Assert.Contains(routes, r => r.Pattern == "/console/proposal"); // positive control: the console's routes are listed
        Assert.Contains(routes, r => r.Pattern == "/api/v1/policy/rollback/{version}");
        Assert.Equal(
            ["GET /", "GET /api/v1/health", "GET /console/assets/{name}", "GET /console/login", "POST /console/login", "POST /console/logout"],
            routes.Where(r => r.Anonymous).Select(r => $"{r.Method} {r.Pattern}").Order(StringComparer.Ordinal));

        using var client = Browser(api, out _);
        foreach (var (method, pattern, anonymous) in routes)
        {
            var path = RouteParameter().Replace(pattern, m => m.Groups[1].Value switch
            {
                "name" when pattern.StartsWith("/console/assets/", StringComparison.Ordinal) => "console.js",
                "name" => "cam-a",
                "version" => "1",
                _ => "x",
            });
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method is not ("GET" or "HEAD"))
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            AssertNoData(body);
            if (anonymous)
            {
                continue;
            }

            if (method == "GET" && path.StartsWith(ConsoleSecurity.BasePath, StringComparison.Ordinal))
            {
                Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{method} {path}: {(int)response.StatusCode}, not the login page");
                Assert.Equal(ConsoleSecurity.LoginPath, response.Headers.Location!.OriginalString);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)response.StatusCode}, not 401");
            }
        }

        Assert.Equal(1u, api.Policies.Current!.Version); // and nothing changed
    }

    [Fact]
    public async Task Login_AgainWhileSessionLive_NewSessionReplacesOldNot403()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out var cookies);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var first = cookies.GetCookies(api.Server.Addresses[0])["camfw-session"]!.Value;

        // The login form posted with a live session's cookie (a second tab, a bookmarked login page): the form has no
        // session token to send, and needs none; it starts a new session and ends the old one.
        using var again = await LoginAsync(client, ApiHarness.Token);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal("/console/", again.Headers.Location!.OriginalString);
        var second = cookies.GetCookies(api.Server.Addresses[0])["camfw-session"]!.Value;
        Assert.NotEqual(first, second);
        Assert.Equal(1, api.Server.ConsoleSessions.Count);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/console/cameras")).StatusCode);

        using var old = Browser(api, out var oldCookies);
        oldCookies.Add(api.Server.Addresses[0], new Cookie("camfw-session", first));
        using var replay = await old.GetAsync("/console/cameras");
        Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
    }

    [Theory]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "http://198.51.100.66")]
    public async Task Login_FromAnotherSiteWhileSessionLive_RefusedAndSessionKept(string header, string value)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out var cookies);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var session = cookies.GetCookies(api.Server.Addresses[0])["camfw-session"]!.Value;

        // The login form is exempt from the session's anti-forgery token, not from the origin check: a page elsewhere
        // cannot swap the admin's session for one of its choosing, nor end it.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/login") { Content = new FormUrlEncodedContent([new("token", ApiHarness.Token)]) };
        request.Headers.Add(header, value);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(session, cookies.GetCookies(api.Server.Addresses[0])["camfw-session"]!.Value);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/console/cameras")).StatusCode);
    }

    [Fact]
    public async Task Logout_SessionAlreadyExpired_LoginPageNotCountedAsFailure()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await StartAsync(
            o =>
            {
                o.ConsoleSessionIdleTimeout = TimeSpan.FromMinutes(10);
                o.AuthFailureLimit = 1; // one counted failure locks the address out: the wrong token below would get 429
            },
            time);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var csrf = await CsrfTokenAsync(client);
        time.Advance(TimeSpan.FromMinutes(11));

        // "Log out" pressed on a page left open past the idle timeout: the login page, and the cookie cleared.
        using var logout = await PostFormAsync(client, "/console/logout", KeyValuePair.Create(ConsoleSecurity.CsrfField, csrf));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(ConsoleSecurity.LoginPath, logout.Headers.Location!.OriginalString);
        Assert.Contains(logout.Headers.GetValues("Set-Cookie"), c => c.StartsWith("camfw-session=;", StringComparison.Ordinal));

        // Not a failed authentication: the address is not locked out, so a wrong token is told so (401), not 429.
        using var wrong = await LoginAsync(client, "not-the-token-000000");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }

    [Fact]
    public async Task Session_ServerRestarted_OldCookieOpensNothing()
    {
        // Sessions live in the process only: the token is read once at start, so changing it means a restart, and a
        // restart ends every session.
        string cookie;
        await using (var before = await StartAsync())
        {
            using var client = Browser(before, out var cookies);
            (await LoginAsync(client, ApiHarness.Token)).Dispose();
            cookie = cookies.GetCookies(before.Server.Addresses[0])["camfw-session"]!.Value;
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/console/cameras")).StatusCode);
        }

        await using var after = await StartAsync();
        using var replay = Browser(after, out var replayCookies);
        replayCookies.Add(after.Server.Addresses[0], new Cookie("camfw-session", cookie));
        using var response = await replay.GetAsync("/console/cameras");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(ConsoleSecurity.LoginPath, response.Headers.Location!.OriginalString);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Page_ForgedOrExpiredCookie_RedirectsToLogin(string path)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out var cookies);
        cookies.Add(api.Server.Addresses[0], new Cookie("camfw-session", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        AssertNoData(await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_RightToken_SetsStrictHttpOnlyCookieAndServesPages()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var login = await LoginAsync(client, ApiHarness.Token);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/console/", login.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("camfw-session=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("expires", setCookie, StringComparison.OrdinalIgnoreCase); // a session cookie
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase); // plain http on loopback

        var cameras = await client.GetStringAsync("/console/cameras");
        Assert.Contains("cam-a", cameras, StringComparison.Ordinal);

        // The same session meets the API's authorization policy.
        using var apiResponse = await client.GetAsync("/api/v1/cameras");
        Assert.Equal(HttpStatusCode.OK, apiResponse.StatusCode);
    }

    [Fact]
    public async Task Login_WrongToken_CountsFailuresThenLocksOutButRightTokenStillServed()
    {
        await using var api = await StartAsync(o => o.AuthFailureLimit = 3);
        using var client = Browser(api, out _);
        for (var i = 0; i < 3; i++)
        {
            using var wrong = await LoginAsync(client, "not-the-token-000000");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
            Assert.Contains("not the management token", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var locked = await LoginAsync(client, "not-the-token-000000");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // The lockout is the API's too: one limiter for both doors.
        using var bearer = api.NewClient("wrong-token-0000000000");
        using var apiLocked = await bearer.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.TooManyRequests, apiLocked.StatusCode);

        using var right = await LoginAsync(client, ApiHarness.Token);
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
    }

    [Fact]
    public async Task Login_FromAnotherOrigin_Refused()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/login") { Content = new FormUrlEncodedContent([new("token", ApiHarness.Token)]) };
        request.Headers.Add("Origin", "http://198.51.100.66");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task StateChange_SessionWithoutCsrfToken_RefusedAndNothingChanges()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        // Logout without the token: refused, the session lives on.
        using (var logout = await PostFormAsync(client, "/console/logout"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, logout.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/console/cameras")).StatusCode);

        // An API change riding on the cookie without the token: refused, the policy stays.
        using (var put = await PutPolicyAsync(client, TestPolicies.Files(count: 2)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        }

        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Theory]
    [InlineData("Origin", "http://198.51.100.66")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Origin", "null")]
    public async Task StateChange_RightTokenFromAnotherSite_Refused(string header, string value)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var csrf = await CsrfTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = PolicyBody(TestPolicies.Files(count: 2)) };
        request.Headers.Add(ConsoleSecurity.CsrfHeader, csrf);
        request.Headers.Add(header, value);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task StateChange_SessionWithCsrfTokenSameOrigin_Applied()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var csrf = await CsrfTokenAsync(client);
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = PolicyBody(TestPolicies.Files(count: 2)) };
        request.Headers.Add(ConsoleSecurity.CsrfHeader, csrf);
        request.Headers.Add("Origin", api.Server.Addresses[0].GetLeftPart(UriPartial.Authority));
        request.Headers.Add("Sec-Fetch-Site", "same-origin");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2u, api.Policies.Current!.Version);

        // The audit trail names the console and its session's address, not an anonymous API caller.
        Assert.Equal(ChangeOrigin.ConsoleKind, api.Policies.Current.Origin.Kind);
        Assert.Contains("127.0.0.1", api.Policies.Current.Origin.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logout_WithCsrfToken_EndsSessionServerSide()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out var cookies);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var stolen = cookies.GetCookies(api.Server.Addresses[0])["camfw-session"]!.Value;
        var csrf = await CsrfTokenAsync(client);
        using var logout = await PostFormAsync(client, "/console/logout", KeyValuePair.Create(ConsoleSecurity.CsrfField, csrf));
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.Equal(ConsoleSecurity.LoginPath, logout.Headers.Location!.OriginalString);
        Assert.Equal(0, api.Server.ConsoleSessions.Count);

        // A copy of the cookie kept from before the logout opens nothing.
        using var replay = Browser(api, out var replayCookies);
        replayCookies.Add(api.Server.Addresses[0], new Cookie("camfw-session", stolen));
        using var response = await replay.GetAsync("/console/cameras");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task Session_IdleBeyondTimeout_SentBackToLogin()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await StartAsync(o => o.ConsoleSessionIdleTimeout = TimeSpan.FromMinutes(10), time);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/console/cameras")).StatusCode);
        time.Advance(TimeSpan.FromMinutes(10));
        using var response = await client.GetAsync("/console/cameras");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(ConsoleSecurity.LoginPath, response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("/console/login", false)]
    [InlineData("/console/assets/console.css", false)]
    [InlineData("/console/assets/console.js", false)]
    [InlineData("/console/cameras", false)]
    [InlineData("/console/cameras", true)]
    [InlineData("/console/policy", true)]
    [InlineData("/api/v1/cameras", false)]
    public async Task Response_AnyRoute_CarriesStrictSecurityHeaders(string path, bool loggedIn)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        if (loggedIn)
        {
            (await LoginAsync(client, ApiHarness.Token)).Dispose();
        }

        using var response = await client.GetAsync(path);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(ConsoleSecurity.ContentSecurityPolicy, csp);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Page_LoggedIn_HasNoInlineScriptStyleOrExternalAsset(string path)
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var html = await (await client.GetAsync(path)).Content.ReadAsStringAsync();
        Assert.Contains("/console/assets/console.css", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(InlineScript(), html);
        Assert.DoesNotMatch(StyleAttribute(), html);
        Assert.DoesNotMatch(EventHandlerAttribute(), html);
        Assert.DoesNotMatch(ExternalUrl(), html);
    }

    [Fact]
    public async Task Assets_Anonymous_ServedFromAssemblyWithTypes()
    {
        await using var api = await StartAsync();
        using var client = Browser(api, out _);
        using var css = await client.GetAsync("/console/assets/console.css");
        using var js = await client.GetAsync("/console/assets/console.js");
        Assert.Equal(("text/css", "text/javascript"), (css.Content.Headers.ContentType!.MediaType, js.Content.Headers.ContentType!.MediaType));
        Assert.Contains("EventSource", await js.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotMatch(ExternalUrl(), await css.Content.ReadAsStringAsync());
        Assert.DoesNotMatch(ExternalUrl(), await js.Content.ReadAsStringAsync());
        using var missing = await client.GetAsync("/console/assets/other.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Blocked_PhoneHomeAfterRoutineDenials_ListedFirstWithCount()
    {
        var feed = new ListFeed();
        feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        feed.Drop("flow-repeat", "cam-a", "203.0.113.50", 443);
        feed.At = feed.At.AddMinutes(5);
        feed.Drop("flow-denied", "cam-a", "198.51.100.77", 8080);
        await using var api = await StartAsync(events: feed);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var html = await client.GetStringAsync("/console/blocked");
        var phoneHome = html.IndexOf("203.0.113.50", StringComparison.Ordinal);
        var routine = html.IndexOf("198.51.100.77", StringComparison.Ordinal);
        Assert.True(phoneHome > 0 && routine > phoneHome, "the phone-home line comes before the newer routine denial");
        Assert.Contains("<span class=\"badge bad\">phone-home</span>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockedAndEvents_EventCarriesTheCamerasName_BothPagesShowIt()
    {
        var feed = new ListFeed();
        feed.Add("phone-home", ("camera", "cam-a"), ("direction", "egress"), ("dst", "203.0.113.50"), ("dport", "443"), ("reason", "no-rule-matched"), ("action", "dropped"), ("rule", "-"), ("dns", "p2p.vendor.example"));
        await using var api = await StartAsync(events: feed);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();

        var blocked = await client.GetStringAsync("/console/blocked");
        Assert.Contains("<td>p2p.vendor.example</td>", blocked, StringComparison.Ordinal);
        var events = await client.GetStringAsync("/console/events");
        Assert.Contains("<th scope=\"col\">DNS name</th>", events, StringComparison.Ordinal);
        Assert.Contains("<td class=\"addr\">p2p.vendor.example</td>", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventStream_Session_DeliversNewEventsThenEndsAtLogout()
    {
        var feed = new ListFeed();
        var old = feed.Drop("flow-denied", "cam-a", "198.51.100.1", 1);
        await using var api = await StartAsync(events: feed);
        using var client = Browser(api, out _);
        (await LoginAsync(client, ApiHarness.Token)).Dispose();
        var csrf = await CsrfTokenAsync(client);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/console/events/stream?after={old.Sequence}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var fresh = feed.Drop("phone-home", "cam-a", "203.0.113.50", 443);
        var lines = await ReadUntilAsync(reader, l => l.StartsWith("data: ", StringComparison.Ordinal));
        Assert.Contains($"id: {fresh.Sequence}", lines);
        Assert.DoesNotContain(lines, l => l == $"id: {old.Sequence}");
        Assert.Contains("203.0.113.50", lines[^1], StringComparison.Ordinal);

        (await PostFormAsync(client, "/console/logout", KeyValuePair.Create(ConsoleSecurity.CsrfField, csrf))).Dispose();
        var end = await ReadUntilAsync(reader, l => l == "event: session-ended");
        Assert.Equal("event: session-ended", end[^1]);
    }

    private static Task<ApiHarness> StartAsync(Action<ManagementOptions>? configure = null, TimeProvider? time = null, ListFeed? events = null)
        => ApiHarness.StartAsync(configure, traffic: new MutableTraffic { Passed = 10, Dropped = 2 }, events: events, time: time);

    /// <summary>A client that keeps cookies and does not follow redirects (tests look at each answer).</summary>
    private static HttpClient Browser(ApiHarness api, out CookieContainer cookies)
    {
        cookies = new CookieContainer();
#pragma warning disable CA2000 // the HttpClient owns the handler
        var handler = new HttpClientHandler { CookieContainer = cookies, UseCookies = true, AllowAutoRedirect = false };
#pragma warning restore CA2000
        return new HttpClient(handler) { BaseAddress = api.Server.Addresses[0] };
    }

    private static Task<HttpResponseMessage> LoginAsync(HttpClient client, string token)
        => PostFormAsync(client, "/console/login", KeyValuePair.Create("token", token));

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, params KeyValuePair<string, string>[] fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        return await client.PostAsync(path, content);
    }

    private static async Task<HttpResponseMessage> PutPolicyAsync(HttpClient client, Dictionary<string, string> files)
    {
        using var content = PolicyBody(files);
        return await client.PutAsync("/api/v1/policy", content);
    }

    private static async Task<string> CsrfTokenAsync(HttpClient client)
    {
        var html = await client.GetStringAsync("/console/policy");
        return CsrfMeta().Match(html).Groups[1].Value;
    }

    private static StringContent PolicyBody(Dictionary<string, string> files)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(new PolicyFilesDto { Files = files }, ManagementJsonContext.Default.PolicyFilesDto);
        return new StringContent(json, Encoding.UTF8, "application/json");
    }

    private static void AssertNoData(string body)
    {
        Assert.DoesNotContain("cam-a", body, StringComparison.Ordinal);
        Assert.DoesNotContain("192.0.2.11", body, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.", body, StringComparison.Ordinal);
    }

    private static async Task<List<string>> ReadUntilAsync(StreamReader reader, Func<string, bool> stop)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var lines = new List<string>();
        while (true)
        {
            var line = await reader.ReadLineAsync(timeout.Token) ?? throw new Xunit.Sdk.XunitException("the stream ended: " + string.Join(" | ", lines));
            lines.Add(line);
            if (stop(line))
            {
                return lines;
            }
        }
    }

    [GeneratedRegex(@"\{(\w+)[^}]*\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\"")]
    private static partial Regex CsrfMeta();

    [GeneratedRegex("<script(?![^>]*\\ssrc=)[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex InlineScript();

    [GeneratedRegex("\\sstyle\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex StyleAttribute();

    [GeneratedRegex("\\son[a-z]+\\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex EventHandlerAttribute();

    [GeneratedRegex("(src|href)\\s*=\\s*\"(https?:)?//|url\\(\\s*['\"]?(https?:)?//|https?://(?!127\\.0\\.0\\.1|localhost)", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalUrl();
}
