using Microsoft.Extensions.Options;

namespace Appliance.Syslog.Events;

/// <summary>Settings of the security-event reporter (configuration section <c>Events</c> by convention).</summary>
public sealed class SecurityEventOptions
{
    /// <summary>How often the reporter drains the engines' drop-event rings.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often repeats of already reported flows are summarised ("N more frames of this flow...").</summary>
    public TimeSpan RepeatReportInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A flow with no frame for this long is forgotten; its next frame is reported as new again.</summary>
    public TimeSpan FlowIdleExpiry { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Flows remembered for de-duplication. When full (a scan or a spoofing storm), further new flows are only
    /// counted and summarised as <c>flows-suppressed</c>, so the reporter's memory and message rate stay bounded.
    /// </summary>
    public int MaxTrackedFlows { get; set; } = 65_536;

    /// <summary>Events kept for the management API (<c>GET /api/v1/events</c>), newest first.</summary>
    public int RecentCapacity { get; set; } = 1_000;
}

/// <summary>Validates <see cref="SecurityEventOptions"/> at start.</summary>
public sealed class SecurityEventOptionsValidator : IValidateOptions<SecurityEventOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SecurityEventOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.PollInterval <= TimeSpan.Zero || options.PollInterval > TimeSpan.FromSeconds(10))
        {
            errors.Add($"Events:PollInterval {options.PollInterval} must be positive and at most 10 s.");
        }

        if (options.RepeatReportInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add($"Events:RepeatReportInterval {options.RepeatReportInterval} must be at least 1 s.");
        }

        if (options.FlowIdleExpiry < options.RepeatReportInterval)
        {
            errors.Add("Events:FlowIdleExpiry must be at least Events:RepeatReportInterval, or repeats would be forgotten before being reported.");
        }

        if (options.MaxTrackedFlows is < 16 or > 10_000_000)
        {
            errors.Add($"Events:MaxTrackedFlows {options.MaxTrackedFlows} must be between 16 and 10000000.");
        }

        if (options.RecentCapacity is < 1 or > 1_000_000)
        {
            errors.Add($"Events:RecentCapacity {options.RecentCapacity} must be between 1 and 1000000.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
