using Appliance.Core.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.LibPcap;

/// <summary>The Linux bridge: both interfaces prepared (links up, offloads off), opened with libpcap, bridged.</summary>
public sealed class LibPcapDataPlaneFactory(IOptions<LibPcapBridgeOptions> options) : IDataPlaneFactory
{
    /// <summary>
    /// Bytes a bridge port's MTU needs above the site's for a full-size 802.1ad frame (two tags, 8 bytes). A packet
    /// socket sends at most MTU + Ethernet header, plus 4 bytes only when the outer tag is 802.1Q (0x8100; the kernel's
    /// <c>packet_extra_vlan_len_allowed</c>); an 802.1ad outer tag (0x88A8) gets no allowance at all.
    /// </summary>
    public const int QinQHeadroom = 8;

    /// <inheritdoc />
    public IDataPlane Create(BridgePair pair, PacketEngine engine, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(logger);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the libpcap bridge runs on Linux only; on Windows use the WinDivert gateway");
        }

        var settings = options.Value;
        if (settings.PrepareInterfaces)
        {
            InterfacePreparation.Prepare(pair.CameraInterface, pair.UplinkInterface, logger, settings.SiteMtu > 0 ? settings.SiteMtu + QinQHeadroom : 0);
        }

        // Ownership passes along: the bridge disposes its ports. Only a failure in between leaves something to close.
#pragma warning disable CA2000
        var camera = LibPcapPort.Open(pair.CameraInterface, settings.Port);
        LibPcapPort? uplink = null;
        try
        {
            uplink = LibPcapPort.Open(pair.UplinkInterface, settings.Port);
            return new BridgeDataPlane(camera, uplink, engine, logger, settings.DataPlaneOptions(pair.Name));
        }
        catch
        {
            uplink?.Dispose();
            camera.Dispose();
            throw;
        }
#pragma warning restore CA2000
    }
}
