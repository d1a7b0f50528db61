using Appliance.Core.Engine;
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

/// <summary>
/// The <c>Engine</c> section is bound straight onto <see cref="EngineOptions"/> (its defaults are written once, there);
/// this only reports the options' own <see cref="EngineOptions.Problems"/> under the section's keys.
/// </summary>
internal sealed class EngineOptionsValidator : IValidateOptions<EngineOptions>
{
    public ValidateOptionsResult Validate(string? name, EngineOptions options)
    {
        var problems = options.Problems();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems.Select(p => "Engine:" + p));
    }
}
