using Appliance.Transport;

namespace Appliance.Native.LibPcap;

/// <summary>Counters kept by a pcap-backed port on its owning thread.</summary>
public struct PcapCounters
{
    public long Received;
    public long ReceivedBytes;
    public long Sent;
    public long SentBytes;
    public long SendErrors;
    public long Truncated;

    /// <summary>These counters as a port's statistics, with the capture drop figures the caller has (a file has none).</summary>
    public readonly PortStatistics ToStatistics(long captureDrops, long interfaceDrops) => new()
    {
        FramesReceived = Received,
        BytesReceived = ReceivedBytes,
        FramesSent = Sent,
        BytesSent = SentBytes,
        SendErrors = SendErrors,
        Truncated = Truncated,
        CaptureDrops = captureDrops,
        InterfaceDrops = interfaceDrops,
    };
}

/// <summary>The receive and send loops shared by the live and the file ports.</summary>
public static class PcapReceiver
{
    /// <summary>
    /// Hands up to <paramref name="maxFrames"/> frames to the handler straight from libpcap's buffer (no copy).
    /// Returns how many; sets <paramref name="endOfFile"/> when an offline handle has no more.
    /// </summary>
    public static unsafe int Receive<THandler>(PcapHandle handle, string name, ref THandler handler, int maxFrames, ref PcapCounters counters, out bool endOfFile)
        where THandler : struct, IFrameHandler
    {
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
                PcapPacketHeader* header;
                byte* data;
                var rc = PcapNative.pcap_next_ex(p, &header, &data);
                if (rc == PcapNative.NextExOk)
                {
                    var captured = (int)header->CaptureLength;
                    var wire = (int)header->WireLength;
                    counters.Received++;
                    counters.ReceivedBytes += wire;
                    if (captured < wire)
                    {
                        counters.Truncated++;
                    }

                    var micros = (header->Seconds.Value * 1_000_000L) + header->Microseconds.Value;

                    // SAFETY: libpcap guarantees caplen readable bytes at data until the next pcap_next_ex on this
                    // handle; the span does not outlive OnFrame (IFrameHandler's contract says so).
                    handler.OnFrame(new ReadOnlySpan<byte>(data, captured), new FrameMetadata(micros, wire));
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

    /// <summary>Sends one frame with pcap_sendpacket; false when refused or when the handle is already closed.</summary>
    public static unsafe bool Send(PcapHandle handle, ReadOnlySpan<byte> frame, ref PcapCounters counters)
    {
        var added = false;
        try
        {
            if (handle.IsClosed)
            {
                counters.SendErrors++;
                return false;
            }

            handle.DangerousAddRef(ref added);
            int rc;

            // SAFETY: the handle reference keeps pcap_t open; the span is pinned for the call and libpcap copies it.
            fixed (byte* f = frame)
            {
                rc = PcapNative.pcap_sendpacket(handle.DangerousGetHandle(), f, frame.Length);
            }

            if (rc != 0)
            {
                counters.SendErrors++;
                return false;
            }

            counters.Sent++;
            counters.SentBytes += frame.Length;
            return true;
        }
        catch (ObjectDisposedException)
        {
            // Closed between the check and AddRef (shutdown): the frame is lost like on a link going down.
            counters.SendErrors++;
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Capture drop figures, or zeros when the handle cannot say.</summary>
    public static unsafe (long Dropped, long InterfaceDropped) Stats(PcapHandle handle)
    {
        if (handle.IsClosed)
        {
            return (0, 0);
        }

        PcapStat stat = default;
        try
        {
            return PcapNative.pcap_stats(handle, &stat) == 0 ? (stat.Dropped, stat.InterfaceDropped) : (0, 0);
        }
        catch (ObjectDisposedException)
        {
            return (0, 0);
        }
    }
}
