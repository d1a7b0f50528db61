using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Appliance.Host.Hosting;
using Appliance.Learn;
using Appliance.Management.Api;
using Appliance.Management.Client;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Appliance.Host.Tests.Hosting;

/// <summary>
/// Learn mode end to end on the real host (policy service, engine, learner, Kestrel on loopback; only the bridge is
/// replaced, its engine fed the frames): learn, fetch <c>GET /api/v1/proposal</c>, apply it with the safe apply,
/// replay a later capture under it; and the summary kept in the state directory across restarts.
/// </summary>
public sealed class LearnModeServiceTests : IDisposable
{
    private readonly TempDirectory _root = new();

    /// <summary>
    /// The lab-like site's devices listed, no rules; the site learns. DHCP and discovery are allowances the live
    /// learner takes from the policy (it does not see them), so they are written as the cameras use them.
    /// </summary>
    private static readonly Dictionary<string, string> Learning = new(StringComparer.Ordinal)
    {
        ["networks.yaml"] = "networks:\n  nvr: 198.51.100.10\n  dns-ntp: 198.51.100.2\n  admins: [203.0.113.0/28]\n",
        ["site.yaml"] = "site:\n  mode: learn\n",
        ["cameras.yaml"] = """
            cameras:
              north-gate: { mac: "44:47:cc:00:00:11", ip: 192.0.2.11, dhcp: false, discovery: [ws-discovery] }
              south-gate: { mac: "44:47:cc:00:00:12", ip: 192.0.2.12, dhcp: false, discovery: [ws-discovery] }
              lobby: { mac: "08:ed:ed:00:00:13" }
            """,
    };

    public void Dispose() => _root.Dispose();

    /// <summary>Writes <see cref="Learning"/> into <c>ROOT/learning</c> (once) and returns the directory.</summary>
    private string LearningPolicy()
    {
        foreach (var (name, text) in Learning)
        {
            _root.Write(Path.Combine("learning", name), text);
        }

        return _root.Combine("learning");
    }

    [Fact]
    public async Task Proposal_LearnedLiveThenSafelyApplied_LaterCaptureLegitPassesPhoneHomeAndProbesDrop()
    {
        var planes = new FakeDataPlaneFactory();
        using var host = await TestApplianceHost.StartAsync(_root, planes, policyDirectory: LearningPolicy());
        try
        {
            var engine = Assert.Single(planes.Planes).Engine;

            // 1. Learn: the engine decides the frames as the data plane would; learn mode drops nothing.
            var dropped = 0;
            var now = 0L;
            foreach (var f in LearnSite.Capture(later: false).All)
            {
                now = f.TimestampMicros / 1000;
                dropped += engine.ProcessFrame(f.Frame, f.Side, now).IsPass ? 0 : 1;
                engine.Maintain(now);
            }

            Assert.Equal(0, dropped);
            for (var i = 0; i < 10_000 && engine.Flows.Count > 0; i++)
            {
                engine.Maintain(now + 10_800_000); // every flow of the capture ends (3 h: past the longest timeout, before the later capture)
            }

            // 2. The proposal, from the API.
            using var http = new HttpClient { BaseAddress = Url(host) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var proposal = await http.GetFromJsonAsync<ProposalDto>("/api/v1/proposal");
            Assert.NotNull(proposal);
            Assert.Empty(proposal.Problems);
            Assert.Equal(3, proposal.Cameras);
            Assert.True(proposal.NeedsDecision >= 2, $"{proposal.NeedsDecision} needing a decision"); // the phone-home and the public resolver
            Assert.Equal(0, proposal.NotesLost);
            Assert.Contains("# learned:", Yaml(proposal.Files), StringComparison.Ordinal); // the two alike cameras share a generated profile

            // 3. Applied the way `camfw apply --confirm-within` does: pending, then confirmed.
            using var client = new ManagementClient(new ManagementClientOptions { BaseAddress = Url(host), Token = Token, TokenSource = "test" });
            var yaml = proposal.Files.Where(f => f.Key.EndsWith(".yaml", StringComparison.Ordinal)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
            var applied = await client.ApplyAsync(yaml, confirmWithinSeconds: 300, allowCameraRemoval: false, CancellationToken.None);
            Assert.True(applied.IsSuccess, applied.Error);
            var confirmed = await client.ConfirmAsync(CancellationToken.None);
            Assert.True(confirmed.IsSuccess, confirmed.Error);
            Assert.DoesNotContain(engine.Policies.Current!.Cameras, c => c.Mode != Core.Policy.CameraMode.Enforce);

            // 4. A day later: what the site needs passes, what it never did (or must not do) drops.
            var failures = new List<string>();
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var f in LearnSite.Capture(later: true).All)
            {
                var verdict = engine.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
                engine.Maintain(f.TimestampMicros / 1000);
                var pass = verdict.IsPass && !verdict.Monitored;
                counts[f.Label] = counts.GetValueOrDefault(f.Label) + 1;
                if (f.Label == "legit" ? !pass : pass)
                {
                    failures.Add($"{f.Label} {f.Side}: {(pass ? "passed" : "dropped")} {verdict.Reason}");
                }
            }

            Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
            Assert.True(counts["legit"] > 400 && counts["phone-home"] > 50 && counts["probe"] > 20 && counts["new"] > 10, string.Join(", ", counts));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task Summary_HostRestarted_LearningKeptAndProposalUnchanged()
    {
        var planes = new FakeDataPlaneFactory();
        string before;
        using (var host = await TestApplianceHost.StartAsync(_root, planes, policyDirectory: LearningPolicy()))
        {
            var engine = Assert.Single(planes.Planes).Engine;
            foreach (var f in LearnSite.Capture(later: false).All)
            {
                engine.ProcessFrame(f.Frame, f.Side, f.TimestampMicros / 1000);
            }

            before = Yaml(host.Services.GetRequiredService<LearnModeService>().Proposal()!.Files);
            await host.StopAsync(); // writes the summary
        }

        var path = _root.Combine("state", LearnSummaryFile.FileName);
        Assert.True(File.Exists(path));

        var again = new FakeDataPlaneFactory();
        using var restarted = await TestApplianceHost.StartAsync(_root, again, policyDirectory: LearningPolicy());
        try
        {
            var service = restarted.Services.GetRequiredService<LearnModeService>();
            Assert.Null(service.RestoreError);
            var after = Yaml(service.Proposal()!.Files);
            Assert.Contains("ports: 554", Rules(after), StringComparison.Ordinal);
            Assert.Equal(Rules(before), Rules(after));
        }
        finally
        {
            await restarted.StopAsync();
        }
    }

    [Fact]
    public async Task Summary_CorruptFile_ReportedAndHostStarts()
    {
        var path = _root.Write(Path.Combine("state", LearnSummaryFile.FileName), "{\"version\":1,\"devices\":[{\"key\":");
        var planes = new FakeDataPlaneFactory();

        using var host = await TestApplianceHost.StartAsync(_root, planes, policyDirectory: LearningPolicy());
        try
        {
            var service = host.Services.GetRequiredService<LearnModeService>();
            Assert.NotNull(service.RestoreError);
            Assert.Equal(path, service.Path);
            using var http = new HttpClient { BaseAddress = Url(host) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            using var health = await http.GetAsync("/api/v1/proposal");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode); // learning, afresh
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private string Token => File.ReadAllText(_root.Combine("token")).Trim();

    private static Uri Url(IHost host) => host.Services.GetRequiredService<ManagementService>().Addresses[0];

    /// <summary>Every policy file of a proposal, in name order, as one text.</summary>
    private static string Yaml(IReadOnlyDictionary<string, string> files)
        => string.Join("\n", files.Where(f => f.Key.EndsWith(".yaml", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + ":\n" + f.Value));

    /// <summary>The rule lines of proposal files, without the learned comments (their times and volumes move).</summary>
    private static string Rules(string file)
        => string.Join("\n", file.Split('\n').Where(l => !l.TrimStart().StartsWith('#')));
}
