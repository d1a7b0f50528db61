namespace Appliance.Transport;

/// <summary>What a port's frames start with.</summary>
public enum PortLinkType
{
    /// <summary>Ethernet II frames (DLT_EN10MB): the bridge and pcap files.</summary>
    Ethernet = 1,

    /// <summary>Bare IPv4/IPv6 packets (DLT_RAW): WinDivert and raw-IP captures.</summary>
    RawIp = 101,
}

/// <summary>
/// Receives frames from a port, one call per frame, without copying them. A struct so the port's receive loop
/// is specialised for it and the call is direct (no interface dispatch per frame).
/// </summary>
public interface IFrameHandler
{
    /// <summary>
    /// One received frame. <paramref name="frame"/> is valid only during the call (it points into the port's
    /// receive ring); copy it to keep it.
    /// </summary>
    /// <param name="frame">The captured bytes.</param>
    /// <param name="metadata">Capture time and original length.</param>
    void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata);
}

/// <summary>What the capture knows about one frame besides its bytes.</summary>
/// <param name="TimestampMicros">Capture time, microseconds since the Unix epoch.</param>
/// <param name="WireLength">Length on the wire; larger than the captured span when the capture truncated it.</param>
public readonly record struct FrameMetadata(long TimestampMicros, int WireLength);

/// <summary>
/// One packet I/O endpoint: a live interface, a capture file, a WinDivert handle or an in-memory queue. A port is
/// used by one thread at a time (the data-plane thread that owns it); only <see cref="StopReceiving"/> and
/// <c>Dispose</c> may come from another thread, and only in that order.
/// Shutdown is staged: <see cref="StopReceiving"/> (no new frames), the owner drains what it holds, then
/// <c>Dispose</c> closes the handle.
/// </summary>
public interface IPacketPort : IDisposable
{
    /// <summary>Interface or file name, for logs.</summary>
    string Name { get; }

    /// <summary>What the frames start with.</summary>
    PortLinkType LinkType { get; }

    /// <summary>
    /// A file descriptor that poll(2) reports readable when frames wait, or -1 when the port has none (the data
    /// plane then polls it with short sleeps).
    /// </summary>
    int SelectableFd { get; }

    /// <summary>True once no frame will ever arrive again: end of a capture file, or after <see cref="StopReceiving"/>.</summary>
    bool IsCompleted { get; }

    /// <summary>
    /// Hands up to <paramref name="maxFrames"/> waiting frames to <paramref name="handler"/> and returns how many.
    /// Never blocks: returns 0 when nothing waits. Throws <see cref="PacketPortException"/> when the port broke
    /// (interface gone, file unreadable): the caller must treat that as fatal for the port.
    /// </summary>
    int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler;

    /// <summary>
    /// Sends one frame unchanged. False (and counted in <see cref="PortStatistics.SendErrors"/>) when the kernel or
    /// the device refused it; the frame is then lost, as on a congested wire. Never throws for a refused frame.
    /// </summary>
    bool TrySend(ReadOnlySpan<byte> frame);

    /// <summary>Counters so far. Call from the thread that owns the port (capture drop figures come from the handle).</summary>
    PortStatistics GetStatistics();

    /// <summary>Stage 1 of shutdown: deliver no new frames. Idempotent; safe from any thread.</summary>
    void StopReceiving();

    /// <summary>
    /// Reads the link state, MTU and offloads now (a few system calls: call it periodically from the owning
    /// thread, never per frame). A port with no link (file, in-memory) reports <see cref="PortCondition.NoLink"/>.
    /// </summary>
    PortCondition ReadCondition() => PortCondition.NoLink;
}

/// <summary>Counters of one port.</summary>
public readonly record struct PortStatistics
{
    /// <summary>Frames handed to the handler.</summary>
    public long FramesReceived { get; init; }

    /// <summary>Bytes handed to the handler.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Frames the port sent.</summary>
    public long FramesSent { get; init; }

    /// <summary>Bytes the port sent.</summary>
    public long BytesSent { get; init; }

    /// <summary>Frames the port failed to send (after any retry), whatever the cause.</summary>
    public long SendErrors { get; init; }

    /// <summary>Sends refused with ENOBUFS: the device queue or qdisc was full.</summary>
    public long SendNoBuffers { get; init; }

    /// <summary>Sends refused with EAGAIN: the socket's send buffer was full.</summary>
    public long SendWouldBlock { get; init; }

    /// <summary>Sends refused with ENETDOWN or ENXIO: the link was down or the device gone.</summary>
    public long SendNetworkDown { get; init; }

    /// <summary>Sends refused with EMSGSIZE: the frame was larger than the port's MTU allows.</summary>
    public long SendTooLarge { get; init; }

    /// <summary>Sends refused with any other errno.</summary>
    public long SendOtherErrors { get; init; }

    /// <summary>The errno of the last refused send, or 0.</summary>
    public int LastSendErrno { get; init; }

    /// <summary>Sends tried again after waiting for the port to become writable (POLLOUT).</summary>
    public long SendRetried { get; init; }

    /// <summary>Frames that went out on a retry after first being refused.</summary>
    public long SendRecovered { get; init; }

    /// <summary>Frames the capture lost because the receive buffer was full (pcap_stats ps_drop).</summary>
    public long CaptureDrops { get; init; }

    /// <summary>Frames the interface or its driver dropped (pcap_stats ps_ifdrop).</summary>
    public long InterfaceDrops { get; init; }

    /// <summary>Frames captured shorter than they were on the wire (snap length); never forwarded.</summary>
    public long Truncated { get; init; }
}
