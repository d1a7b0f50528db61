namespace Appliance.Transport.PcapFile;

/// <summary>
/// A decorator that records what a port receives (and optionally what it sends) into pcap files, leaving the
/// frames untouched: for support captures of the live bridge. The writers are owned and closed with the port.
/// </summary>
public sealed class PcapTapPort : IPacketPort
{
    private readonly IPacketPort _inner;
    private readonly PcapFileWriter? _received;
    private readonly PcapFileWriter? _sent;
    private object? _forwarder;

    /// <param name="inner">The port to wrap; disposed with this one.</param>
    /// <param name="received">Where received frames are written, or null.</param>
    /// <param name="sent">Where sent frames are written, or null.</param>
    public PcapTapPort(IPacketPort inner, PcapFileWriter? received, PcapFileWriter? sent = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _received = received;
        _sent = sent;
    }

    /// <inheritdoc />
    public string Name => _inner.Name;

    /// <inheritdoc />
    public PortLinkType LinkType => _inner.LinkType;

    /// <inheritdoc />
    public int SelectableFd => _inner.SelectableFd;

    /// <inheritdoc />
    public bool IsCompleted => _inner.IsCompleted;

    /// <inheritdoc />
    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
    {
        if (_received is null)
        {
            return _inner.Receive(ref handler, maxFrames);
        }

        // The inner port is called with one handler type, TapHandler, whatever THandler is. Wrapping the caller's
        // handler in a generic TapHandler<THandler> instead makes a generic cycle through the interface's generic
        // virtual method (IPacketPort.Receive<T> -> PcapTapPort.Receive<T> -> IPacketPort.Receive<TapHandler<T>>
        // -> ...), which ILCompiler 10.0.12 crashes on while building this module's cycle graph, one of the cycle's
        // generic parameters being Appliance.Transport's (benchmarks/README.md, "NativeAOT"). The caller's handler
        // is copied in and out as before: changes it makes to itself come back to the caller.
        var forwarder = _forwarder as Forwarder<THandler> ?? new Forwarder<THandler>();
        _forwarder = forwarder;
        forwarder.Handler = handler;
        var tap = new TapHandler(forwarder, _received);
        var n = _inner.Receive(ref tap, maxFrames);
        handler = forwarder.Handler;
        forwarder.Handler = default;
        return n;
    }

    /// <inheritdoc />
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        var ok = _inner.TrySend(frame);
        if (ok && _sent is not null)
        {
            _sent.Write(frame, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        }

        return ok;
    }

    /// <inheritdoc />
    public PortStatistics GetStatistics() => _inner.GetStatistics();

    /// <inheritdoc />
    public void StopReceiving() => _inner.StopReceiving();

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _inner.Dispose();
        }
        finally
        {
            _received?.Dispose();
            _sent?.Dispose();
        }
    }

    /// <summary>Holds the caller's handler for one batch; reused across batches of the same handler type.</summary>
    private sealed class Forwarder<THandler> : IFrameHandler
        where THandler : struct, IFrameHandler
    {
        public THandler Handler;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata) => Handler.OnFrame(frame, metadata);
    }

    private readonly struct TapHandler(IFrameHandler inner, PcapFileWriter writer) : IFrameHandler
    {
        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
        {
            writer.Write(frame, metadata.TimestampMicros, metadata.WireLength);
            inner.OnFrame(frame, metadata);
        }
    }
}
