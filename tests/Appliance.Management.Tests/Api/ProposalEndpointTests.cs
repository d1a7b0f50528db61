using System.Net;
using System.Net.Http.Json;
using Appliance.Core;
using Appliance.Management.Api;
using Appliance.Management.Traffic;

namespace Appliance.Management.Tests.Api;

/// <summary><c>GET /api/v1/proposal</c>: learn mode's proposal, read-only, behind the admin token.</summary>
public sealed class ProposalEndpointTests
{
    [Fact]
    public async Task Proposal_NoCameraLearning_Returns404SayingWhy()
    {
        await using var api = await ApiHarness.StartAsync();

        using var response = await api.Client.GetAsync("/api/v1/proposal");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("learn mode", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proposal_Learning_ReturnsFilesDiffAndCounts()
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { ["site.yaml"] = "site:\n  unknown_devices: deny\n", ["REVIEW.md"] = "# Policy proposal\n" };
        await using var api = await ApiHarness.StartAsync(traffic: new Learning(new ProposalView(files, "no change\n", 1, 4, 1, 2, [])));

        var proposal = await api.Client.GetFromJsonAsync<ProposalDto>("/api/v1/proposal");
        using var anonymous = api.NewClient();
        using var refused = await anonymous.GetAsync("/api/v1/proposal");

        Assert.NotNull(proposal);
        Assert.Equal(files, proposal.Files);
        Assert.Equal((1, 4, 1, 2), (proposal.Cameras, proposal.Allowed, proposal.NeedsDecision, proposal.NotLearned));
        Assert.Equal("no change\n", proposal.Diff);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    private sealed class Learning(ProposalView view) : ITrafficSource
    {
        public long SyslogQueueDropped => 0;

        public IReadOnlyList<DataPlaneStatus> DataPlanes() => [];

        public CameraTotals Camera(int slot) => default;

        public IReadOnlyList<KeyValuePair<Reason, long>> Reasons() => [];

        public FlowPage Flows(int offset, int limit) => new(0, []);

        public ProposalView? Proposal() => view;
    }
}
