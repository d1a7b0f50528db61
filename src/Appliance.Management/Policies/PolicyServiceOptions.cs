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

    public string HistoryDirectory => Path.Combine(StateDirectory, "history");

    public string AuditLogPath => Path.Combine(StateDirectory, "audit.log");
}
