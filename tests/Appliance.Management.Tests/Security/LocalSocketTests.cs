using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Appliance.Management.Api;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Management.Tests.Security;

/// <summary>The local Unix socket (<c>Management:UnixSocket</c>): the administrator's path that TCP floods cannot take.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocalSocketTests
{
    [Fact]
    public async Task LocalSocket_NoToken_ServedWithOwnerOnlyMode()
    {
        await using var api = await ApiHarness.StartAsync();
        var path = api.Server.UnixSocketPath!;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixIdentity.FileType.Socket, UnixIdentity.Stat(path).Type);

        using var local = api.NewSocketClient();
        var policy = await local.GetFromJsonAsync("/api/v1/policy", ManagementJsonContext.Default.PolicyDto);
        Assert.Equal(1u, policy!.Version);
        using (var apply = await local.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, ManagementJsonContext.Default.PolicyFilesDto))
        {
            Assert.Equal(HttpStatusCode.OK, apply.StatusCode);
        }

        // The change is attributed to the local peer, not to an address.
        Assert.StartsWith("local socket (uid 0", api.Policies.Audit.ReadAll()[^1].Remote, StringComparison.Ordinal);

        // TCP still wants the token.
        using var anonymous = api.NewClient();
        using var tcp = await anonymous.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.Unauthorized, tcp.StatusCode);
    }

    [Fact]
    public async Task LocalSocket_StaleSocketFile_Replaced()
    {
        using var root = new TempDirectory("camfw-sock");
        var path = root.Combine("api.sock");

        // A socket file nobody listens on: what a killed appliance leaves behind.
        using var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        stale.Bind(new UnixDomainSocketEndPoint(path));
        Assert.Equal(UnixIdentity.FileType.Socket, UnixIdentity.Stat(path).Type);

        await using var api = await ApiHarness.StartAsync(o => o.UnixSocket = path);
        using var local = api.NewSocketClient();
        using var response = await local.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task LocalSocket_AnotherServerListening_StartRefusedAndFirstKeepsServing()
    {
        await using var first = await ApiHarness.StartAsync();
        var path = first.Server.UnixSocketPath!;
        var second = new ManagementServer(
            new ManagementOptions { Url = "http://127.0.0.1:0", UnixSocket = path },
            ApiToken.FromValue(ApiHarness.Token),
            first.Policies,
            NullTrafficSource.Instance,
            NullEventFeed.Instance,
            new DeniedDestinationTracker(),
            NullLoggerFactory.Instance);
        await using (second)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync());
            Assert.Contains("in use by another process", e.Message, StringComparison.Ordinal);
        }

        using var local = first.NewSocketClient();
        using var response = await local.GetAsync("/api/v1/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Prepare_RegularFileAtPath_RefusedAndKept()
    {
        using var root = new TempDirectory("camfw-sock");
        var path = root.Write("api.sock", "not a socket");
        var e = Assert.Throws<InvalidOperationException>(() => LocalSocket.Prepare(path));
        Assert.Contains("is not a socket", e.Message, StringComparison.Ordinal);
        Assert.Equal("not a socket", File.ReadAllText(path));
    }

    [Fact]
    public void Prepare_SymlinkAtPath_RefusedAndTargetKept()
    {
        using var root = new TempDirectory("camfw-sock");
        var target = root.Write("precious", "keep me");
        var path = root.Combine("api.sock");
        File.CreateSymbolicLink(path, target);
        Assert.Throws<InvalidOperationException>(() => LocalSocket.Prepare(path));
        Assert.Equal("keep me", File.ReadAllText(target));
        Assert.NotNull(new FileInfo(path).LinkTarget);
    }

    [Fact]
    public void Prepare_WorldWritableDirectory_Refused()
    {
        using var root = new TempDirectory("camfw-sock");
        var dir = root.Combine("open");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_111_111);
        var e = Assert.Throws<InvalidOperationException>(() => LocalSocket.Prepare(Path.Combine(dir, "api.sock")));
        Assert.Contains("writable by everyone", e.Message, StringComparison.Ordinal);

        // Positive control: the same directory, closed to others, is accepted.
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        Assert.False(LocalSocket.Prepare(Path.Combine(dir, "api.sock")));
    }

    [Fact]
    public void Prepare_MissingDirectory_CreatedNotWorldWritable()
    {
        using var root = new TempDirectory("camfw-sock");
        var path = root.Combine("run", "camfw", "api.sock");
        Assert.False(LocalSocket.Prepare(path));
        var mode = File.GetUnixFileMode(Path.GetDirectoryName(path)!);
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.OtherWrite | UnixFileMode.GroupWrite));
    }

    /// <summary>
    /// Even when the socket's permissions are opened up, a peer that is neither root nor the service's user is
    /// refused by its kernel-reported uid (SO_PEERCRED): 403 with a problem document. Needs root to run the peer as
    /// nobody (setpriv).
    /// </summary>
    [RootFact]
    public async Task LocalSocket_PeerNotRootNorService_Forbidden()
    {
        await using var api = await ApiHarness.StartAsync();
        var path = api.Server.UnixSocketPath!;
        File.SetUnixFileMode(path, (UnixFileMode)0b110_110_110);
        for (var dir = Path.GetDirectoryName(path)!; dir != Path.GetTempPath().TrimEnd('/'); dir = Path.GetDirectoryName(dir)!)
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        }

        var script = "import socket,sys\n"
            + "s=socket.socket(socket.AF_UNIX)\n"
            + $"s.connect('{path}')\n"
            + "s.sendall(b'GET /api/v1/policy HTTP/1.1\\r\\nHost: camfw\\r\\nConnection: close\\r\\n\\r\\n')\n"
            + "d=b''\n"
            + "while True:\n"
            + "  c=s.recv(65536)\n"
            + "  if not c: break\n"
            + "  d+=c\n"
            + "sys.stdout.write(d.decode())\n";
        var start = new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, error);
        Assert.StartsWith("HTTP/1.1 403", output, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", output, StringComparison.Ordinal);
        Assert.Contains("uid 65534", output, StringComparison.Ordinal);

        // Positive control: root on the same socket is served.
        using var local = api.NewSocketClient();
        using var ok = await local.GetAsync("/api/v1/policy");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
