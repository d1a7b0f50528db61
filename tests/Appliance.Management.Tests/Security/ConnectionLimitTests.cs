using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Appliance.Management.Security;
using Appliance.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.Security;

/// <summary>
/// Issue 12.3: about 64 idle keep-alive connections that sent one unauthenticated GET /api/v1/health used to exhaust
/// the API's connection limit, and every authenticated request was reset while they stayed.
/// </summary>
public sealed class ConnectionLimitTests
{
    private const string HealthRequest = "GET /api/v1/health HTTP/1.1\r\nHost: camfw\r\n\r\n";

    [Fact]
    public async Task Connections_200IdleUnauthenticated_OwnerStillServedOverTcpAndLocalSocket()
    {
        await using var api = await ApiHarness.StartAsync(o =>
        {
            o.MaxConnections = 64;
            o.MaxConnectionsPerAddress = 16;
            o.UnauthenticatedConnectionTimeout = TimeSpan.FromMinutes(1); // the idle connections must not simply time out here
        });
        var port = api.Server.Addresses[0].Port;
        var idle = new List<Socket>();
        try
        {
            // 100 from 127.0.0.1 (the owner's own address) that each send one anonymous health request and stay open,
            // exactly as in the report, and 100 from ten other loopback addresses that send nothing at all.
            for (var i = 0; i < 100; i++)
            {
                var s = await ConnectAsync(IPAddress.Loopback, port);
                idle.Add(s);
                await s.SendAsync(Encoding.ASCII.GetBytes(HealthRequest));
            }

            for (var i = 0; i < 100; i++)
            {
                idle.Add(await ConnectAsync(IPAddress.Parse($"127.0.0.{2 + (i % 10)}"), port));
            }

            // Positive control: the limits engaged. The server never held more than it may, and made room by closing
            // unauthenticated connections (200 opened, at most 64 kept).
            await Eventually.TrueAsync(() => api.Server.TcpConnections.Evicted + api.Server.TcpConnections.Refused > 0, within: TimeSpan.FromSeconds(30));
            Assert.InRange(api.Server.TcpConnections.Count, 0, 64);

            // The owner, on TCP with the token, from the same address: served, every time, on a new connection each.
            for (var i = 0; i < 5; i++)
            {
                using var owner = api.NewClient(ApiHarness.Token);
                using var response = await owner.GetAsync("/api/v1/policy");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // And on the local socket, with no token.
            using var local = api.NewSocketClient();
            using (var response = await local.GetAsync("/api/v1/policy"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            // The stragglers of the flood are still connected (the test really held them open).
            Assert.Contains(idle.Skip(100), s => IsOpen(s));
        }
        finally
        {
            foreach (var s in idle)
            {
                s.Dispose();
            }
        }
    }

    [Fact]
    public async Task Connections_AddressFull_OldestUnauthenticatedClosedForNewcomer()
    {
        await using var api = await ApiHarness.StartAsync(o => o.MaxConnectionsPerAddress = 3);
        var port = api.Server.Addresses[0].Port;
        var attacker = IPAddress.Parse("127.0.0.7");
        using var first = await ConnectAsync(attacker, port);
        using var second = await ConnectAsync(attacker, port);
        using var third = await ConnectAsync(attacker, port);
        await Eventually.TrueAsync(() => api.Server.TcpConnections.Count == 3, within: TimeSpan.FromSeconds(30));
        Assert.Equal(0, api.Server.TcpConnections.Evicted);

        using var fourth = await ConnectAsync(attacker, port);

        // The oldest is closed by the server; the newer ones stay.
        await Eventually.TrueAsync(() => !IsOpen(first), within: TimeSpan.FromSeconds(30));
        Assert.Equal(1, api.Server.TcpConnections.Evicted);
        Assert.True(IsOpen(second));
        Assert.True(IsOpen(fourth));
    }

    [Fact]
    public async Task Connections_AddressFullOfAuthenticated_NewcomerRefusedOwnerKeepsConnections()
    {
        await using var api = await ApiHarness.StartAsync(o => o.MaxConnectionsPerAddress = 2);
        var port = api.Server.Addresses[0].Port;
        var address = IPAddress.Parse("127.0.0.8");
        using var a = await ConnectAsync(address, port);
        using var b = await ConnectAsync(address, port);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(a, "/api/v1/policy", ApiHarness.Token), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(b, "/api/v1/policy", ApiHarness.Token), StringComparison.Ordinal);

        using var c = await ConnectAsync(address, port);
        await Eventually.TrueAsync(() => !IsOpen(c), within: TimeSpan.FromSeconds(30));
        Assert.Equal(1, api.Server.TcpConnections.Refused);

        // The owner's keep-alive connections were not sacrificed.
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(a, "/api/v1/cameras", ApiHarness.Token), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(b, "/api/v1/cameras", ApiHarness.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connections_NoAuthenticatedRequestInTime_Closed()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero));
        await using var api = await ApiHarness.StartAsync(o => o.UnauthenticatedConnectionTimeout = TimeSpan.FromSeconds(5), time: time);
        var port = api.Server.Addresses[0].Port;
        using var silent = await ConnectAsync(IPAddress.Parse("127.0.0.9"), port);
        using var owner = await ConnectAsync(IPAddress.Parse("127.0.0.9"), port);
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(owner, "/api/v1/policy", ApiHarness.Token), StringComparison.Ordinal);
        await Eventually.TrueAsync(() => api.Server.TcpConnections.Count == 2, within: TimeSpan.FromSeconds(30));
        Assert.True(IsOpen(silent));

        // Advanced in steps: the silent connection's timer may be armed a moment after it was counted.
        await Eventually.TrueAsync(
            () =>
            {
                time.Advance(TimeSpan.FromSeconds(5));
                return !IsOpen(silent);
            },
            within: TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 200", await RequestAsync(owner, "/api/v1/health", ApiHarness.Token), StringComparison.Ordinal);
    }

    [Fact]
    public void Limiter_TotalFull_EvictsOldestUnauthenticatedOfAnyAddress_NeverAuthenticated()
    {
        var limiter = new ConnectionLimiter(maxTotal: 3, maxPerAddress: 3);
        var closed = new List<string>();
        var owner = limiter.TryAcquire(IPAddress.Parse("192.0.2.1"), () => closed.Add("owner"))!;
        owner.MarkAuthenticated();
        var x = limiter.TryAcquire(IPAddress.Parse("198.51.100.1"), () => closed.Add("x"))!;
        Assert.NotNull(limiter.TryAcquire(IPAddress.Parse("198.51.100.2"), () => closed.Add("y")));
        Assert.NotNull(limiter.TryAcquire(IPAddress.Parse("203.0.113.1"), () => closed.Add("z")));
        Assert.Equal(["x"], closed);
        Assert.Equal(3, limiter.Count);
        x.Release(); // the closed connection's own release later is harmless
        Assert.Equal(3, limiter.Count);
        Assert.True(owner.IsAuthenticated);
    }

    [Fact]
    public void Limiter_AllAuthenticated_Refuses()
    {
        var limiter = new ConnectionLimiter(maxTotal: 2, maxPerAddress: 2);
        var ip = IPAddress.Parse("192.0.2.1");
        limiter.TryAcquire(ip, () => Assert.Fail("an authenticated connection was closed"))!.MarkAuthenticated();
        limiter.TryAcquire(ip, () => Assert.Fail("an authenticated connection was closed"))!.MarkAuthenticated();
        Assert.Null(limiter.TryAcquire(ip, () => { }));
        Assert.Null(limiter.TryAcquire(IPAddress.Parse("192.0.2.2"), () => { }));
        Assert.Equal(2, limiter.Refused);
    }

    private static async Task<Socket> ConnectAsync(IPAddress from, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Open until the server closed or reset it: a readable socket with nothing to read, or an error, means closed.
    // Data the server sent (a response) is drained first.
    private static bool IsOpen(Socket socket)
    {
        try
        {
            var buffer = new byte[4096];
            while (socket.Poll(0, SelectMode.SelectRead))
            {
                if (socket.Available == 0 || socket.Receive(buffer) == 0)
                {
                    return false;
                }
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private static async Task<string> RequestAsync(Socket socket, string path, string token)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: camfw\r\nAuthorization: Bearer {token}\r\n\r\n"));
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var n = await socket.ReceiveAsync(buffer).WaitAsync(TimeSpan.FromSeconds(30));
            if (n == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
            var s = text.ToString();
            var end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && (TryContentLength(s[..end], out var length) ? s.Length >= end + 4 + length : s.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)))
            {
                return s; // a whole response: by Content-Length, or the last chunk
            }
        }

        return text.ToString();
    }

    private static bool TryContentLength(string headers, out int length)
    {
        foreach (var line in headers.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.TryParse(line["Content-Length:".Length..].Trim(), out length);
            }
        }

        length = 0;
        return false;
    }
}
