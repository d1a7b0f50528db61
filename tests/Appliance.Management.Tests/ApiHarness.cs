using System.Net.Http.Headers;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Tests.Policies;
using Appliance.Management.Traffic;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests;

/// <summary>
/// A policy service over a temporary policy directory with a valid policy loaded, and the management API on a real
/// Kestrel listening on 127.0.0.1 at a free port.
/// </summary>
internal sealed class ApiHarness : IAsyncDisposable
{
    public const string Token = "test-token-0123456789abcdef";

    private ApiHarness(TempDirectory root, PolicyService policies, ManagementServer server, HttpClient client)
    {
        Root = root;
        Policies = policies;
        Server = server;
        Client = client;
    }

    public TempDirectory Root { get; }

    public PolicyService Policies { get; }

    public ManagementServer Server { get; }

    /// <summary>A client that sends the right token.</summary>
    public HttpClient Client { get; }

    public string PolicyDirectory => Root.Combine("policies");

    public static async Task<ApiHarness> StartAsync(Action<ManagementOptions>? configure = null, ITrafficSource? traffic = null, IEventFeed? events = null, DeniedDestinationTracker? denied = null, TimeSpan? debounce = null, TimeProvider? time = null, TimeProvider? policyTime = null)
    {
        var root = new TempDirectory("camfw-mgmt");
        var policies = TestPolicyServices.Create(root, time: policyTime, configure: o =>
        {
            o.WatchDebounce = debounce ?? TimeSpan.FromMilliseconds(100);
            o.HistoryLimit = 10;
        });
        var initial = await policies.LoadInitialAsync();
        Assert.Equal(ApplyOutcome.Applied, initial.Outcome);

        var options = new ManagementOptions { Url = "http://127.0.0.1:0", AuthFailureLimit = 1000, UnixSocket = root.Combine("run", "api.sock") };
        configure?.Invoke(options);
        var server = new ManagementServer(options, ApiToken.FromValue(Token), policies, traffic ?? NullTrafficSource.Instance, events ?? NullEventFeed.Instance, denied ?? new DeniedDestinationTracker(), NullLoggerFactory.Instance, time);
        await server.StartAsync();
        var client = new HttpClient { BaseAddress = server.Addresses[0] };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return new ApiHarness(root, policies, server, client);
    }

    /// <summary>A client with no token, or the given one.</summary>
    public HttpClient NewClient(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Server.Addresses[0] };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    /// <summary>A client over the local Unix socket (no token: the socket authorises by the peer's uid).</summary>
    public HttpClient NewSocketClient()
    {
        var path = Server.UnixSocketPath ?? throw new InvalidOperationException("the local socket is disabled");
#pragma warning disable CA2000 // the HttpClient owns and disposes the handler
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://localhost/") };
#pragma warning restore CA2000
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Policies.Dispose();
        Root.Dispose();
    }
}
