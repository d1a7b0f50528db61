using System.Net;
using Appliance.Core;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Appliance.Management.Traffic;
using Appliance.TestSupport.Host;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Appliance.Management.Tests.Client;

/// <summary>The shared client against a real Kestrel: over TCP with the token, and over a Unix socket without one.</summary>
public sealed class ManagementClientTests
{
    [Fact]
    public async Task ReasonsAsync_OverTcpWithToken_JsonCountsMostFrequentFirst()
    {
        await using var api = await ApiHarness.StartAsync(traffic: new ReasonTraffic());
        using var client = new ManagementClient(new ManagementClientOptions { BaseAddress = api.Server.Addresses[0], Token = ApiHarness.Token });

        var response = await client.ReasonsAsync(CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(
            [new("established-flow", "pass", 40), new("rule-match", "pass", 10), new("no-rule-matched", "drop", 3)],
            response.Body!.Reasons);
    }

    [Fact]
    public async Task ReasonsAsync_WithoutToken_ThrowsUnauthorized()
    {
        await using var api = await ApiHarness.StartAsync(traffic: new ReasonTraffic());
        using var client = new ManagementClient(new ManagementClientOptions { BaseAddress = api.Server.Addresses[0] });

        var e = await Assert.ThrowsAsync<ManagementClientException>(() => client.ReasonsAsync(CancellationToken.None));

        Assert.Equal(ManagementClientFailure.Unauthorized, e.Failure);
    }

    [Fact]
    public async Task RollbackAsync_UnknownVersion_ReturnsStatusAndAppliancesExplanation()
    {
        await using var api = await ApiHarness.StartAsync();
        using var client = new ManagementClient(new ManagementClientOptions { BaseAddress = api.Server.Addresses[0], Token = ApiHarness.Token });

        var response = await client.RollbackAsync(999, CancellationToken.None);

        Assert.Equal(HttpStatusCode.NotFound, response.Status);
        Assert.False(response.IsSuccess);
        Assert.False(string.IsNullOrEmpty(response.Error));
    }

    [Fact]
    public async Task HealthAsync_OverUnixSocket_SameRouteNoTokenSent()
    {
        using var root = new TempDirectory("camfw-client");
        var socket = root.Combine("api.sock");
        string? authorization = "not called";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socket));
        await using var app = builder.Build();
        app.MapGet("/api/v1/health", (HttpContext context) =>
        {
            authorization = context.Request.Headers.Authorization.ToString();
            return Results.Json(new HealthDto("healthy", 4, null, null, 0, 0, null, false, [], null), ManagementJsonContext.Default.HealthDto);
        });
        await app.StartAsync();

        using var client = new ManagementClient(new ManagementClientOptions { UnixSocket = socket });
        var response = await client.HealthAsync(CancellationToken.None);

        Assert.Equal(("healthy", 4u), (response.Body!.Status, response.Body.PolicyVersion));
        Assert.Equal("", authorization);
        Assert.Equal("unix:" + socket, client.Endpoint);
        await app.StopAsync();
    }

    [Fact]
    public async Task HealthAsync_NoSocketThere_ThrowsUnreachableNamingIt()
    {
        using var root = new TempDirectory("camfw-client");
        using var client = new ManagementClient(new ManagementClientOptions { UnixSocket = root.Combine("none.sock") });

        var e = await Assert.ThrowsAsync<ManagementClientException>(() => client.HealthAsync(CancellationToken.None));

        Assert.Equal(ManagementClientFailure.Unreachable, e.Failure);
        Assert.Contains(root.Combine("none.sock"), e.Message, StringComparison.Ordinal);
    }

    private sealed class ReasonTraffic : ITrafficSource
    {
        public long SyslogQueueDropped => 0;

        public IReadOnlyList<DataPlaneStatus> DataPlanes() => [new("p0", true, null, 0, 0, 1024, 0)];

        public CameraTotals Camera(int slot) => default;

        public IReadOnlyList<KeyValuePair<Reason, long>> Reasons()
            => [new(Reason.RuleMatch, 10), new(Reason.NoRuleMatched, 3), new(Reason.EstablishedFlow, 40), new(Reason.UnknownDevice, 0)];

        public FlowPage Flows(int offset, int limit) => new(0, []);
    }
}
