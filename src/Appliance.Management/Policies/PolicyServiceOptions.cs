namespace Appliance.Management.Policies;

/// <summary>The <c>Policy</c> section of the appliance configuration.</summary>
public sealed class PolicyServiceOptions
{
    /// <summary>The policy directory: every <c>*.yaml</c> in it (and below) is one policy.</summary>
    public string Directory { get; set; } = "/etc/camfw/policies";

    /// <summary>Where history and the audit log live.</summary>
    public string StateDirectory { get; set; } = "/var/lib/camfw";

    /// <summary>How many applied versions history keeps.</summary>
    public int HistoryLimit { get; set; } = 50;

    /// <summary>Reload when the policy directory changes.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>Quiet time after the last change before a reload (editors write in several steps).</summary>
    public TimeSpan WatchDebounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Longest <c>confirm-within</c> an API client may ask for.</summary>
    public TimeSpan MaxConfirmWithin { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Largest share (0 to 1) of the cameras in force that a change may remove without saying it means it
    /// (<c>allow-camera-removal</c>, which also requires a safe apply). Removing every camera, or taking the last one
    /// out of enforce mode, is always refused that way; a file-watcher reload can never do either.
    /// </summary>
    public double MaxCameraRemovalShare { get; set; } = 0.5;

    /// <summary><c>STATE/history</c>: one folder per applied version (see <see cref="PolicyHistory"/>).</summary>
    public string HistoryDirectory => Path.Combine(StateDirectory, "history");

    /// <summary><c>STATE/audit.log</c>: the JSON-lines audit trail (see <see cref="AuditLog"/>).</summary>
    public string AuditLogPath => Path.Combine(StateDirectory, "audit.log");
}
