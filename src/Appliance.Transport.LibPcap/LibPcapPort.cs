using System.Runtime.InteropServices;
using Appliance.Native.LibPcap;

namespace Appliance.Transport.LibPcap;

/// <summary>
/// A live interface through libpcap (Linux AF_PACKET): immediate mode, promiscuous, inbound only, non-blocking with
/// a selectable descriptor for poll(2). Frames are handed to the handler straight from the kernel ring.
/// </summary>
public sealed class LibPcapPort : IPacketPort
{
    private readonly PcapHandle _handle;
    private PcapCounters _counters;
    private volatile bool _stopped;

    private LibPcapPort(string name, PcapHandle handle, int fd)
    {
        Name = name;
        _handle = handle;
        SelectableFd = fd;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public PortLinkType LinkType => PortLinkType.Ethernet;

    /// <inheritdoc />
    public int SelectableFd { get; }

    /// <inheritdoc />
    public bool IsCompleted => _stopped;

    /// <summary>The loaded libpcap's version string.</summary>
    public static string LibraryVersion
    {
        get
        {
            PcapNative.EnsureLoaded();
            return PcapNative.Version();
        }
    }

    /// <summary>
    /// Opens and activates <paramref name="interfaceName"/>. Throws <see cref="PlatformNotSupportedException"/> off
    /// Linux and <see cref="PacketPortException"/> (with libpcap's own words) when the interface cannot be opened.
    /// </summary>
    public static unsafe LibPcapPort Open(string interfaceName, LibPcapPortOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                $"The libpcap bridge needs Linux (AF_PACKET, ethtool); this is {RuntimeInformation.OSDescription}. On Windows use the WinDivert gateway.");
        }

        options ??= new LibPcapPortOptions();
        PcapNative.EnsureLoaded();
        var errbuf = stackalloc byte[PcapNative.ErrorBufferSize];
        errbuf[0] = 0;
        var handle = PcapNative.pcap_create(interfaceName, errbuf);
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new PacketPortException($"Cannot open interface {interfaceName}: {Marshal.PtrToStringUTF8((nint)errbuf)}");
        }

        try
        {
            Check(handle, interfaceName, "set the snap length", PcapNative.pcap_set_snaplen(handle, options.SnapLength));
            Check(handle, interfaceName, "set promiscuous mode", PcapNative.pcap_set_promisc(handle, options.Promiscuous ? 1 : 0));
            Check(handle, interfaceName, "set immediate mode", PcapNative.pcap_set_immediate_mode(handle, 1));
            Check(handle, interfaceName, "set the buffer size", PcapNative.pcap_set_buffer_size(handle, options.BufferSize));
            Check(handle, interfaceName, "set the read timeout", PcapNative.pcap_set_timeout(handle, 1));

            var status = PcapNative.pcap_activate(handle);
            if (status < 0)
            {
                // PCAP_ERROR (-1) carries its text in pcap_geterr; the specific codes (no such device, permission
                // denied, interface not up) are clearer from pcap_statustostr, so give both.
                throw new PacketPortException(
                    $"Cannot activate capture on {interfaceName}: {PcapNative.StatusText(status)} ({PcapNative.LastError(handle)})");
            }

            if (options.InboundOnly && PcapNative.pcap_setdirection(handle, PcapNative.DirectionIn) != 0)
            {
                throw new PacketPortException(
                    $"Cannot restrict {interfaceName} to inbound frames (it would re-capture what it sends): {PcapNative.LastError(handle)}");
            }

            errbuf[0] = 0;
            if (PcapNative.pcap_setnonblock(handle, 1, errbuf) != 0)
            {
                throw new PacketPortException($"Cannot make {interfaceName} non-blocking: {Marshal.PtrToStringUTF8((nint)errbuf)}");
            }

            var dlt = PcapNative.pcap_datalink(handle);
            if (dlt != PcapNative.DltEthernet)
            {
                throw new PacketPortException(
                    $"Interface {interfaceName} is not Ethernet (link type {Marshal.PtrToStringUTF8(PcapNative.pcap_datalink_val_to_name(dlt)) ?? dlt.ToString()}); a bridge port must be.");
            }

            var fd = PcapNative.pcap_get_selectable_fd(handle);
            if (fd < 0)
            {
                throw new PacketPortException($"Interface {interfaceName} has no selectable descriptor.");
            }

            return new LibPcapPort(interfaceName, handle, fd);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
        => _stopped ? 0 : PcapReceiver.Receive(_handle, Name, ref handler, maxFrames, ref _counters, out _);

    /// <inheritdoc />
    public bool TrySend(ReadOnlySpan<byte> frame) => PcapReceiver.Send(_handle, frame, ref _counters);

    /// <inheritdoc />
    public PortStatistics GetStatistics()
    {
        var (dropped, ifDropped) = PcapReceiver.Stats(_handle);
        return _counters.ToStatistics(dropped, ifDropped);
    }

    /// <inheritdoc />
    public void StopReceiving() => _stopped = true;

    /// <inheritdoc />
    public void Dispose()
    {
        _stopped = true;
        _handle.Dispose();
    }

    private static void Check(PcapHandle handle, string interfaceName, string what, int rc)
    {
        if (rc != 0)
        {
            throw new PacketPortException($"Cannot {what} on {interfaceName}: {PcapNative.StatusText(rc)} ({PcapNative.LastError(handle)})");
        }
    }
}
