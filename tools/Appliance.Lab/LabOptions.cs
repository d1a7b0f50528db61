namespace Appliance.Lab;

/// <summary>What <c>camfw lab</c> was asked to do.</summary>
internal sealed record LabOptions
{
    /// <summary>Stop by itself after this long; null runs until Ctrl-C or SIGTERM.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Plain-text summaries instead of the live view (for scripts, CI and logs).</summary>
    public bool Headless { get; init; }

    /// <summary>Seconds between headless summaries.</summary>
    public TimeSpan HeadlessInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Also write the final JSON summary here (it always goes to <c>summary.json</c> in the work directory).</summary>
    public string? SummaryPath { get; init; }

    /// <summary>Lab state: policy copy, logs, token, syslog file. Default: <c>.lab/</c> in the repository.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>The site to load. Default: <c>policies/</c> in the repository (copied, never edited in place).</summary>
    public string? PolicyDirectory { get; init; }

    /// <summary>
    /// Also attack: bursts of 5,000 TCP SYNs from the uplink side spoofing the NVR's address to the flooded camera's
    /// RTSP port (its flow quota is 256), while the NVR keeps opening new connections to that camera.
    /// </summary>
    public bool Flood { get; init; }

    /// <summary>Where the machine-wide lab lock lives.</summary>
    public string LockDirectory { get; init; } = LabLock.DefaultDirectory;

    /// <summary>Port on this machine's loopback that relays to the appliance's management API.</summary>
    public int ApiRelayPort { get; init; } = 18080;
}
