using System.Net;
using System.Net.Http.Json;
using Appliance.Management.Api;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Api;

public sealed class AuthenticationTests
{
    /// <summary>Every endpoint but health, with a request that would succeed (or fail on its merits) with the right token.</summary>
    public static TheoryData<string, string> ProtectedEndpoints => new()
    {
        { "GET", "/api/v1/policy" },
        { "PUT", "/api/v1/policy" },
        { "POST", "/api/v1/policy/validate" },
        { "POST", "/api/v1/policy/reload" },
        { "GET", "/api/v1/policy/history" },
        { "POST", "/api/v1/policy/rollback/1" },
        { "POST", "/api/v1/policy/confirm" },
        { "GET", "/api/v1/cameras" },
        { "GET", "/api/v1/flows" },
        { "GET", "/api/v1/events" },
        { "GET", "/metrics" },
        { "GET", "/api/v1/no-such-endpoint" },
    };

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Endpoint_NoToken_Returns401WithChallenge(string method, string path)
    {
        await using var api = await ApiHarness.StartAsync();
        using var client = api.NewClient();
        using var request = Request(method, path);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Endpoint_WrongToken_Returns401(string method, string path)
    {
        await using var api = await ApiHarness.StartAsync();
        using var client = api.NewClient(ApiHarness.Token + "x");
        using var request = Request(method, path);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(ProtectedEndpoints))]
    public async Task Endpoint_RightToken_IsServed(string method, string path)
    {
        await using var api = await ApiHarness.StartAsync();
        using var request = Request(method, path);
        using var response = await api.Client.SendAsync(request);
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
        var expected = path switch
        {
            "/api/v1/no-such-endpoint" => HttpStatusCode.NotFound,
            "/api/v1/policy/rollback/1" => HttpStatusCode.OK, // version 1 is the initial load: unchanged
            "/api/v1/policy/confirm" => HttpStatusCode.Conflict, // nothing pending
            _ => HttpStatusCode.OK,
        };
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Health_NoToken_Returns200()
    {
        await using var api = await ApiHarness.StartAsync();
        using var client = api.NewClient();
        var health = await client.GetFromJsonAsync("/api/v1/health", ManagementJsonContext.Default.HealthDto);
        Assert.NotNull(health);
        Assert.Equal("healthy", health.Status);
        Assert.Equal(1u, health.PolicyVersion);
    }

    [Fact]
    public async Task Auth_RepeatedFailures_LockOutAddressWith429AndRetryAfter()
    {
        await using var api = await ApiHarness.StartAsync(o =>
        {
            o.AuthFailureLimit = 3;
            o.AuthLockout = TimeSpan.FromSeconds(30);
        });
        using var wrong = api.NewClient("wrong-token-wrong-token");
        for (var i = 0; i < 3; i++)
        {
            using var r = await wrong.GetAsync("/api/v1/policy");
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using var locked = await wrong.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.InRange(locked.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 30);

        // Issue 12.4: the lockout is for the failures, not the address: the owner on the same address, presenting the
        // right token, is still served (it used to get 429 here).
        using var right = await api.Client.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);

        // Health stays open for monitoring.
        using var health = await wrong.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Auth_FailuresBelowLimit_RightTokenStillServed()
    {
        await using var api = await ApiHarness.StartAsync(o => o.AuthFailureLimit = 3);
        using var wrong = api.NewClient("wrong-token-wrong-token");
        for (var i = 0; i < 2; i++)
        {
            using var r = await wrong.GetAsync("/api/v1/policy");
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using var ok = await api.Client.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static HttpRequestMessage Request(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "PUT" || path.EndsWith("/validate", StringComparison.Ordinal))
        {
            request.Content = JsonContent.Create(new PolicyFilesDto { Files = TestPolicies.Files() }, ManagementJsonContext.Default.PolicyFilesDto);
        }

        return request;
    }
}
