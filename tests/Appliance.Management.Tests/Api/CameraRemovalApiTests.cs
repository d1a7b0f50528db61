using System.Net;
using System.Net.Http.Json;
using System.Text;
using Appliance.Management.Api;
using Appliance.TestSupport;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Api;

/// <summary>
/// Issue 12 item 2 through the real Kestrel API: a request cannot cut the cameras off by accident. A null, missing
/// or non-string file is a 400 problem; removing every camera, more than the configured share of them, or the last
/// one in enforce mode is refused unless the request says so, and then only as a safe apply.
/// </summary>
public sealed class CameraRemovalApiTests
{
    private static readonly ManagementJsonContext Json = ManagementJsonContext.Default;

    [Theory]
    [InlineData("{\"files\":{\"site.yaml\":null}}")] // the reported request: a null file
    [InlineData("{\"files\":{\"site.yaml\":5}}")] // a number where text belongs
    [InlineData("{\"files\":{\"site.yaml\":[\"a\"]}}")] // a list
    [InlineData("{\"files\":{}}")] // no file at all
    [InlineData("{}")] // no files
    [InlineData("null")] // no body object
    public async Task Put_NullMissingOrNonStringFile_Returns400ProblemAndTouchesNothing(string body)
    {
        await using var api = await ApiHarness.StartAsync();
        var before = Directory.GetFiles(api.PolicyDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();

        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await api.Client.PutAsync("/api/v1/policy", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1u, api.Policies.Current!.Version);
        Assert.Equal(before, Directory.GetFiles(api.PolicyDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Put_NullFile_ProblemNamesTheFile()
    {
        await using var api = await ApiHarness.StartAsync();
        using var content = new StringContent("{\"files\":{\"site.yaml\":null,\"cameras.yaml\":\"x: 1\"}}", Encoding.UTF8, "application/json");
        using var response = await api.Client.PutAsync("/api/v1/policy", content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("site.yaml", text, StringComparison.Ordinal);
        Assert.Contains("not null", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_EmptyFileRemovingEveryCamera_Refused422AndKeepsPolicyAndFiles()
    {
        await using var api = await ApiHarness.StartAsync();
        var before = api.Policies.Current!;

        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = new() { ["site.yaml"] = "" } }, Json.PolicyFilesDto);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("removes every camera (1: cam-a)", text, StringComparison.Ordinal);
        Assert.Contains("allow-camera-removal", text, StringComparison.Ordinal);
        Assert.Same(before, api.Policies.Current);
        Assert.Same(before.Policy, api.Policies.Holder.Current);
        Assert.True(File.Exists(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
        Assert.False(File.Exists(Path.Combine(api.PolicyDirectory, "site.yaml")));
    }

    [Fact]
    public async Task Validate_EmptyFile_Returns422UnlessAllowed()
    {
        await using var api = await ApiHarness.StartAsync();
        var files = new PolicyFilesDto { Files = new() { ["site.yaml"] = "" } };

        using var refused = await api.Client.PostAsJsonAsync("/api/v1/policy/validate", files, Json.PolicyFilesDto);
        using var allowed = await api.Client.PostAsJsonAsync("/api/v1/policy/validate?allow-camera-removal=true", files, Json.PolicyFilesDto);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        Assert.Contains("removes every camera", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Fact]
    public async Task Put_RemovesMoreThanTheShare_RefusedButHalfIsAllowed()
    {
        await using var api = await ApiHarness.StartAsync();
        await PutOkAsync(api, TestPolicies.Files(count: 4));

        // 3 of 4 (75%) is more than the default 50%; 2 of 4 is not.
        using (var refused = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = TestPolicies.Files(count: 1) }, Json.PolicyFilesDto))
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
            Assert.Contains("removes 3 of 4 cameras (cam-2, cam-3, cam-4), more than the 50% Policy:MaxCameraRemovalShare allows", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(4, api.Policies.Current!.Spec.Cameras.Count);
        }

        await PutOkAsync(api, TestPolicies.Files(count: 2));
        Assert.Equal(2, api.Policies.Current!.Spec.Cameras.Count);
    }

    [Fact]
    public async Task Put_ShareIsConfigurable()
    {
        await using var api = await ApiHarness.StartAsync();
        api.Policies.Options.MaxCameraRemovalShare = 0.8;
        await PutOkAsync(api, TestPolicies.Files(count: 4));
        await PutOkAsync(api, TestPolicies.Files(count: 1));
        Assert.Single(api.Policies.Current!.Spec.Cameras);
    }

    [Fact]
    public async Task Put_LastEnforcingCameraToMonitor_Refused()
    {
        await using var api = await ApiHarness.StartAsync();
        var files = TestPolicies.Files();
        files["cameras.yaml"] = TestPolicies.Cameras().Replace("    rules:", "    mode: monitor\n    rules:", StringComparison.Ordinal);

        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = files }, Json.PolicyFilesDto);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("leaves no camera in enforce mode", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1u, api.Policies.Current!.Version);
    }

    [Theory]
    [InlineData("?allow-camera-removal=true")] // without the safety net
    [InlineData("?allow-camera-removal=yes&confirm-within=60")] // not a boolean
    public async Task Put_BadAllowCameraRemoval_Returns400Problem(string query)
    {
        await using var api = await ApiHarness.StartAsync();
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy" + query, new PolicyFilesDto { Files = new() { ["site.yaml"] = "" } }, Json.PolicyFilesDto);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1u, api.Policies.Current!.Version);
        Assert.True(File.Exists(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
    }

    [Fact]
    public async Task Put_AllowedWithConfirmWithin_AppliesThenRevertsUnlessConfirmed()
    {
        await using var api = await ApiHarness.StartAsync();
        using (var response = await api.Client.PutAsJsonAsync("/api/v1/policy?allow-camera-removal=true&confirm-within=1", new PolicyFilesDto { Files = new() { ["site.yaml"] = "" } }, Json.PolicyFilesDto))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var dto = await response.Content.ReadFromJsonAsync(Json.ApplyDto);
            Assert.NotNull(dto!.ConfirmDeadline);
            Assert.Equal(["cam-a"], dto.Diff!.Removed);
        }

        Assert.Empty(api.Policies.Current!.Spec.Cameras);
        Assert.NotNull(api.Policies.Pending);

        // Nobody confirms: the cameras come back by themselves.
        await Eventually.TrueAsync(() => api.Policies.Current!.Spec.Cameras.Count == 1);
        Assert.True(File.Exists(Path.Combine(api.PolicyDirectory, "cameras.yaml")));
    }

    [Fact]
    public async Task Reload_DirectoryEmptiedOfCameras_Refused422KeepsPolicy()
    {
        await using var api = await ApiHarness.StartAsync();
        var before = api.Policies.Current!;
        File.Delete(Path.Combine(api.PolicyDirectory, "cameras.yaml"));

        using var response = await api.Client.PostAsync("/api/v1/policy/reload", null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("removes every camera", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Same(before, api.Policies.Current);
        var health = await api.Client.GetFromJsonAsync("/api/v1/health", Json.HealthDto);
        Assert.Equal("degraded", health!.Status);
        Assert.Contains(health.LastPolicyFailure!.Diagnostics, d => d.Message.Contains("removes every camera", StringComparison.Ordinal));
    }

    private static async Task PutOkAsync(ApiHarness api, Dictionary<string, string> files)
    {
        using var response = await api.Client.PutAsJsonAsync("/api/v1/policy", new PolicyFilesDto { Files = files }, Json.PolicyFilesDto);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
