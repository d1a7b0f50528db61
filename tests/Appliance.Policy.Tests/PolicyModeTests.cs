using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

/// <summary>
/// <c>mode</c> on the site, a profile or a camera (issue 16): the camera's own wins, then its profiles' (which must
/// agree), then the site's, then enforce. <c>policy show</c> says which it is and where it came from.
/// </summary>
public sealed class PolicyModeTests
{
    private const string Body = """
        networks:
          nvr: 198.51.100.10
        profiles:
          learning: { mode: learn, rules: [ { id: rtsp, direction: ingress, protocol: tcp, ports: [554], peer: nvr } ] }
          watching: { mode: monitor, rules: [ { id: onvif, direction: ingress, protocol: tcp, ports: [80], peer: nvr } ] }
          plain: { rules: [ { id: ntp, direction: egress, protocol: udp, ports: [123], peer: nvr } ] }
        cameras:
          own: { mac: 02:00:00:00:00:01, profiles: [learning], mode: enforce }
          by-profile: { mac: 02:00:00:00:00:02, profiles: [plain, learning] }
          by-site: { mac: 02:00:00:00:00:03, profiles: [plain] }
        """;

    [Theory]
    [InlineData("", CameraMode.Enforce, "default")]
    [InlineData("site:\n  mode: learn\n", CameraMode.Learn, "site")]
    [InlineData("site:\n  mode: monitor\n", CameraMode.Monitor, "site")]
    public void Load_ModeOnSiteProfileCamera_CameraThenProfileThenSiteThenEnforce(string site, CameraMode siteResult, string siteFrom)
    {
        var result = PolicyTestHelpers.LoadOne(site + Body);

        Assert.False(result.HasErrors, string.Join('\n', PolicyTestHelpers.Lines(result)));
        var modes = result.Spec!.Cameras.ToDictionary(c => c.Name, c => (c.Mode, c.ModeFrom));
        Assert.Equal((CameraMode.Enforce, "camera"), modes["own"]);
        Assert.Equal((CameraMode.Learn, "profile 'learning'"), modes["by-profile"]);
        Assert.Equal((siteResult, siteFrom), modes["by-site"]);
    }

    [Fact]
    public void Load_ProfilesDisagreeOnMode_ErrorAtTheCamerasProfileNamingBoth()
    {
        var result = PolicyTestHelpers.LoadOne(Body + "\n  torn: { mac: 02:00:00:00:00:04, profiles: [learning, watching] }\n", "cams.yaml");

        Assert.True(result.HasErrors);
        Assert.Contains(
            "cams.yaml:11:56: error: camera 'torn' gets mode 'learn' from profile 'learning' (cams.yaml:4:15) and mode 'monitor' from profile 'watching' (cams.yaml:5:15); set 'mode' on the camera",
            PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void Load_ProfilesDisagreeButCameraSetsMode_Accepted()
    {
        var result = PolicyTestHelpers.LoadOne(Body + "\n  torn: { mac: 02:00:00:00:00:04, profiles: [learning, watching], mode: learn }\n");

        Assert.False(result.HasErrors, string.Join('\n', PolicyTestHelpers.Lines(result)));
        Assert.Equal(CameraMode.Learn, result.Spec!.Cameras.Single(c => c.Name == "torn").Mode);
    }

    [Theory]
    [InlineData("site:\n  mode: learning\n", "s.yaml:2:9: error: 'mode' in site must be enforce, monitor or learn, not 'learning'")]
    [InlineData("profiles:\n  p: { mode: teach }\n", "s.yaml:2:14: error: 'mode' in profile 'p' must be enforce, monitor or learn, not 'teach'")]
    public void Load_UnknownModeWord_ErrorWithFileLineColumn(string yaml, string expected)
    {
        var result = PolicyTestHelpers.LoadOne(yaml, "s.yaml");

        Assert.True(result.HasErrors);
        Assert.Contains(expected, PolicyTestHelpers.Lines(result));
    }

    [Fact]
    public void WriteShow_ModeFromProfileAndSite_ShowsEffectiveModeAndWhere()
    {
        var result = PolicyTestHelpers.LoadOne("site:\n  mode: learn\n" + Body);
        var compiled = CompiledPolicy.Compile(result.Spec!, 1, new CameraSlotRegistry());
        using var text = new StringWriter();

        PolicyFormatter.WriteShow(text, compiled);

        var shown = text.ToString();
        Assert.Contains("  mode             learn (cameras that do not set their own)", shown, StringComparison.Ordinal);
        Assert.Contains("  mode      learn (as monitor; what it does feeds the proposal), from profile 'learning'", shown, StringComparison.Ordinal);
        Assert.Contains("  mode      learn (as monitor; what it does feeds the proposal), from site", shown, StringComparison.Ordinal);
        Assert.Contains("  mode      enforce\n", shown.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
