namespace Appliance.Transport;

/// <summary>
/// A port backed by two in-process queues, for tests and for driving the data plane without a network: frames
/// <see cref="Inject"/>ed from any thread are received; frames sent are kept for <see cref="TryTakeSent"/>.
/// </summary>
public sealed class InMemoryPort : IPacketPort
{
    private readonly Queue<(byte[] Frame, long TimestampMicros)> _inbound = new();
    private readonly Queue<byte[]> _sent = new();
    private readonly Lock _gate = new();
    private readonly int _sendCapacity;
    private long _received;
    private long _receivedBytes;
    private long _sentFrames;
    private long _sentBytes;
    private long _sendErrors;
    private volatile bool _stopped;
    private volatile bool _disposed;

    /// <param name="name">Name for logs.</param>
    /// <param name="linkType">What the frames start with.</param>
    /// <param name="sendCapacity">Frames kept in the sent queue before further sends are refused (like a full NIC ring).</param>
    public InMemoryPort(string name, PortLinkType linkType = PortLinkType.Ethernet, int sendCapacity = 1 << 20)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(sendCapacity, 1);
        Name = name;
        LinkType = linkType;
        _sendCapacity = sendCapacity;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public PortLinkType LinkType { get; }

    /// <inheritdoc />
    public int SelectableFd => -1;

    /// <inheritdoc />
    public bool IsCompleted => _stopped;

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Frames waiting to be received.</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _inbound.Count;
            }
        }
    }

    /// <summary>Frames sent and not yet taken.</summary>
    public int SentCount
    {
        get
        {
            lock (_gate)
            {
                return _sent.Count;
            }
        }
    }

    /// <summary>Queues a frame (copied) for the port to receive.</summary>
    public void Inject(ReadOnlySpan<byte> frame, long timestampMicros = 0)
    {
        var copy = frame.ToArray();
        lock (_gate)
        {
            _inbound.Enqueue((copy, timestampMicros));
        }
    }

    /// <summary>Takes the oldest frame the port sent.</summary>
    public bool TryTakeSent(out byte[] frame)
    {
        lock (_gate)
        {
            return _sent.TryDequeue(out frame!);
        }
    }

    /// <inheritdoc />
    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var n = 0;
        while (n < maxFrames && !_stopped)
        {
            (byte[] Frame, long TimestampMicros) item;
            lock (_gate)
            {
                if (!_inbound.TryDequeue(out item))
                {
                    break;
                }
            }

            _received++;
            _receivedBytes += item.Frame.Length;
            handler.OnFrame(item.Frame, new FrameMetadata(item.TimestampMicros, item.Frame.Length));
            n++;
        }

        return n;
    }

    /// <inheritdoc />
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (_disposed)
        {
            _sendErrors++;
            return false;
        }

        var copy = frame.ToArray();
        lock (_gate)
        {
            if (_sent.Count >= _sendCapacity)
            {
                _sendErrors++;
                return false;
            }

            _sent.Enqueue(copy);
        }

        _sentFrames++;
        _sentBytes += copy.Length;
        return true;
    }

    /// <inheritdoc />
    public PortStatistics GetStatistics() => new()
    {
        FramesReceived = Volatile.Read(ref _received),
        BytesReceived = Volatile.Read(ref _receivedBytes),
        FramesSent = Volatile.Read(ref _sentFrames),
        BytesSent = Volatile.Read(ref _sentBytes),
        SendErrors = Volatile.Read(ref _sendErrors),
    };

    /// <inheritdoc />
    public void StopReceiving() => _stopped = true;

    /// <inheritdoc />
    public void Dispose()
    {
        _stopped = true;
        _disposed = true;
    }
}
