using Appliance.Transport;

namespace Appliance.Native.LibPcap;

/// <summary>Counters kept by a pcap-backed port on its owning thread.</summary>
public struct PcapCounters
{
    /// <summary>Frames handed to the handler.</summary>
    public long Received;

    /// <summary>Wire bytes of the frames handed to the handler.</summary>
    public long ReceivedBytes;

    /// <summary>Frames sent.</summary>
    public long Sent;

    /// <summary>Bytes sent.</summary>
    public long SentBytes;

    /// <summary>Frames that could not be sent, after any retry.</summary>
    public long SendErrors;

    /// <summary>Refused with ENOBUFS.</summary>
    public long SendNoBuffers;

    /// <summary>Refused with EAGAIN.</summary>
    public long SendWouldBlock;

    /// <summary>Refused with ENETDOWN or ENXIO.</summary>
    public long SendNetworkDown;

    /// <summary>Refused with EMSGSIZE.</summary>
    public long SendTooLarge;

    /// <summary>Refused with another errno.</summary>
    public long SendOtherErrors;

    /// <summary>The last send errno.</summary>
    public int LastSendErrno;

    /// <summary>Sends tried again.</summary>
    public long SendRetried;

    /// <summary>Frames sent on a retry.</summary>
    public long SendRecovered;

    /// <summary>Frames captured shorter than on the wire.</summary>
    public long Truncated;

    /// <summary>These counters as a port's statistics, with the capture drop figures the caller has (a file has none).</summary>
    public readonly PortStatistics ToStatistics(long captureDrops, long interfaceDrops) => new()
    {
        FramesReceived = Received,
        BytesReceived = ReceivedBytes,
        FramesSent = Sent,
        BytesSent = SentBytes,
        SendErrors = SendErrors,
        SendNoBuffers = SendNoBuffers,
        SendWouldBlock = SendWouldBlock,
        SendNetworkDown = SendNetworkDown,
        SendTooLarge = SendTooLarge,
        SendOtherErrors = SendOtherErrors,
        LastSendErrno = LastSendErrno,
        SendRetried = SendRetried,
        SendRecovered = SendRecovered,
        Truncated = Truncated,
        CaptureDrops = captureDrops,
        InterfaceDrops = interfaceDrops,
    };
}

/// <summary>The receive loop shared by the live and the file ports.</summary>
public static class PcapReceiver
{
    /// <summary>
    /// Hands up to <paramref name="maxFrames"/> frames to the handler and returns how many; sets
    /// <paramref name="endOfFile"/> when an offline handle has no more.
    /// <para>
    /// Not zero-copy: on Linux, <c>pcap_next_ex</c> copies each frame out of the kernel ring into libpcap's one-shot
    /// buffer (pcap-linux.c <c>pcap_oneshot_linux</c>) because the ring slot is handed back before it returns. The
    /// handler gets that buffer, valid until the next call. <c>pcap_dispatch</c> would hand out ring pointers, but
    /// only through a native callback: a reverse P/Invoke per frame whose exceptions cannot unwind through libpcap
    /// (an engine fault would have to be caught, parked and rethrown after <c>pcap_breakloop</c>). Whether that is
    /// cheaper than one memcpy of at most MTU + 18 bytes has not been measured yet (benchmarks/README.md).
    /// </para>
    /// </summary>
    public static unsafe int Receive<THandler>(PcapHandle handle, string name, ref THandler handler, int maxFrames, ref PcapCounters counters, out bool endOfFile)
        where THandler : struct, IFrameHandler
    {
        ArgumentNullException.ThrowIfNull(handle);
        endOfFile = false;
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            // SAFETY: the reference taken above keeps pcap_t alive (pcap_close cannot run) for the whole batch, and
            // this port is used by one thread, so nothing else calls into the same pcap_t meanwhile.
            var p = handle.DangerousGetHandle();
            var n = 0;
            while (n < maxFrames)
            {
                byte* header;
                byte* data;
                var rc = PcapNative.pcap_next_ex(p, &header, &data);
                if (rc == PcapNative.NextExOk)
                {
                    var captured = (int)PcapHeader.CaptureLength(header);
                    var wire = (int)PcapHeader.WireLength(header);
                    counters.Received++;
                    counters.ReceivedBytes += wire;
                    if (captured < wire)
                    {
                        counters.Truncated++;
                    }

                    // SAFETY: libpcap guarantees caplen readable bytes at data until the next pcap_next_ex on this
                    // handle; the span does not outlive OnFrame (IFrameHandler's contract says so).
                    handler.OnFrame(new ReadOnlySpan<byte>(data, captured), new FrameMetadata(PcapHeader.TimestampMicros(header), wire));
                    n++;
                    continue;
                }

                if (rc == PcapNative.NextExTimeout)
                {
                    break;
                }

                if (rc == PcapNative.NextExEof)
                {
                    endOfFile = true;
                    break;
                }

                throw new PacketPortException($"Reading from {name} failed: {PcapNative.LastError(handle)}");
            }

            return n;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
