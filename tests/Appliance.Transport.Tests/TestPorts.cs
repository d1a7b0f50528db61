
namespace Appliance.Transport.Tests;

/// <summary>A fault-injecting decorator: throws from Receive once <see cref="Fail"/> is set, as a vanished NIC would.</summary>
internal sealed class FaultyPort(IPacketPort inner) : IPacketPort
{
    public volatile bool Fail;

    public string Name => inner.Name;

    public PortLinkType LinkType => inner.LinkType;

    public int SelectableFd => inner.SelectableFd;

    public bool IsCompleted => inner.IsCompleted;

    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
        => Fail ? throw new PacketPortException($"{Name}: device went away (injected)") : inner.Receive(ref handler, maxFrames);

    public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);

    public PortStatistics GetStatistics() => inner.GetStatistics();

    public void StopReceiving() => inner.StopReceiving();

    public void Dispose() => inner.Dispose();
}

/// <summary>Reports every frame as cut by the capture (wire length larger than the bytes), like a too-small snap length.</summary>
internal sealed class TruncatingPort(InMemoryPort inner) : IPacketPort
{
    public InMemoryPort Inner => inner;

    public string Name => inner.Name;

    public PortLinkType LinkType => inner.LinkType;

    public int SelectableFd => -1;

    public bool IsCompleted => inner.IsCompleted;

    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
    {
        var cut = new CutHandler<THandler> { Inner = handler };
        var n = inner.Receive(ref cut, maxFrames);
        handler = cut.Inner;
        return n;
    }

    public bool TrySend(ReadOnlySpan<byte> frame) => inner.TrySend(frame);

    public PortStatistics GetStatistics() => inner.GetStatistics();

    public void StopReceiving() => inner.StopReceiving();

    public void Dispose() => inner.Dispose();

    private struct CutHandler<THandler> : IFrameHandler
        where THandler : struct, IFrameHandler
    {
        public THandler Inner;

        public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata)
            => Inner.OnFrame(frame[..(frame.Length / 2)], metadata with { WireLength = frame.Length });
    }
}
