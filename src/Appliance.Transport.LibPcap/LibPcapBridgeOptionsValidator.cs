using System.Globalization;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.LibPcap;

/// <summary>Checks the libpcap bridge's keys of the <c>Bridge</c> section; every message names the key at fault.</summary>
public sealed class LibPcapBridgeOptionsValidator : IValidateOptions<LibPcapBridgeOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LibPcapBridgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.BatchSize is < 1 or > 4096)
        {
            errors.Add(Invariant($"Bridge:BatchSize {options.BatchSize} must be between 1 and 4096"));
        }

        // 0 leaves the ports' MTU alone; otherwise an Ethernet MTU (68 is IPv4's minimum, 9216 a common jumbo limit).
        if (options.SiteMtu != 0 && options.SiteMtu is < 68 or > 9216)
        {
            errors.Add(Invariant($"Bridge:SiteMtu {options.SiteMtu} must be 0 (leave the ports' MTU) or between 68 and 9216"));
        }

        if (options.Port.SnapLength is < 128 or > 262_144)
        {
            errors.Add(Invariant($"Bridge:Port:SnapLength {options.Port.SnapLength} must be between 128 and 262144"));
        }

        if (options.Port.BufferSize is < 65_536 or > 1_073_741_824)
        {
            errors.Add(Invariant($"Bridge:Port:BufferSize {options.Port.BufferSize} must be between 65536 and 1073741824 bytes"));
        }

        if (options.DataPlaneCpus is not null)
        {
            if (!CpuSet.TryParse(options.DataPlaneCpus, out var cpus, out var error))
            {
                errors.Add($"Bridge:DataPlaneCpus '{options.DataPlaneCpus}' {error}");
            }
            else if (CpuSet.Allowed() is { } allowed && !cpus.IsSubsetOf(allowed))
            {
                errors.Add($"Bridge:DataPlaneCpus '{options.DataPlaneCpus}' names CPUs camfw may not run on: it may use {allowed} (the machine's CPUs, less what cgroups, CPUAffinity= or taskset took away)");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
