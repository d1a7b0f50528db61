using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Appliance.Core.Policy;
using Appliance.Host.Cli;
using Appliance.Host.Hosting;
using Appliance.Management.Api;
using Appliance.Management.Policies;
using Appliance.Management.Security;
using Appliance.Management.Traffic;
using Appliance.Policy;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Host.Tests.Policy;

/// <summary>
/// Issue 13: one policy directory gives one answer, whichever path reads it. Each case builds a directory (odd
/// names, nesting, size, links, unreadable files) and runs it through <c>camfw policy check</c>, <c>camfw replay</c>,
/// startup, the file watcher, <c>camfw apply</c> against the real Kestrel API, and <c>POST /api/v1/policy/reload</c>;
/// every path must accept or refuse it alike, with the same errors (file, line, column, message) and, when
/// accepted, the same sha256. The case's own expectation is checked first, so a case cannot pass by every path
/// being wrong the same way.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class PolicyDirectoryConsistencyTests : IDisposable
{
    private const string Token = "consistency-token-0123456789";
    private const string Dir = "<dir>";

    private static readonly string Networks = TestPolicies.Networks;

    private readonly TempDirectory _root = new("camfw-consistency");

    /// <summary>How a case's directory is made, and what any correct reader must say about it.</summary>
    public static TheoryData<string> Cases => [.. Builders.Keys];

    private static Dictionary<string, (Action<string, TempDirectory> Build, bool Accepted, string? ErrorContains)> Builders { get; } = new(StringComparer.Ordinal)
    {
        ["plain"] = ((d, _) => WriteValid(d, "cameras/north.yaml"), true, null),
        ["space-in-name"] = ((d, _) => WriteValid(d, "cameras/north gate.yaml"), true, null),
        ["non-ascii-name"] = ((d, _) => WriteValid(d, "kameras/süd-tor ü 北门.yaml"), true, null),
        ["nested-8-deep"] = ((d, _) => WriteValid(d, "a/b/c/d/e/f/g/h/cam.yaml"), true, null),
        ["hidden-and-editor-files-ignored"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Write(d, "cameras/.north.yaml.swp", "garbage: [");
            Write(d, "cameras/north.yaml~", "garbage: [");
            Write(d, "cameras/#north.yaml#", "garbage: [");
            Write(d, ".git/config.yaml", "garbage: [");
            Write(d, "notes.txt", "garbage: [");
        }, true, null),
        ["fifo-reads-as-empty"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Run("mkfifo", Path.Combine(d, "pipe.yaml"));
        }, true, null),
        ["nested-9-deep"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Write(d, "a/b/c/d/e/f/g/h/i/cam.yaml", TestPolicies.Cameras(count: 1).Replace("cam-a", "deep", StringComparison.Ordinal));
        }, false, "a/b/c/d/e/f/g/h/i:1:1: folder is more than 8 levels below the policy directory"),
        ["too-large"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Write(d, "cameras/big one.yaml", "# " + new string('x', PolicyLimits.MaxFileBytes));
        }, false, "cameras/big one.yaml:1:1: file is"),
        ["symlink-to-file-outside"] = ((d, t) =>
        {
            WriteValid(d, "networks-only.yaml", camera: false);
            var outside = t.Write("outside/cameras.yaml", TestPolicies.Cameras());
            File.CreateSymbolicLink(Path.Combine(d, "cameras.yaml"), outside);
        }, false, "cameras.yaml:1:1: is a symbolic link"),
        ["symlink-to-folder-outside"] = ((d, t) =>
        {
            WriteValid(d, "cameras/north.yaml");
            var outside = Path.GetDirectoryName(t.Write("outside-folder/more.yaml", "# nothing\n"))!;
            Directory.CreateSymbolicLink(Path.Combine(d, "linked"), outside);
        }, false, "linked:1:1: is a symbolic link to a folder"),
        ["invalid-utf8-content"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            File.WriteAllBytes(Path.Combine(d, "latin1.yaml"), [(byte)'#', (byte)' ', 0xE9, (byte)'\n']);
        }, false, "latin1.yaml:1:1: file is not valid UTF-8"),
        ["invalid-utf8-name"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Run("sh", "-c", "n=$(printf 'bad\\377.yaml'); printf '# x\\n' > \"$1/$n\"", "sh", d);
        }, false, "the file name is not valid UTF-8"),
        ["control-character-in-name"] = ((d, _) =>
        {
            WriteValid(d, "cameras/north.yaml");
            Write(d, "two\nlines.yaml", "# x\n");
        }, false, "two\\u000alines.yaml:1:1: a policy file name must not contain control characters"),
        ["uppercase-extension"] = ((d, _) =>
        {
            WriteValid(d, "networks-only.yaml", camera: false);
            Write(d, "Cameras.YAML", TestPolicies.Cameras());
        }, false, "Cameras.YAML:1:1: policy files end in lowercase .yaml or .yml"),
        ["yaml-error-in-spaced-name"] = ((d, _) =>
        {
            Write(d, "networks.yaml", Networks);
            Write(d, "cameras/north gate.yaml", TestPolicies.InvalidCameras);
        }, false, "cameras/north gate.yaml:10:"),
        ["no-policy-files"] = ((d, _) => Write(d, "README.md", "# policies\n"), false, Dir + ":1:1: no policy files"),
        ["mode-000-file"] = ((d, _) =>
        {
            // Unreadable for anyone but root; as root (CI here) it is read like any file. Either way every path agrees.
            WriteValid(d, "cameras/north.yaml");
            File.SetUnixFileMode(Path.Combine(d, "cameras/north.yaml"), UnixFileMode.None);
        }, Environment.UserName == "root", Environment.UserName == "root" ? null : "cameras/north.yaml:1:1: cannot read the file"),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryPath_SameDirectory_SameOutcome(string name)
    {
        var (build, accepted, errorContains) = Builders[name];

        var checkDir = NewCase(name, "check", build);
        var check = Check(checkDir);

        // The case's own expectation, so "all paths agree" cannot mean "all paths are wrong alike".
        Assert.True(accepted == check.Accepted, $"{name}: check {(check.Accepted ? "accepted" : "refused")}: {string.Join(" | ", check.Errors)}");
        if (errorContains is not null)
        {
            Assert.Contains(errorContains, check.Errors, StringComparison.Ordinal);
        }

        Assert.Equal(check, Replay(NewCase(name, "replay", build)) with { Sha256 = check.Sha256 });
        Assert.Equal(check, await StartupAsync(NewCase(name, "startup", build)));
        Assert.Equal(check, await WatcherAsync(name, build));
        Assert.Equal(check, await ApplyThroughApiAsync(NewCase(name, "apply", build)));
        Assert.Equal(check, await ReloadThroughApiAsync(name, build));
    }

    public void Dispose()
    {
        // rm, not Directory.Delete: .NET cannot name (so cannot delete) a file whose name is not UTF-8.
        Run("rm", "-rf", _root.Path);
        _root.Dispose();
    }

    /// <summary>What a path made of the directory: accepted or not, its errors, the sha256 when it says one.</summary>
    private sealed record Outcome(bool Accepted, string? Sha256, string Errors)
    {
        public static Outcome Of(bool accepted, string? sha256, IEnumerable<string> errors, string directory)
            => new(accepted, accepted ? sha256 : null, string.Join("\n", errors.Select(e => e.Replace(directory, Dir, StringComparison.Ordinal)).Order(StringComparer.Ordinal)));

        public static Outcome Of(bool accepted, string? sha256, IEnumerable<Diagnostic> diagnostics, string directory)
            => Of(accepted, sha256, diagnostics.Where(d => d.Severity == Severity.Error).Select(d => $"{d.File}:{d.Line}:{d.Column}: {d.Message}"), directory);

        public static Outcome Of(bool accepted, string? sha256, IEnumerable<DiagnosticDto> diagnostics, string directory)
            => Of(accepted, sha256, diagnostics.Where(d => d.Severity == "error").Select(d => $"{d.File}:{d.Line}:{d.Column}: {d.Message}"), directory);
    }

    private string NewCase(string name, string path, Action<string, TempDirectory> build)
    {
        var dir = _root.Combine(name, path);
        Directory.CreateDirectory(dir);
        build(dir, _root);
        return dir;
    }

    private static Outcome Check(string dir)
    {
        using var output = new StringWriter();
        var code = PolicyCommand.Check(dir, output);
        var text = output.ToString();
        var sha = ShaLine().Match(text);
        return Outcome.Of(code == 0, sha.Success ? sha.Groups[1].Value : null, ErrorLines(text), dir);
    }

    private Outcome Replay(string dir)
    {
        var capture = _root.Combine("empty.pcap");
        if (!File.Exists(capture))
        {
            // A pcap header and no frames: replay judges nothing, so the policy alone decides the exit code.
            File.WriteAllBytes(capture, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]);
        }

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = ReplayCommand.Run(dir, capture, null, null, null, output, error);
        return Outcome.Of(code == 0, null, ErrorLines(error.ToString()), dir);
    }

    private PolicyService NewService(string dir, string state) => new(
        new PolicyHolder(),
        PolicyCompiler.Instance,
        new PolicyServiceOptions { Directory = dir, StateDirectory = _root.Combine(state), WatchDebounce = TimeSpan.FromMilliseconds(100) },
        NullLogger<PolicyService>.Instance);

    private async Task<Outcome> StartupAsync(string dir)
    {
        // The appliance's own startup step: it throws (and camfw exits) with every diagnostic when the load fails.
        using var service = NewService(dir, Guid.NewGuid().ToString("N"));
        using var watcher = new PolicyDirectoryWatcher(service, NullLogger<PolicyDirectoryWatcher>.Instance);
        var startup = new PolicyStartupService(service, watcher, NullLogger<PolicyStartupService>.Instance);
        try
        {
            await startup.StartAsync(CancellationToken.None);
        }
        catch (StartupException e)
        {
            return Outcome.Of(false, null, ErrorLines(string.Join("\n", e.Details)), dir);
        }
        finally
        {
            await startup.StopAsync(CancellationToken.None);
        }

        return Outcome.Of(true, service.Current!.Sha256, Array.Empty<string>(), dir);
    }

    private async Task<Outcome> WatcherAsync(string name, Action<string, TempDirectory> build)
    {
        // Start on a valid base with no cameras (so the camera-removal guard has nothing to protect), then turn
        // the watched directory into the case.
        var dir = _root.Combine(name, "watch");
        Write(dir, "base.yaml", Networks);
        using var service = NewService(dir, Guid.NewGuid().ToString("N"));
        Assert.Equal(ApplyOutcome.Applied, (await service.LoadInitialAsync()).Outcome);
        using var watcher = new PolicyDirectoryWatcher(service, NullLogger<PolicyDirectoryWatcher>.Instance);
        watcher.Start();
        var baseVersion = service.Current!.Version;

        File.Delete(Path.Combine(dir, "base.yaml"));
        build(dir, _root);

        // Several events, several reloads: the outcome settles once the last one has run. Expected is what check
        // says of the same directory (the intermediate states differ from it in files or errors).
        var expected = Check(dir);
        Outcome? seen = null;
        await Eventually.HoldsAsync(
            () =>
            {
                seen = service.ActiveFailure is { } failure
                    ? Outcome.Of(false, null, failure.Diagnostics, dir)
                    : service.Current!.Version != baseVersion ? Outcome.Of(true, service.Current.Sha256, Array.Empty<string>(), dir) : null;
                return seen == expected;
            },
            TimeSpan.FromSeconds(15),
            every: TimeSpan.FromMilliseconds(50));

        return seen ?? throw new TimeoutException("the watcher never reloaded");
    }

    private async Task<(PolicyService Service, ManagementServer Server, HttpClient Client)> StartApiAsync(string dir)
    {
        Write(dir, "base.yaml", Networks);
        var service = NewService(dir, Guid.NewGuid().ToString("N"));
        Assert.Equal(ApplyOutcome.Applied, (await service.LoadInitialAsync()).Outcome);
        var server = new ManagementServer(new ManagementOptions { Url = "http://127.0.0.1:0", AuthFailureLimit = 1000 }, ApiToken.FromValue(Token), service, NullTrafficSource.Instance, NullEventFeed.Instance, new DeniedDestinationTracker(), NullLoggerFactory.Instance);
        await server.StartAsync();
        var client = new HttpClient { BaseAddress = server.Addresses[0] };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return (service, server, client);
    }

    private async Task<Outcome> ApplyThroughApiAsync(string caseDir)
    {
        // `camfw apply DIR`: read here by the same reader, sent to the appliance's API on a real Kestrel.
        using var error = new StringWriter();
        if (!ApplyCommand.TryReadDirectory(caseDir, error, out var body))
        {
            return Outcome.Of(false, null, ErrorLines(error.ToString()), caseDir);
        }

        var (service, server, client) = await StartApiAsync(_root.Combine(Path.GetFileName(Path.GetDirectoryName(caseDir)!), "apply-server"));
        await using (server)
        using (service)
        using (client)
        {
            using var response = await client.PutAsJsonAsync("/api/v1/policy", body, ManagementJsonContext.Default.PolicyFilesDto);
            var dto = await response.Content.ReadFromJsonAsync(ManagementJsonContext.Default.ApplyDto);
            return Outcome.Of(response.IsSuccessStatusCode, dto!.Sha256, dto.Diagnostics, caseDir);
        }
    }

    private async Task<Outcome> ReloadThroughApiAsync(string name, Action<string, TempDirectory> build)
    {
        var dir = _root.Combine(name, "reload-server");
        var (service, server, client) = await StartApiAsync(dir);
        await using (server)
        using (service)
        using (client)
        {
            File.Delete(Path.Combine(dir, "base.yaml"));
            build(dir, _root);
            using var response = await client.PostAsync("/api/v1/policy/reload", null);
            var dto = await response.Content.ReadFromJsonAsync(ManagementJsonContext.Default.ApplyDto);
            return Outcome.Of(response.IsSuccessStatusCode, dto!.Sha256, dto.Diagnostics, dir);
        }
    }

    private static IEnumerable<string> ErrorLines(string text)
        => text.Split('\n').Select(l => ErrorLine().Match(l.TrimEnd('\r'))).Where(m => m.Success).Select(m => $"{m.Groups["at"].Value}: {m.Groups["message"].Value}");

    private static void WriteValid(string dir, string camerasFile, bool camera = true)
    {
        Write(dir, "networks.yaml", Networks);
        if (camera)
        {
            Write(dir, camerasFile, TestPolicies.Cameras(count: 2));
        }
    }

    private static void Write(string dir, string relative, string text)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private static void Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program}: {stderr}");
    }

    // "file:line:column: error: message", the form every CLI path prints.
    [GeneratedRegex(@"^(?<at>.+:\d+:\d+): error: (?<message>.*)$")]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"^policy sha256 ([0-9a-f]{64})\s*$", RegexOptions.Multiline)]
    private static partial Regex ShaLine();
}
