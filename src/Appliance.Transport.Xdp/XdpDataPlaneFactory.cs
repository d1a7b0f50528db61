using Appliance.Core.Engine;
using Appliance.Transport.LibPcap;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.Xdp;

/// <summary>
/// The Linux bridge (libpcap ports, as <see cref="LibPcapDataPlaneFactory"/>) with the XDP fast path for established
/// flows when <see cref="XdpOffloadOptions.XdpOffload"/> asks for it: <c>off</c> builds the plain bridge; <c>auto</c>
/// attaches where both ports support native XDP and otherwise logs why not and runs the plain bridge; <c>on</c>
/// refuses to start a pair that cannot.
/// </summary>
public sealed class XdpDataPlaneFactory(IOptions<LibPcapBridgeOptions> bridge, IOptions<XdpOffloadOptions> xdp) : IDataPlaneFactory
{
    private readonly LibPcapDataPlaneFactory _plain = new(bridge);

    /// <inheritdoc />
    public IDataPlane Create(BridgePair pair, PacketEngine engine, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(pair);
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(logger);
        var mode = xdp.Value.XdpOffload;
        if (mode == XdpOffloadMode.Off || !OperatingSystem.IsLinux())
        {
            return _plain.Create(pair, engine, logger);
        }

        var settings = bridge.Value;
        if (settings.PrepareInterfaces)
        {
            InterfacePreparation.Prepare(pair.CameraInterface, pair.UplinkInterface, logger, settings.SiteMtu > 0 ? settings.SiteMtu + LibPcapDataPlaneFactory.QinQHeadroom : 0);
        }

        // Ownership passes along: the data plane owns the ports and the offload. Only a failure in between leaves
        // something to close here.
#pragma warning disable CA2000
        XdpFlowOffload offload;
        try
        {
            offload = XdpFlowOffload.Attach(pair.CameraInterface, pair.UplinkInterface, engine.Policies, xdp.Value.XdpSweepInterval);
        }
        catch (XdpUnavailableException e) when (mode == XdpOffloadMode.Auto)
        {
            XdpLog.FallingBack(logger, pair.Name, e.Message);
            return _plain.Create(pair, engine, logger);
        }

        LibPcapPort? camera = null;
        LibPcapPort? uplink = null;
        try
        {
            offload.Bind(engine);
            // The start's burst of first frames lands in these rings (XdpOffloadOptions.XdpPortBufferSize says why).
            var port = new LibPcapPortOptions
            {
                SnapLength = settings.Port.SnapLength,
                Promiscuous = settings.Port.Promiscuous,
                InboundOnly = settings.Port.InboundOnly,
                BufferSize = xdp.Value.XdpPortBufferSize,
            };
            camera = LibPcapPort.Open(pair.CameraInterface, port);
            uplink = LibPcapPort.Open(pair.UplinkInterface, port);
            var plane = BridgeDataPlane.Create(camera, uplink, new XdpOffloadDecider(engine, offload), logger, settings.DataPlaneOptions(pair.Name));
            XdpLog.Attached(logger, pair.Name, pair.CameraInterface, pair.UplinkInterface);
            return new XdpDataPlane(plane, offload, logger);
        }
        catch
        {
            offload.Dispose();
            uplink?.Dispose();
            camera?.Dispose();
            throw;
        }
#pragma warning restore CA2000
    }
}
