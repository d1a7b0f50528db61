using Appliance.Core.Policy;

namespace Appliance.Policy.Tests;

/// <summary><c>dns: { queries: rules | any, also: [...] }</c>: which names cameras may ask their resolver about (issue 15).</summary>
public class DnsQueryPolicyTests
{
    private const string Policy = """
        profiles:
          vendor:
            dns: { queries: rules, also: [pool.ntp.example, "*.Update.Vendor.Example."] }
            rules:
              - { id: dns, direction: egress, protocol: udp, ports: [53], peer: [198.51.100.2] }
              - { id: ntp, direction: egress, protocol: udp, ports: [123], peer: [time.vendor.example] }
          open:
            rules:
              - { id: dns, direction: egress, protocol: udp, ports: [53], peer: [198.51.100.2] }
        cameras:
          restricted:
            mac: 02:00:00:00:01:01
            profiles: [vendor]
            dns:
              also: [cam.extra.example]
          unrestricted:
            mac: 02:00:00:00:01:02
            profiles: [open]
          override:
            mac: 02:00:00:00:01:03
            profiles: [vendor]
            dns: { queries: any }
        """;

    [Fact]
    public void Load_ProfileRestricts_CameraAddsNames_OthersStayAny()
    {
        var result = PolicyTestHelpers.LoadOne(Policy);

        Assert.DoesNotContain(PolicyTestHelpers.Lines(result), l => l.Contains(": error: ", StringComparison.Ordinal));
        var cameras = result.Spec!.Cameras.ToDictionary(c => c.Name);
        Assert.Equal(DnsQueryScope.Rules, cameras["restricted"].DnsQueries);
        Assert.Equal(["pool.ntp.example", "*.update.vendor.example", "cam.extra.example"], cameras["restricted"].DnsAlso);
        Assert.Equal(DnsQueryScope.Any, cameras["unrestricted"].DnsQueries);
        Assert.Equal(DnsQueryScope.Any, cameras["override"].DnsQueries); // the camera's own setting wins
        Assert.Empty(cameras["override"].DnsAlso);
    }

    [Fact]
    public void Show_RestrictedCamera_ListsTheNamesReadBackFromTheCompiledFilter()
    {
        var spec = PolicyTestHelpers.LoadOne(Policy).Spec!;
        var compiled = CompiledPolicy.Compile(spec, 1, new CameraSlotRegistry());
        using var writer = new StringWriter();

        PolicyFormatter.WriteShow(writer, compiled);

        var lines = writer.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("  dns       queries only time.vendor.example (rules), pool.ntp.example, *.update.vendor.example, cam.extra.example (also); tunnel guard report", lines);
        Assert.Equal(2, lines.Count(l => l == "  dns       queries any; tunnel guard report"));
        Assert.Equal(["time.vendor.example", "pool.ntp.example", "*.update.vendor.example", "cam.extra.example"], compiled.Cameras[0].DnsQueryNames);
    }

    [Fact]
    public void Load_BadDnsSettings_ReportedWithFileLineColumn()
    {
        var result = PolicyTestHelpers.LoadOne("""
            profiles:
              p:
                dns: { queries: some, also: [time..vendor.example, "fw*.vendor.example", vendor.123, ok.example, OK.example] }
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                profiles: [p]
                dns: { qeuries: rules }
              cam2:
                mac: 02:00:00:00:01:02
                dns: rules
            """);

        Assert.Null(result.Spec);
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains("test.yaml:3:21: error: 'dns.queries' in profile 'p' must be rules or any, not 'some'", lines);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:3:34: error: 'dns.also' in profile 'p': ", StringComparison.Ordinal) && l.Contains("empty label", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:3:56: error: 'dns.also' in profile 'p': ", StringComparison.Ordinal) && l.Contains("'*' may only be the whole first label", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:3:78: error: 'dns.also' in profile 'p': ", StringComparison.Ordinal) && l.Contains("does not start with a letter", StringComparison.Ordinal));
        Assert.Contains("test.yaml:3:102: error: 'ok.example' is listed twice in 'dns.also' in profile 'p'", lines);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:8:12: error: unknown key 'qeuries' in 'dns' in camera 'cam1'", StringComparison.Ordinal) && l.Contains("'queries'", StringComparison.Ordinal));
        Assert.Contains("test.yaml:11:10: error: 'dns' in camera 'cam2' must be a mapping (queries, also, guard), not a single value", lines);
    }

    [Fact]
    public void Load_RestrictedWithoutAnyName_Warns_AlsoWithoutRestriction_Warns()
    {
        var result = PolicyTestHelpers.LoadOne("""
            cameras:
              cam1:
                mac: 02:00:00:00:01:01
                dns: { queries: rules }
                rules:
                  - { id: dns, direction: egress, protocol: udp, ports: [53], peer: [198.51.100.2] }
              cam2:
                mac: 02:00:00:00:01:02
                dns: { also: [x.example] }
                rules:
                  - { id: dns, direction: egress, protocol: udp, ports: [53], peer: [198.51.100.2] }
            """);

        Assert.NotNull(result.Spec);
        var lines = PolicyTestHelpers.Lines(result);
        Assert.Contains(lines, l => l.StartsWith("test.yaml:2:3: warning: camera 'cam1' may only ask DNS about", StringComparison.Ordinal) && l.Contains("every DNS query it sends will be dropped", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("test.yaml:9:19: warning: 'dns.also' in camera 'cam2' has no effect", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_TooManyAlsoNames_Refused()
    {
        var names = string.Join(", ", Enumerable.Range(0, 65).Select(i => $"h{i}.vendor.example"));
        var result = PolicyTestHelpers.LoadOne($"cameras:\n  cam1:\n    mac: 02:00:00:00:01:01\n    dns: {{ queries: rules, also: [{names}] }}\n");

        Assert.Null(result.Spec);
        Assert.Contains(PolicyTestHelpers.Lines(result), l => l.Contains("'dns.also' in camera 'cam1' lists 65 names; at most 64 are allowed", StringComparison.Ordinal));
    }
}
