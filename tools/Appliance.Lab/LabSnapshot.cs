using System.Globalization;
using Appliance.Management.Api;

namespace Appliance.Lab;

/// <summary>
/// One expectation about the lab's traffic, judged from what the devices themselves saw: a flow that must work
/// (the NVR's stream) or an attempt that must fail (phone-home, inbound from the internet, the rogue device).
/// </summary>
/// <param name="Name">What is tried, e.g. <c>lobby-hik-01 phones home to 203.0.113.50:443</c>.</param>
/// <param name="MustPass">True when the example policy allows it, false when it must be blocked.</param>
/// <param name="Attempts">Attempts (or bytes, for the stream) seen so far.</param>
/// <param name="Successes">Attempts that got through (bytes that arrived, for the stream).</param>
/// <param name="Unit">What is counted: attempts, answers or bytes.</param>
internal sealed record LabCheck(string Name, bool MustPass, long Attempts, long Successes, string Unit)
{
    /// <summary>Over the whole run: did it go as the example policy says? Null while there is nothing to judge.</summary>
    public bool? Ok => Judge(Attempts, Successes);

    /// <summary>
    /// Every attempt must get through, not merely some (an NVR that cannot reconnect during a flood is locked out
    /// even if an earlier connection worked).
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Attempts in the last few seconds (null before there is a window to compare with).</summary>
    public long? RecentAttempts { get; init; }

    /// <summary>Successes in the last few seconds.</summary>
    public long? RecentSuccesses { get; init; }

    /// <summary>
    /// What happens now: true when it gets through, false when it is blocked, null when idle or not known. This is
    /// what turns when an admin edits the policy while the lab runs.
    /// </summary>
    public bool? GettingThroughNow => Strict && RecentAttempts > RecentSuccesses ? false : RecentSuccesses > 0 ? true : RecentAttempts > 0 ? false : null;

    /// <summary>Does what happens now match the example policy? Falls back to the whole run before a window exists.</summary>
    public bool? OkNow => GettingThroughNow is { } now ? now == MustPass : Ok;

    private bool? Judge(long attempts, long successes)
        => attempts == 0 && successes == 0 ? null
            : MustPass ? (Strict ? successes >= attempts : successes > 0)
            : successes == 0;

    /// <summary>Adds what changed since <paramref name="earlier"/> (the same checks, a few seconds older).</summary>
    public static IReadOnlyList<LabCheck> WithRecent(IReadOnlyList<LabCheck> now, IReadOnlyList<LabCheck>? earlier)
    {
        if (earlier is null || earlier.Count != now.Count)
        {
            return now;
        }

        var result = new List<LabCheck>(now.Count);
        for (var i = 0; i < now.Count; i++)
        {
            result.Add(now[i] with
            {
                RecentAttempts = now[i].Attempts - earlier[i].Attempts,
                RecentSuccesses = now[i].Successes - earlier[i].Successes,
            });
        }

        return result;
    }

    /// <summary>Judges the lab's expectations from the devices' counters.</summary>
    public static IReadOnlyList<LabCheck> Evaluate(LabSite site, IReadOnlyDictionary<string, TrafficStatus> traffic)
    {
        TrafficStatus Of(LabHost host) => traffic.GetValueOrDefault(host.Id) ?? new TrafficStatus(host.Id, new Dictionary<string, long>());
        static string Poke(LabHost target) => "poke_" + target.Address.ToString().Replace('.', '_');

        var checks = new List<LabCheck>();
        var nvr = Of(site.Nvr);
        foreach (var camera in site.Cameras)
        {
            var bytes = nvr["bytes_from_" + camera.Name];
            checks.Add(new($"NVR pulls the stream of {camera.Name} (TCP 554)", true, bytes + nvr["failed_" + camera.Name], bytes, "bytes"));
        }

        foreach (var camera in site.Cameras)
        {
            var c = Of(camera);
            checks.Add(new($"{camera.Name} asks the site DNS and NTP server", true,
                c["dns_answered"] + c["dns_unanswered"] + c["ntp_answered"] + c["ntp_unanswered"], c["dns_answered"] + c["ntp_answered"], "answers"));
        }

        var admin = Of(site.Admin);
        long adminTried = 0, adminConnected = 0;
        foreach (var camera in site.Cameras)
        {
            adminTried += admin[Poke(camera) + "_connected"] + admin[Poke(camera) + "_failed"];
            adminConnected += admin[Poke(camera) + "_connected"];
        }

        checks.Add(new($"admin workstation {site.Admin.Address} opens the cameras' HTTPS (TCP 443)", true, adminTried, adminConnected, "attempts"));

        var phoning = Of(site.PhoningCamera);
        var cloud = Of(site.Cloud);
        var from = site.PhoningCamera.Address.ToString().Replace('.', '_');
        checks.Add(new($"{site.PhoningCamera.Name} phones home to {LabSite.PhoneHomeName} ({site.Cloud.Address}:443, TCP and UDP)", false,
            phoning["phone_home_tcp_connected"] + phoning["phone_home_tcp_failed"] + phoning["phone_home_udp_answered"] + phoning["phone_home_udp_unanswered"],
            Math.Max(phoning["phone_home_tcp_connected"] + phoning["phone_home_udp_answered"], cloud["tcp443_accepted_from_" + from] + cloud["udp443_received_from_" + from]), "attempts"));

        var byName = Of(site.NameRuleCamera);
        checks.Add(new($"{site.NameRuleCamera.Name} reaches its vendor cloud by name ({LabSite.CloudName}, TCP 443)", true,
            byName["cloud_tcp_connected"] + byName["cloud_tcp_failed"] + byName["cloud_unresolved"], byName["cloud_tcp_connected"], "attempts"));

        var internet = Of(site.Internet);
        var poked = Of(site.PokedCamera);
        checks.Add(new($"internet host {site.Internet.Address} opens {site.PokedCamera.Name}'s web page (TCP 80)", false,
            internet[Poke(site.PokedCamera) + "_connected"] + internet[Poke(site.PokedCamera) + "_failed"],
            Math.Max(internet[Poke(site.PokedCamera) + "_connected"], poked["web_accepted"]), "attempts"));

        var rogue = Of(site.Rogue);
        foreach (var (target, listenerKey) in new[] { (site.Nvr, "web_accepted"), (site.Internet, "tcp80_accepted") })
        {
            checks.Add(new($"rogue device {site.Rogue.Address} reaches {target.Name} (TCP 80)", false,
                rogue[Poke(target) + "_connected"] + rogue[Poke(target) + "_failed"],
                Math.Max(rogue[Poke(target) + "_connected"], Of(target)[listenerKey]), "attempts"));
        }

        // --flood: the NVR's new connections to the flooded camera, outside floods (the control) and during them.
        if (traffic.TryGetValue(LabTraffic.FloodId, out var flood))
        {
            var camera = site.FloodedCamera.Name;
            var quiet = (Ok: nvr[$"newconn_{camera}_ok"], Failed: nvr[$"newconn_{camera}_failed"]);
            var flooded = (Ok: nvr[$"newconn_{camera}_flood_ok"], Failed: nvr[$"newconn_{camera}_flood_failed"]);
            checks.Add(new($"NVR opens new connections to {camera} (TCP 554), no flood on", true, quiet.Ok + quiet.Failed, quiet.Ok, "attempts") { Strict = true });
            var sent = flood["flood_syns_sent"].ToString("N0", CultureInfo.InvariantCulture);
            var name = $"NVR opens new connections to {camera} during a SYN flood spoofing the NVR ({sent} SYNs sent)";
            checks.Add(new(name, true, flooded.Ok + flooded.Failed, flooded.Ok, "attempts") { Strict = true });
        }

        return checks;
    }
}

/// <summary>
/// One security event as the appliance reported it (<c>/api/v1/events</c>; the same event went to syslog): a newly
/// denied flow, a phone-home attempt, an unknown device... <paramref name="Kind"/> is its syslog MSGID.
/// </summary>
internal sealed record LabEvent(
    DateTimeOffset At,
    string Kind,
    string Level,
    string Message,
    string? Camera,
    string? Mac,
    string? Reason,
    string? Rule,
    string? Direction,
    string? Protocol,
    string? Source,
    string? SourcePort,
    string? Destination,
    string? DestinationPort,
    string? Action)
{
    public static LabEvent From(EventDto e)
    {
        string? F(string key) => e.Fields.TryGetValue(key, out var v) && v != "-" ? v : null;
        return new LabEvent(e.At, e.Kind, e.Level, e.Message, F("camera"), F("mac"), F("reason"), F("rule"), F("direction"),
            F("proto"), F("src"), F("sport"), F("dst"), F("dport"), F("action"))
        { Dns = F("dns") };
    }

    /// <summary>The DNS name the camera looked up for the peer (or the name a refused query asked about), when there is one.</summary>
    public string? Dns { get; init; }

    /// <summary><c>tcp 192.0.2.11:40000 → p2p.vendor.example (203.0.113.50):443</c>.</summary>
    public string Flow
    {
        get
        {
            var peer = Dns is null ? Destination : Direction == "ingress" ? Destination : $"{Dns} ({Destination})";
            var source = Dns is not null && Direction == "ingress" ? $"{Dns} ({Source})" : Source;
            return SourcePort is null && DestinationPort is null
                ? $"{Protocol} {source} → {peer}"
                : $"{Protocol} {source}:{SourcePort} → {peer}:{DestinationPort}";
        }
    }
}

/// <summary>Everything the lab shows at one moment: the appliance's view (API) and the devices' view (traffic roles).</summary>
internal sealed record LabSnapshot(
    DateTimeOffset At,
    TimeSpan Elapsed,
    HealthDto? Health,
    CamerasDto? Cameras,
    long EventsTotal,
    IReadOnlyList<LabEvent> Events,
    IReadOnlyDictionary<string, long> Reasons,
    IReadOnlyDictionary<string, TrafficStatus> Traffic,
    IReadOnlyList<LabCheck> Checks,
    string? ApiError);

/// <summary>
/// The appliance process as the lab last saw it, for the summary: <c>not started</c>, <c>starting</c>,
/// <c>running</c> or <c>exited</c> (killed, crashed or stopped by itself), with its exit code, when the lab noticed,
/// when its counters were last read, and the end of its log.
/// </summary>
internal sealed record LabApplianceState(string State, int? ExitCode, double? ExitedAfterSeconds, DateTimeOffset? CountersAt, string? LogTail);
