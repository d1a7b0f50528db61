using System.Net;
using System.Net.Http.Json;
using System.Text;
using Appliance.Management.Api;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.Api;

public sealed class PolicyApiTests
{
    private static readonly ManagementJsonContext Json = ManagementJsonContext.Default;

    [Fact]
    public async Task Put_BodyOverLimit_Returns413AndKeepsPolicy()
    {
        await using var api = await ApiHarness.StartAsync(o => o.MaxRequestBodyBytes = 64 * 1024);
        var big = new PolicyFilesDto { Files = new() { ["cameras.yaml"] = "# " + new string('x', 100 * 1024) + "\n" + TestPolicies.Cameras() } };
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", big, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task Put_ChunkedBodyOverLimit_Returns413()
    {
        await using var api = await ApiHarness.StartAsync(o => o.MaxRequestBodyBytes = 64 * 1024);
        var json = "{\"files\":{\"cameras.yaml\":\"" + new string('x', 100 * 1024) + "\"}}";
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await api.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Put_NotJson_Returns415()
    {
        await using var api = await ApiHarness.StartAsync();
        using var content = new StringContent(TestPolicies.Cameras(), Encoding.UTF8, "application/yaml");
        using var response = await api.Client.PutAsync("/api/v1/policy", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Validate_UnknownNetwork_Returns422WithFileLineColumn()
    {
        await using var api = await ApiHarness.StartAsync();
        var files = new PolicyFilesDto { Files = new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras } };
        using var response = await api.Client.PostAsJsonAsync("/api/v1/policy/validate", files, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync(Json.ValidateDto);
        Assert.NotNull(result);
        Assert.False(result.Valid);
        var error = Assert.Single(result.Diagnostics, d => d.Severity == "error");
        Assert.Equal("cameras.yaml", error.File);
        Assert.Equal(10, error.Line);
        Assert.True(error.Column > 0);
        Assert.Contains("nvrs", error.Message, StringComparison.Ordinal);

        // A dry run changes nothing.
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task Validate_ValidPolicy_Returns200WithCameraCount()
    {
        await using var api = await ApiHarness.StartAsync();
        using var response = await api.Client.PostAsJsonAsync("/api/v1/policy/validate", new PolicyFilesDto { Files = TestPolicies.Files(count: 3) }, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync(Json.ValidateDto);
        Assert.True(result!.Valid);
        Assert.Equal(3, result.Cameras);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task Put_Invalid_Returns422KeepsOldPolicyAndHealthShowsFailure()
    {
        await using var api = await ApiHarness.StartAsync();
        var before = api.Policies.Current!;
        var files = new PolicyFilesDto { Files = new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras } };
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", files, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync(Json.ApplyDto);
        Assert.Equal("rejected", result!.Outcome);
        Assert.Contains(result.Diagnostics, d => d is { File: "cameras.yaml", Line: 10, Severity: "error" });

        Assert.Same(before, api.Policies.Current);
        Assert.Same(before.Policy, api.Policies.Holder.Current);
        Assert.Equal(TestPolicies.Cameras(), File.ReadAllText(Path.Combine(api.PolicyDirectory, "cameras.yaml")));

        var health = await api.Client.GetFromJsonAsync("/api/v1/health", Json.HealthDto);
        Assert.Equal("degraded", health!.Status);
        Assert.True(health.LastPolicyFailureStands);
        Assert.Equal(1, health.PolicyReloadFailures);
        Assert.Contains(health.LastPolicyFailure!.Diagnostics, d => d.Line == 10 && d.File == "cameras.yaml");
    }

    [Fact]
    public async Task Put_Valid_SwapsPersistsAtomicallyAndAudits()
    {
        await using var api = await ApiHarness.StartAsync();
        var oldSha = api.Policies.Current!.Sha256;
        var files = TestPolicies.Files(count: 2);
        files["extra/more.yaml"] = "# comments only\n";
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = files }, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync(Json.ApplyDto);
        Assert.Equal("applied", result!.Outcome);
        Assert.Equal(2u, result.Version);
        Assert.Equal(["cam-2"], result.Diff!.Added);
        Assert.Equal(2u, api.Policies.Holder.Current!.Version);

        // Written to the policy directory, with no temporary files left behind.
        Assert.Equal(TestPolicies.Cameras(count: 2), File.ReadAllText(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
        Assert.True(File.Exists(Path.Combine(api.PolicyDirectory, "extra", "more.yaml")));
        Assert.Empty(Directory.EnumerateFiles(api.PolicyDirectory, ".camfw-*", SearchOption.AllDirectories));

        var audit = api.Policies.Audit.ReadAll();
        var record = audit[^1];
        Assert.Equal("apply", record.Action);
        Assert.Equal("applied", record.Outcome);
        Assert.Equal("api", record.Origin);
        Assert.Equal("127.0.0.1", record.Remote);
        Assert.Equal(oldSha, record.OldSha256);
        Assert.Equal(result.Sha256, record.NewSha256);
        Assert.Equal(["cam-2"], record.Added);
    }

    [Fact]
    public async Task Put_UnsafeFileName_Rejected()
    {
        await using var api = await ApiHarness.StartAsync();
        var files = TestPolicies.Files();
        files["../escape.yaml"] = "# no\n";
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = files }, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.False(File.Exists(Path.Combine(api.Root.Path, "escape.yaml")));
    }

    [Fact]
    public async Task HistoryAndRollback_RestoresEarlierVersionAsNewVersion()
    {
        await using var api = await ApiHarness.StartAsync();
        var v1 = api.Policies.Current!;
        using (var r = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, Json.PolicyFilesDto))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var history = await api.Client.GetFromJsonAsync("/api/v1/policy/history", Json.HistoryDto);
        Assert.Equal([2u, 1u], history!.Entries.Select(e => e.Version));
        Assert.True(history.Entries[0].Current);
        Assert.Equal(v1.Sha256, history.Entries[1].Sha256);

        using var rollback = await api.Client.PostAsync("/api/v1/policy/rollback/1", null);
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        var result = await rollback.Content.ReadFromJsonAsync(Json.ApplyDto);
        Assert.Equal("applied", result!.Outcome);
        Assert.Equal(3u, result.Version);
        Assert.Equal(v1.Sha256, result.Sha256);
        Assert.Equal(TestPolicies.Cameras(), File.ReadAllText(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
        Assert.Equal("rollback", api.Policies.Audit.ReadAll()[^1].Origin);

        using var missing = await api.Client.PostAsync("/api/v1/policy/rollback/99", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task SafeApply_NotConfirmed_RevertsByItself()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await ApiHarness.StartAsync(policyTime: time);
        var v1 = api.Policies.Current!;
        using (var r = await api.Client.PutAsJsonAsync("/api/v1/policy?confirm-within=1", new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, Json.PolicyFilesDto))
        {
            var applied = await r.Content.ReadFromJsonAsync(Json.ApplyDto);
            Assert.Equal(2u, applied!.Version);
            Assert.NotNull(applied.ConfirmDeadline);
        }

        var pending = await api.Client.GetFromJsonAsync("/api/v1/health", Json.HealthDto);
        Assert.Equal(1u, pending!.PendingConfirmation!.RevertToVersion);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(2u, api.Policies.Current!.Version); // not before the deadline
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => api.Policies.Current!.Version == 3);
        Assert.Equal(v1.Sha256, api.Policies.Current!.Sha256);
        Assert.Null(api.Policies.Pending);
        Assert.Equal(TestPolicies.Cameras(), File.ReadAllText(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
        await Eventually.TrueAsync(() => api.Policies.Audit.ReadAll()[^1].Origin == "auto-revert");
    }

    [Fact]
    public async Task SafeApply_Confirmed_Stays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var api = await ApiHarness.StartAsync(policyTime: time);
        using (var r = await api.Client.PutAsJsonAsync("/api/v1/policy?confirm-within=1", new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, Json.PolicyFilesDto))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        using var confirm = await api.Client.PostAsync("/api/v1/policy/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);

        // Well past the deadline, on the clock that fires the revert: the same advance reverts an unconfirmed safe
        // apply (SafeApply_NotConfirmed_RevertsByItself, the positive control). The fake clock runs the timer's
        // callback inside Advance, and with the service idle the revert would complete there too.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2u, api.Policies.Current!.Version);
        Assert.Null(api.Policies.Pending);

        using var again = await api.Client.PostAsync("/api/v1/policy/confirm", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Theory]
    [InlineData("0")] // at least one second
    [InlineData("-5")] // negative
    [InlineData("soon")] // not a number
    [InlineData("999999")] // beyond MaxConfirmWithin
    public async Task SafeApply_BadConfirmWithin_Returns400(string value)
    {
        await using var api = await ApiHarness.StartAsync();
        using var r = await api.Client.PutAsJsonAsync($"/api/v1/policy?confirm-within={value}", new PolicyFilesDto { Files = TestPolicies.Files(nvrPort: 8554) }, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task Reload_FromDisk_AppliesEditedFiles()
    {
        await using var api = await ApiHarness.StartAsync();
        File.WriteAllText(Path.Combine(api.PolicyDirectory, "cameras.yaml"), TestPolicies.Cameras(count: 2));
        using var r = await api.Client.PostAsync("/api/v1/policy/reload", null);
        var result = await r.Content.ReadFromJsonAsync(Json.ApplyDto);
        Assert.Equal("applied", result!.Outcome);
        Assert.Equal(2, api.Policies.Current!.Spec.Cameras.Count);
    }
}
