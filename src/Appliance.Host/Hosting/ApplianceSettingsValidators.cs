using Appliance.Management.Policies;
using Microsoft.Extensions.Options;

namespace Appliance.Host.Hosting;

/// <summary>Checks the <c>Bridge</c> section; every message names the key at fault.</summary>
internal sealed class BridgeSettingsValidator : IValidateOptions<BridgeSettings>
{
    public ValidateOptionsResult Validate(string? name, BridgeSettings options)
    {
        var errors = new List<string>();
        var winDivert = BridgeSettings.IsWinDivert(options.Backend);
        if (!winDivert && !string.Equals(options.Backend, BridgeSettings.LibPcap, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Bridge:Backend '{options.Backend}' must be {BridgeSettings.LibPcap} (Linux) or {BridgeSettings.WinDivert} (Windows)");
        }

        if (winDivert && options.Pairs.Count > 1)
        {
            errors.Add($"Bridge:Pairs has {options.Pairs.Count} pairs; the {BridgeSettings.WinDivert} backend routes one camera interface and one uplink interface");
        }

        if (options.Pairs.Count == 0)
        {
            errors.Add("Bridge:Pairs is empty: name at least one pair, e.g. \"Pairs\": [{ \"CameraInterface\": \"eth1\", \"UplinkInterface\": \"eth2\" }] (or pass --camera-if and --uplink-if)");
        }

        var used = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Pairs.Count; i++)
        {
            var p = options.Pairs[i];
            CheckInterface(errors, $"Bridge:Pairs:{i}:CameraInterface", p.CameraInterface, used, winDivert);
            CheckInterface(errors, $"Bridge:Pairs:{i}:UplinkInterface", p.UplinkInterface, used, winDivert);
            if (!names.Add(p.EffectiveName))
            {
                errors.Add($"Bridge:Pairs:{i}:Name '{p.EffectiveName}' is used by another pair");
            }
        }

        if (options.BatchSize is < 1 or > 4096)
        {
            errors.Add($"Bridge:BatchSize {options.BatchSize} must be between 1 and 4096");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckInterface(List<string> errors, string key, string value, HashSet<string> used, bool winDivert)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add($"{key} is not set");
        }
        else if (winDivert && !(uint.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) && index > 0))
        {
            errors.Add($"{key} '{value}' is not a Windows interface index (the windivert backend takes Get-NetAdapter's ifIndex, e.g. 12)");
        }
        else if (value.Length > 15 || value.Any(c => c is '/' or ':' || char.IsWhiteSpace(c)))
        {
            errors.Add($"{key} '{value}' is not a Linux interface name (at most 15 characters, no '/', ':' or spaces)");
        }
        else if (!used.Add(value))
        {
            errors.Add($"{key} '{value}' is already used by another port; each interface belongs to one side of one pair");
        }
    }
}

/// <summary>Checks the <c>Engine</c> section.</summary>
internal sealed class EngineSettingsValidator : IValidateOptions<EngineSettings>
{
    public ValidateOptionsResult Validate(string? name, EngineSettings o)
    {
        var errors = new List<string>();
        if (o.FlowCapacity is < 1024 or > 16_777_216)
        {
            errors.Add($"Engine:FlowCapacity {o.FlowCapacity} must be between 1024 and 16777216");
        }

        if (o.DefaultFlowQuota < 1 || o.DefaultFlowQuota > o.FlowCapacity)
        {
            errors.Add($"Engine:DefaultFlowQuota {o.DefaultFlowQuota} must be between 1 and Engine:FlowCapacity");
        }

        if (o.EventRingCapacity is < 64 or > 16_777_216)
        {
            errors.Add($"Engine:EventRingCapacity {o.EventRingCapacity} must be between 64 and 16777216");
        }

        foreach (var (key, value) in new[] { ("TcpHalfOpenTimeout", o.TcpHalfOpenTimeout), ("TcpEstablishedTimeout", o.TcpEstablishedTimeout), ("TcpClosingTimeout", o.TcpClosingTimeout), ("UdpTimeout", o.UdpTimeout), ("IcmpTimeout", o.IcmpTimeout) })
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(7))
            {
                errors.Add($"Engine:{key} {value} must be positive and at most 7 days");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>Checks the <c>Policy</c> section.</summary>
internal sealed class PolicySettingsValidator : IValidateOptions<PolicyServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, PolicyServiceOptions o)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(o.Directory))
        {
            errors.Add("Policy:Directory is not set (or pass --policy DIR)");
        }
        else if (!Directory.Exists(o.Directory))
        {
            errors.Add($"Policy:Directory '{o.Directory}' does not exist");
        }

        if (string.IsNullOrWhiteSpace(o.StateDirectory))
        {
            errors.Add("Policy:StateDirectory is not set");
        }

        if (o.HistoryLimit is < 1 or > 10_000)
        {
            errors.Add($"Policy:HistoryLimit {o.HistoryLimit} must be between 1 and 10000");
        }

        if (o.WatchDebounce < TimeSpan.Zero || o.WatchDebounce > TimeSpan.FromSeconds(10))
        {
            errors.Add($"Policy:WatchDebounce {o.WatchDebounce} must be between 0 and 10 seconds");
        }

        if (o.MaxConfirmWithin < TimeSpan.FromSeconds(1) || o.MaxConfirmWithin > TimeSpan.FromDays(1))
        {
            errors.Add($"Policy:MaxConfirmWithin {o.MaxConfirmWithin} must be between 1 second and 1 day");
        }

        // NaN fails both comparisons, so it is tested for on its own.
        if (double.IsNaN(o.MaxCameraRemovalShare) || o.MaxCameraRemovalShare < 0 || o.MaxCameraRemovalShare > 1)
        {
            errors.Add($"Policy:MaxCameraRemovalShare {o.MaxCameraRemovalShare} must be between 0 and 1 (0.5: a change may remove up to half the cameras without allow-camera-removal)");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
