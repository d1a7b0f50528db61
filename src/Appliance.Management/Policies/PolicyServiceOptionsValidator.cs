using Microsoft.Extensions.Options;

namespace Appliance.Management.Policies;

/// <summary>Checks the <c>Policy</c> section; every message names the key at fault.</summary>
public sealed class PolicyServiceOptionsValidator : IValidateOptions<PolicyServiceOptions>
{
    /// <inheritdoc />
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
