using System.Net;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.WinDivert;

/// <summary>
/// The <c>WinDivert</c> section of the host's configuration (with <c>Bridge:Backend</c> <c>windivert</c>). The pair's
/// <c>CameraInterface</c> and <c>UplinkInterface</c> are Windows interface indexes (Get-NetAdapter ifIndex).
/// </summary>
public sealed class WinDivertGatewaySettings
{
    /// <summary>The networks behind the camera interface, as CIDR (e.g. <c>10.20.0.0/24</c>); at least one.</summary>
    public List<string> CameraNetworks { get; set; } = [];

    /// <summary>WINDIVERT_PARAM_QUEUE_TIME in milliseconds (100 to 2000); also how long a faulted handle is held unread.</summary>
    public int QueueTimeMs { get; set; } = 500;

    /// <summary>WINDIVERT_PARAM_QUEUE_LENGTH (32 to 16384).</summary>
    public int QueueLength { get; set; } = 4096;
}

/// <summary>Checks the <c>WinDivert</c> section; every message names the key at fault.</summary>
public sealed class WinDivertGatewaySettingsValidator : IValidateOptions<WinDivertGatewaySettings>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WinDivertGatewaySettings options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.CameraNetworks.Count == 0)
        {
            errors.Add("WinDivert:CameraNetworks is empty: name the networks behind the camera interface, e.g. [\"10.20.0.0/24\"]; routed packets from other sources are not camera traffic");
        }

        for (var i = 0; i < options.CameraNetworks.Count; i++)
        {
            if (!TryParseNetwork(options.CameraNetworks[i], out _))
            {
                errors.Add($"WinDivert:CameraNetworks:{i} '{options.CameraNetworks[i]}' is not a network in CIDR form with no host bits set (e.g. 10.20.0.0/24)");
            }
        }

        if (options.QueueTimeMs is < 100 or > 2000)
        {
            errors.Add($"WinDivert:QueueTimeMs {options.QueueTimeMs} must be between 100 and 2000");
        }

        if (options.QueueLength is < 32 or > 16384)
        {
            errors.Add($"WinDivert:QueueLength {options.QueueLength} must be between 32 and 16384");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>
    /// Parses a CIDR network, refusing host bits (10.20.0.1/24): IPNetwork.TryParse would mask them away, and the
    /// operator may have meant a single address.
    /// </summary>
    internal static bool TryParseNetwork(string text, out IPNetwork network)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return IPNetwork.TryParse(text, out network)
            && slash > 0
            && IPAddress.TryParse(text.AsSpan(0, slash), out var written)
            && written.Equals(network.BaseAddress);
    }
}
