using System.Diagnostics;
using System.Runtime.InteropServices;
using Appliance.Native.LibPcap;

namespace Appliance.Transport.LibPcap;

/// <summary>
/// A live interface through libpcap (Linux AF_PACKET): immediate mode, promiscuous, inbound only, non-blocking with
/// a selectable descriptor for poll(2). Frames are handed to the handler from libpcap's buffer (pcap_next_ex copies
/// each out of the kernel ring; see <see cref="PcapReceiver"/>).
/// <para>
/// Loss is counted, never silent: refused sends by errno (a full queue is retried on POLLOUT within a budget),
/// frames captured cut short, capture drops (libpcap's 32-bit totals accumulated into 64-bit ones), and
/// <see cref="ReadCondition"/> reads the link, MTU and receive offloads through the capture socket.
/// </para>
/// </summary>
public sealed class LibPcapPort : IPacketPort
{
    /// <summary>Retries of one refused frame at most.</summary>
    private const int MaxRetriesPerFrame = 2;

    /// <summary>Longest wait for POLLOUT before a retry.</summary>
    private const int RetryWaitMs = 1;

    /// <summary>Retries allowed per window: at most ~20 ms of waiting per 100 ms, whatever the load.</summary>
    private const int RetriesPerWindow = 20;

    private static readonly long RetryWindowTicks = Stopwatch.Frequency / 10;

    private readonly PcapHandle _handle;
    private readonly int _openedMtu;
    private readonly bool _offloadsOnAtOpen;
    private PcapCounters _counters;
    private long _retryWindowStart;
    private int _retryTokens;
    private WrappingCounter _captureDrops;
    private WrappingCounter _interfaceDrops;
    private volatile bool _stopped;

    private LibPcapPort(string name, PcapHandle handle, int fd)
    {
        Name = name;
        _handle = handle;
        SelectableFd = fd;
        var condition = LinuxLink.Read(fd, name, 0);
        _openedMtu = condition.Mtu;
        _offloadsOnAtOpen = condition.OffloadsOn is not null;
    }

    /// <summary>The MTU when the port opened; the capture ring's frames were sized for it.</summary>
    public int OpenedMtu => _openedMtu;

    /// <summary>The snap length libpcap settled on (pcap_snapshot).</summary>
    public int SnapLength { get; private init; }

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

            return new LibPcapPort(interfaceName, handle, fd) { SnapLength = PcapNative.pcap_snapshot(handle) };
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
    public unsafe bool TrySend(ReadOnlySpan<byte> frame)
    {
        var added = false;
        try
        {
            if (_handle.IsClosed)
            {
                Refused(LinuxLink.ENETDOWN);
                return false;
            }

            _handle.DangerousAddRef(ref added);
            var p = _handle.DangerousGetHandle();

            // SAFETY: the handle reference keeps pcap_t open; the span is pinned for the calls and libpcap copies it.
            fixed (byte* f = frame)
            {
                if (PcapNative.pcap_sendpacket(p, f, frame.Length) == 0)
                {
                    Sent(frame.Length);
                    return true;
                }

                var errno = Marshal.GetLastPInvokeError();

                // A full queue (ENOBUFS from the qdisc, EAGAIN from the socket buffer) often clears within a
                // millisecond: wait for POLLOUT and try again, but only within a budget per window, so a port that
                // stays congested costs the other side's traffic no more than a bounded share of the loop.
                var retries = 0;
                while (errno is LinuxLink.ENOBUFS or LinuxLink.EAGAIN && retries < MaxRetriesPerFrame && TakeRetryToken())
                {
                    retries++;
                    _counters.SendRetried++;
                    LinuxLink.WaitWritable(SelectableFd, RetryWaitMs);
                    if (PcapNative.pcap_sendpacket(p, f, frame.Length) == 0)
                    {
                        _counters.SendRecovered++;
                        Sent(frame.Length);
                        return true;
                    }

                    errno = Marshal.GetLastPInvokeError();
                }

                Refused(errno);
                return false;
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed between the check and AddRef (shutdown): the frame is lost like on a link going down.
            Refused(LinuxLink.ENETDOWN);
            return false;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    private void Sent(int length)
    {
        _counters.Sent++;
        _counters.SentBytes += length;
    }

    private void Refused(int errno)
    {
        _counters.SendErrors++;
        _counters.LastSendErrno = errno;
        switch (errno)
        {
            case LinuxLink.ENOBUFS:
                _counters.SendNoBuffers++;
                break;
            case LinuxLink.EAGAIN:
                _counters.SendWouldBlock++;
                break;
            case LinuxLink.ENETDOWN or LinuxLink.ENXIO or LinuxLink.ENODEV:
                _counters.SendNetworkDown++;
                break;
            case LinuxLink.EMSGSIZE:
                _counters.SendTooLarge++;
                break;
            default:
                _counters.SendOtherErrors++;
                break;
        }
    }

    private bool TakeRetryToken()
    {
        var now = Stopwatch.GetTimestamp();
        if (now - _retryWindowStart >= RetryWindowTicks)
        {
            _retryWindowStart = now;
            _retryTokens = RetriesPerWindow;
        }

        if (_retryTokens <= 0)
        {
            return false;
        }

        _retryTokens--;
        return true;
    }

    /// <inheritdoc />
    public PortStatistics GetStatistics()
    {
        RefreshDrops();
        return _counters.ToStatistics(_captureDrops.Total, _interfaceDrops.Total);
    }

    /// <inheritdoc />
    public PortCondition ReadCondition()
        => _handle.IsClosed ? new PortCondition { Link = PortLinkState.Unknown, OpenedMtu = _openedMtu } : Drift(LinuxLink.Read(SelectableFd, Name, _openedMtu));

    // Offloads already on at open were the operator's choice (PrepareInterfaces off) and were logged then; only
    // offloads turned on since are drift.
    private PortCondition Drift(PortCondition now) => _offloadsOnAtOpen ? now with { OffloadsOn = null } : now;

    private unsafe void RefreshDrops()
    {
        if (_handle.IsClosed)
        {
            return;
        }

        PcapStat stat = default;
        try
        {
            if (PcapNative.pcap_stats(_handle, &stat) != 0)
            {
                return;
            }
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        // libpcap keeps ps_drop and ps_ifdrop as 32-bit running totals that wrap.
        _captureDrops.Update(stat.Dropped);
        _interfaceDrops.Update(stat.InterfaceDropped);
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
