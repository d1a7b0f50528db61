using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Appliance.Management.Api;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.Api;

/// <summary>Issue 13: every error is an RFC 9457 problem document; every invalid query value is a 400 naming it.</summary>
public sealed class ApiConventionsTests
{
    private static readonly ManagementJsonContext Json = ManagementJsonContext.Default;

    /// <summary>Each query (and route) parameter with values that must be refused, never clamped or ignored.</summary>
    public static TheoryData<string, string, string> InvalidParameters => new()
    {
        { "GET", "/api/v1/flows?limit=0", "limit" }, // below 1
        { "GET", "/api/v1/flows?limit=1001", "limit" }, // above the page maximum: was silently clamped to 1000
        { "GET", "/api/v1/flows?limit=ten", "limit" }, // not a number: was silently the default
        { "GET", "/api/v1/flows?limit=", "limit" }, // empty
        { "GET", "/api/v1/flows?limit=-1", "limit" }, // negative
        { "GET", "/api/v1/flows?offset=-1", "offset" }, // negative
        { "GET", "/api/v1/flows?offset=1e3", "offset" }, // not a whole number
        { "GET", "/api/v1/flows?offset=99999999999", "offset" }, // beyond int
        { "GET", "/api/v1/events?limit=5000", "limit" }, // was clamped
        { "GET", "/api/v1/events?limit=0", "limit" },
        { "GET", "/api/v1/events?after=-3", "after" }, // was silently 0
        { "GET", "/api/v1/events?after=last", "after" },
        { "PUT", "/api/v1/policy?confirm-within=0", "confirm-within" },
        { "PUT", "/api/v1/policy?confirm-within=soon", "confirm-within" },
        { "POST", "/api/v1/policy/rollback/abc", "version" },
        { "POST", "/api/v1/policy/rollback/0", "version" },
        { "POST", "/api/v1/policy/rollback/-1", "version" },
    };

    [Theory]
    [MemberData(nameof(InvalidParameters))]
    public async Task Parameter_InvalidValue_Returns400ValidationProblemNamingIt(string method, string path, string parameter)
    {
        await using var api = await ApiHarness.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "PUT")
        {
            request.Content = JsonContent.Create(new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, Json.PolicyFilesDto);
        }

        using var response = await api.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = await ReadProblemAsync(response, 400);
        var errors = problem.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(parameter, out var messages), $"errors should name '{parameter}': {errors}");
        Assert.Contains(parameter, messages[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Theory]
    [InlineData("/api/v1/flows?limit=1000&offset=0")] // the bounds themselves are valid
    [InlineData("/api/v1/flows?limit=1")]
    [InlineData("/api/v1/flows?offset=2147483647")]
    [InlineData("/api/v1/events?limit=1000&after=0")]
    [InlineData("/api/v1/events?after=9223372036854775807")]
    public async Task Parameter_ValidBoundary_Returns200(string path)
    {
        await using var api = await ApiHarness.StartAsync();
        using var response = await api.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Flows_LimitGiven_EchoesTheLimitServed()
    {
        await using var api = await ApiHarness.StartAsync();
        var flows = await api.Client.GetFromJsonAsync("/api/v1/flows?limit=1000&offset=5", Json.FlowsDto);
        Assert.Equal(1000, flows!.Limit);
        Assert.Equal(5, flows.Offset);
    }

    [Fact]
    public async Task Errors_EveryKind_AreProblemDocuments()
    {
        await using var api = await ApiHarness.StartAsync(o =>
        {
            o.MaxRequestBodyBytes = 64 * 1024;
            o.AuthFailureLimit = 2;
        });

        // 404: an unknown path, with the token.
        await AssertProblemAsync(await api.Client.GetAsync("/api/v1/no-such-endpoint"), 404);

        // 405: a known path, a method it does not take.
        await AssertProblemAsync(await api.Client.DeleteAsync("/api/v1/policy"), 405);

        // 413: over the body limit.
        var big = new PolicyFilesDto { Files = new() { ["cameras.yaml"] = new string('x', 100 * 1024) } };
        await AssertProblemAsync(await api.Client.PutAsJsonAsync("/api/v1/policy", big, Json.PolicyFilesDto), 413);

        // 415: not JSON.
        using var yaml = new StringContent("site: {}", Encoding.UTF8, "application/yaml");
        await AssertProblemAsync(await api.Client.PutAsync("/api/v1/policy", yaml), 415);

        // 400: malformed JSON, and a body without files.
        using var truncated = new StringContent("{\"files\":", Encoding.UTF8, "application/json");
        await AssertProblemAsync(await api.Client.PutAsync("/api/v1/policy", truncated), 400);
        using var empty = new StringContent("{}", Encoding.UTF8, "application/json");
        await AssertProblemAsync(await api.Client.PutAsync("/api/v1/policy", empty), 400);

        // 409: nothing to confirm; 404: no such version (both carry the outcome).
        using (var problem = await AssertProblemAsync(await api.Client.PostAsync("/api/v1/policy/confirm", null), 409))
        {
            Assert.Equal("nothing-pending", problem.RootElement.GetProperty("outcome").GetString());
        }

        using (var problem = await AssertProblemAsync(await api.Client.PostAsync("/api/v1/policy/rollback/99", null), 404))
        {
            Assert.Equal("not-found", problem.RootElement.GetProperty("outcome").GetString());
        }

        // 422: a rejected policy, its diagnostics in the problem document.
        var invalid = new PolicyFilesDto { Files = new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras } };
        using (var problem = await AssertProblemAsync(await api.Client.PutAsJsonAsync("/api/v1/policy", invalid, Json.PolicyFilesDto), 422))
        {
            Assert.Equal("rejected", problem.RootElement.GetProperty("outcome").GetString());
            Assert.Equal(10, problem.RootElement.GetProperty("diagnostics")[0].GetProperty("line").GetInt32());
        }

        using (var problem = await AssertProblemAsync(await api.Client.PostAsJsonAsync("/api/v1/policy/validate", invalid, Json.PolicyFilesDto), 422))
        {
            Assert.False(problem.RootElement.GetProperty("valid").GetBoolean());
        }

        // 401, then 429 once the address is over the limit.
        using var stranger = api.NewClient("wrong-token-wrong-token");
        await AssertProblemAsync(await stranger.GetAsync("/api/v1/policy"), 401);
        await AssertProblemAsync(await stranger.GetAsync("/api/v1/policy"), 401);
        await AssertProblemAsync(await stranger.GetAsync("/api/v1/policy"), 429);
    }

    [Fact]
    public async Task Response_Unauthenticated_ClosesConnection_AuthenticatedKeepsIt()
    {
        await using var api = await ApiHarness.StartAsync();
        using var anonymous = api.NewClient();
        using (var health = await anonymous.GetAsync("/api/v1/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.True(health.Headers.ConnectionClose, "an unauthenticated response must close its connection");
        }

        using (var denied = await anonymous.GetAsync("/api/v1/policy"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
            Assert.True(denied.Headers.ConnectionClose);
        }

        using var owner = await api.Client.GetAsync("/api/v1/health");
        Assert.NotEqual(true, owner.Headers.ConnectionClose);
    }

    /// <summary>Issue 12.4: five wrong tokens from an address must not lock out the owner on that address.</summary>
    [Fact]
    public async Task Auth_AddressLockedOut_RightTokenServedWrongAndMissingRefusedUntilLockoutEnds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 9, 0, 0, TimeSpan.Zero));
        await using var api = await ApiHarness.StartAsync(
            o =>
            {
                o.AuthFailureLimit = 5;
                o.AuthLockout = TimeSpan.FromSeconds(300);
            },
            time: time);
        using var attacker = api.NewClient("guess-guess-guess-guess");
        using var anonymous = api.NewClient();
        for (var i = 0; i < 5; i++)
        {
            using var r = await attacker.GetAsync("/api/v1/policy");
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        // Positive control: the lockout engaged for the failures.
        using (var locked = await attacker.GetAsync("/api/v1/policy"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
            Assert.Equal(300, locked.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
        }

        using (var missing = await anonymous.GetAsync("/api/v1/cameras"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, missing.StatusCode);
        }

        // The owner on the same address (127.0.0.1) is served, every time, on every endpoint.
        for (var i = 0; i < 3; i++)
        {
            using var ok = await api.Client.GetAsync("/api/v1/policy");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var metrics = await api.Client.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        // The owner's success does not lift the attacker's lockout.
        using (var still = await attacker.GetAsync("/api/v1/policy"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, still.StatusCode);
        }

        time.Advance(TimeSpan.FromSeconds(299));
        using (var almost = await attacker.GetAsync("/api/v1/policy"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, almost.StatusCode);
            Assert.Equal(1, almost.Headers.RetryAfter!.Delta!.Value.TotalSeconds);
        }

        time.Advance(TimeSpan.FromSeconds(2));
        using var after = await attacker.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    private static async Task<JsonDocument> AssertProblemAsync(HttpResponseMessage response, int status)
    {
        using (response)
        {
            Assert.Equal(status, (int)response.StatusCode);
            return await ReadProblemAsync(response, status);
        }
    }

    private static async Task<JsonDocument> ReadProblemAsync(HttpResponseMessage response, int status)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(status, document.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("title").GetString()));
        return document;
    }
}
