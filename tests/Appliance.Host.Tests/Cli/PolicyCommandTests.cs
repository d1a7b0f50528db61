using System.Text.RegularExpressions;
using Appliance.Core;
using Appliance.Host.Hosting;
using Appliance.Host.Tests.Hosting;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.DependencyInjection;

namespace Appliance.Host.Tests.Cli;

/// <summary><c>camfw policy check</c> and <c>camfw policy show</c>, invoked through the same root command as <c>camfw</c>.</summary>
public sealed partial class PolicyCommandTests : IDisposable
{
    private readonly TempDirectory _root = new("camfw-policy-cli");

    /// <summary>An answer to an admitted query (the site resolver, UDP): one a name rule may admit through.</summary>
    private static readonly Appliance.Core.Engine.DnsAnswerSource Resolver =
        new(true, IpAddr.FromIPAddress(System.Net.IPAddress.Parse("198.51.100.2")), Appliance.Core.Wire.IpProtocols.Udp);

    [Fact]
    public async Task Check_ExamplePolicies_Exits0WithSummary()
    {
        var (code, output, error) = await CliRunner.RunAsync("policy", "check", RepoPaths.ExamplePolicies);
        Assert.True(code == 0, output + error);
        Assert.Contains("0 error(s)", output, StringComparison.Ordinal);
        Assert.DoesNotMatch(DiagnosticLine(), output);
    }

    [Fact]
    public async Task Check_BrokenCopy_Exits1WithFileLineColumnForEveryError()
    {
        var dir = CopyExamplePolicies();
        var north = Path.Combine(dir, "cameras", "north.yaml");
        var text = File.ReadAllText(north);

        // Two independent mistakes in one file: both must be reported, each where it is.
        var profileLine = LineOf(text, "profiles: [hikvision]");
        var peerLine = LineOf(text, "peer: mail-relay");
        text = ReplaceFirst(text, "profiles: [hikvision]", "profiles: [hikvisoin]");
        text = ReplaceFirst(text, "peer: mail-relay", "peer: mail-relai");
        File.WriteAllText(north, text);

        var (code, output, _) = await CliRunner.RunAsync("policy", "check", dir);

        Assert.Equal(1, code);
        var errors = DiagnosticLine().Matches(output).Select(m => (File: m.Groups["file"].Value, Line: int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture), Message: m.Groups["message"].Value)).ToList();
        Assert.Contains(errors, e => e.File.EndsWith("cameras/north.yaml", StringComparison.Ordinal) && e.Line == profileLine && e.Message.Contains("hikvisoin", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.File.EndsWith("cameras/north.yaml", StringComparison.Ordinal) && e.Line == peerLine && e.Message.Contains("mail-relai", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_MissingDirectory_Exits1()
    {
        var (code, output, error) = await CliRunner.RunAsync("policy", "check", _root.Combine("nope"));
        Assert.Equal(1, code);
        Assert.Contains("error", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_Camera_PrintsOnlyThatCamerasRules()
    {
        var (code, output, error) = await CliRunner.RunAsync("policy", "show", RepoPaths.ExamplePolicies, "--camera", "north-gate");

        Assert.True(code == 0, output + error);
        Assert.Contains("camera north-gate", output, StringComparison.Ordinal);
        Assert.Contains("mac 02:00:00:00:01:01 ip 192.0.2.11", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+rtsp-from-nvr\s+ingress\s+tcp\s+554\s+from 198\.51\.100\.10", output);
        Assert.Matches(@"(?m)^\s+dns\s+egress\s+udp\s+53\s+to ", output);
        Assert.DoesNotContain("camera north-dock", output, StringComparison.Ordinal);
        Assert.DoesNotContain("smtp-alerts", output, StringComparison.Ordinal); // north-dock's own rule
        Assert.Empty(error);
    }

    [Fact]
    public async Task Show_UnknownCamera_Exits1NamingItOnStderr()
    {
        var (code, output, error) = await CliRunner.RunAsync("policy", "show", RepoPaths.ExamplePolicies, "--camera", "no-such-camera");

        Assert.Equal(1, code);
        Assert.Contains("no camera named 'no-such-camera'", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task Show_NameRuleOffline_SaysNoneLearned()
    {
        var dir = WriteNamePolicy();

        var (code, output, error) = await CliRunner.RunAsync("policy", "show", dir);

        Assert.True(code == 0, output + error);
        Assert.Contains("name rules admit (offline", output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+cloud\s+none learned$", output);
        Assert.DoesNotContain("stream-from-nvr  none learned", output, StringComparison.Ordinal); // address rules: no such line
    }

    [Fact]
    public async Task Show_LiveAgainstRunningAppliance_ListsWhatEachNameRuleAdmitsNow()
    {
        var dir = WriteNamePolicy();
        var planes = new FakeDataPlaneFactory();
        var token = _root.Combine("token");
        using var host = await TestApplianceHost.StartAsync(_root, planes, policyDirectory: dir);
        try
        {
            // What cam-a's DNS answers would have taught it (the fake plane runs no traffic: no other writer).
            var engine = planes.Planes[0].Engine;
            Assert.True(engine.Policies.Slots.TryGet(TestPolicies.CameraName, out var slot));
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            engine.DnsNames.Learn(slot, "p2p.vendor.example"u8, IpAddr.FromIPAddress(System.Net.IPAddress.Parse("203.0.113.50")), now + 600_000, now, Resolver);
            engine.DnsNames.Learn(slot, "time.other.example"u8, IpAddr.FromIPAddress(System.Net.IPAddress.Parse("203.0.113.60")), now + 600_000, now, Resolver);

            // A learn-mode lookup no rule admitted matches the rule's pattern but admits nothing: not listed.
            engine.DnsNames.Learn(slot, "evil.vendor.example"u8, IpAddr.FromIPAddress(System.Net.IPAddress.Parse("203.0.113.9")), now + 600_000, now, Appliance.Core.Engine.DnsAnswerSource.NotAdmitted);
            var url = host.Services.GetRequiredService<ManagementService>().Addresses[0].ToString();

            var (code, output, error) = await CliRunner.RunAsync("policy", "show", dir, "--live", "--url", url, "--token-file", token);

            Assert.True(code == 0, output + error);
            Assert.Contains("name rules admit now", output, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^\s+p2p\.vendor\.example 203\.0\.113\.50 \(\d+ s left\)$", output);
            Assert.DoesNotContain("time.other.example", output, StringComparison.Ordinal); // learned, but no name rule matches it
            Assert.DoesNotContain("evil.vendor.example", output, StringComparison.Ordinal); // matches, but admits nothing
            Assert.DoesNotContain("none learned", output, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private string WriteNamePolicy()
    {
        var cameras = TestPolicies.Cameras() + "      - id: cloud\n        direction: egress\n        protocol: tcp\n        ports: 443\n        peer: \"*.vendor.example\"\n";
        _root.Write(Path.Combine("names", "networks.yaml"), TestPolicies.Networks);
        _root.Write(Path.Combine("names", "cameras.yaml"), cameras);
        return _root.Combine("names");
    }

    public void Dispose() => _root.Dispose();

    // file:line:column: error: message, as compilers print them (editors jump to them).
    [GeneratedRegex(@"(?m)^(?<file>[^\s:][^:\n]*):(?<line>\d+):(?<column>\d+): error: (?<message>.+)$")]
    private static partial Regex DiagnosticLine();

    private static int LineOf(string text, string fragment)
    {
        var index = text.IndexOf(fragment, StringComparison.Ordinal);
        Assert.True(index >= 0, $"'{fragment}' not in the example policy any more");
        return text.AsSpan(0, index).Count('\n') + 1;
    }

    private static string ReplaceFirst(string text, string old, string replacement)
    {
        var index = text.IndexOf(old, StringComparison.Ordinal);
        return string.Concat(text.AsSpan(0, index), replacement, text.AsSpan(index + old.Length));
    }

    private string CopyExamplePolicies()
    {
        var source = RepoPaths.ExamplePolicies;
        var target = _root.Combine("policies");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            _root.Write(Path.Combine("policies", relative), File.ReadAllText(file));
        }

        return target;
    }
}
