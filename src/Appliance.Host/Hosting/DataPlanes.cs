using Appliance.Core.Engine;
using Appliance.Transport;
using Appliance.Transport.LibPcap;
using Microsoft.Extensions.Logging;

namespace Appliance.Host.Hosting;

/// <summary>One running bridge pair as the host supervises it.</summary>
internal interface IDataPlane : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Completes when the loop ends; faults with the cause when it died.</summary>
    Task Completion { get; }

    bool IsHealthy { get; }

    Exception? Fault { get; }

    /// <summary>Frames lost by capture (both ports).</summary>
    long CaptureDrops { get; }

    void Start();

    Task StopAsync(CancellationToken cancellationToken);
}

/// <summary>Builds the data plane of one pair around its engine. Tests substitute their own.</summary>
internal interface IDataPlaneFactory
{
    IDataPlane Create(BridgePairSettings pair, BridgeSettings bridge, PacketEngine engine, ILogger logger);
}

/// <summary>The real thing: both interfaces prepared (links up, offloads off), opened with libpcap, bridged.</summary>
internal sealed class LibPcapDataPlaneFactory : IDataPlaneFactory
{
    public IDataPlane Create(BridgePairSettings pair, BridgeSettings bridge, PacketEngine engine, ILogger logger)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the libpcap bridge runs on Linux only; on Windows use the WinDivert gateway");
        }

        if (bridge.PrepareInterfaces)
        {
            InterfacePreparation.Prepare(pair.CameraInterface, pair.UplinkInterface, logger);
        }

        // Ownership passes along: the bridge disposes its ports, the adapter its bridge. Only a failure in between
        // leaves something to close here.
#pragma warning disable CA2000
        var camera = LibPcapPort.Open(pair.CameraInterface);
        LibPcapPort? uplink = null;
        try
        {
            uplink = LibPcapPort.Open(pair.UplinkInterface);
            return new BridgeDataPlaneAdapter(new BridgeDataPlane(camera, uplink, engine, logger, new BridgeOptions { Name = pair.EffectiveName, BatchSize = bridge.BatchSize }));
        }
        catch
        {
            uplink?.Dispose();
            camera.Dispose();
            throw;
        }
#pragma warning restore CA2000
    }

    private sealed class BridgeDataPlaneAdapter(BridgeDataPlane plane) : IDataPlane
    {
        public string Name => plane.Name;

        public Task Completion => plane.Completion;

        public bool IsHealthy => plane.IsHealthy;

        public Exception? Fault => plane.Fault;

        public long CaptureDrops => plane.CameraSide.CaptureDrops + plane.UplinkSide.CaptureDrops;

        public void Start() => plane.Start();

        public Task StopAsync(CancellationToken cancellationToken) => plane.StopAsync(cancellationToken);

        public ValueTask DisposeAsync() => plane.DisposeAsync();
    }
}
