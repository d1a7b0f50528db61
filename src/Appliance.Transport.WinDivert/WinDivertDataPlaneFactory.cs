using System.Globalization;
using Appliance.Core.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.WinDivert;

/// <summary>
/// The Windows gateway: one WinDivert gateway for the (single) pair, whose interfaces are Windows interface indexes.
/// The routed traffic is decided by the pair's engine; traffic between the cameras and this host by a second engine
/// on the same policy (a packet is either routed or local, so no flow spans the two).
/// </summary>
public sealed class WinDivertDataPlaneFactory(IOptions<WinDivertGatewaySettings> settings) : IDataPlaneFactory
{
    /// <inheritdoc />
    public IDataPlane Create(BridgePair pair, PacketEngine engine, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(logger);
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the WinDivert gateway runs only on 64-bit Windows; on Linux use the libpcap bridge (Bridge:Backend libpcap, the default)");
        }

        var s = settings.Value;
        var options = new WinDivertGatewayOptions
        {
            Name = pair.Name,
            CameraInterfaceIndex = InterfaceIndex(pair.CameraInterface, "CameraInterface"),
            UplinkInterfaceIndex = InterfaceIndex(pair.UplinkInterface, "UplinkInterface"),
            CameraNetworks = [.. s.CameraNetworks.Select(n => WinDivertGatewaySettingsValidator.TryParseNetwork(n, out var network) ? network : throw new ArgumentException($"WinDivert:CameraNetworks '{n}' is not a CIDR network"))],
            QueueTime = TimeSpan.FromMilliseconds(s.QueueTimeMs),
            QueueLength = s.QueueLength,
        };
        var local = new PacketEngine(engine.Policies, engine.Options);
        return WinDivertGateway.Open(new PacketEngineDecider(engine), new PacketEngineDecider(local), options, logger);
    }

    private static uint InterfaceIndex(string value, string key)
        => uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index > 0
            ? index
            : throw new ArgumentException($"{key} '{value}' is not a Windows interface index (Get-NetAdapter ifIndex)");
}
