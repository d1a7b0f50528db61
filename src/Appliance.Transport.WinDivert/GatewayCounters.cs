namespace Appliance.Transport.WinDivert;

/// <summary>One batch's counts for one side, kept on the stack and added once per batch.</summary>
internal struct SideTally
{
    public long Received;
    public long Bytes;
    public long Passed;
    public long PassedBytes;
    public long Dropped;
    public long Forwarded;
    public long SendErrors;
}

/// <summary>Counters of one side of one handle. Written only by its loop thread; read by anyone with volatile reads.</summary>
internal sealed class GatewaySideCounters
{
    private long _received;
    private long _bytes;
    private long _passed;
    private long _passedBytes;
    private long _dropped;
    private long _forwarded;
    private long _sendErrors;

    public void Add(in SideTally t)
    {
        if (t.Received == 0)
        {
            return;
        }

        Volatile.Write(ref _received, _received + t.Received);
        Volatile.Write(ref _bytes, _bytes + t.Bytes);
        Volatile.Write(ref _passed, _passed + t.Passed);
        Volatile.Write(ref _passedBytes, _passedBytes + t.PassedBytes);
        Volatile.Write(ref _dropped, _dropped + t.Dropped);
        Volatile.Write(ref _forwarded, _forwarded + t.Forwarded);
        Volatile.Write(ref _sendErrors, _sendErrors + t.SendErrors);
    }

    /// <summary>These counters plus <paramref name="other"/>'s (the same side of the other handle).</summary>
    public BridgeSideStatistics Snapshot(GatewaySideCounters other) => new()
    {
        FramesReceived = Volatile.Read(ref _received) + Volatile.Read(ref other._received),
        BytesReceived = Volatile.Read(ref _bytes) + Volatile.Read(ref other._bytes),
        FramesPassed = Volatile.Read(ref _passed) + Volatile.Read(ref other._passed),
        FramesDropped = Volatile.Read(ref _dropped) + Volatile.Read(ref other._dropped),
        FramesForwarded = Volatile.Read(ref _forwarded) + Volatile.Read(ref other._forwarded),
        BytesForwarded = Volatile.Read(ref _passedBytes) + Volatile.Read(ref other._passedBytes),
        SendErrors = Volatile.Read(ref _sendErrors) + Volatile.Read(ref other._sendErrors),
    };
}

/// <summary>Failed sends by Win32 error code in a few fixed slots: no allocation on the loop thread.</summary>
internal sealed class SendErrorTally
{
    private const int Slots = 8;
    private readonly int[] _codes = new int[Slots];
    private readonly long[] _counts = new long[Slots];

    /// <summary>Counts one failed WinDivertSendEx with <paramref name="code"/>; a ninth distinct code shares the last slot.</summary>
    public void Add(int code)
    {
        for (var i = 0; i < Slots; i++)
        {
            if (Volatile.Read(ref _counts[i]) == 0 || _codes[i] == code || i == Slots - 1)
            {
                Volatile.Write(ref _codes[i], code);
                Volatile.Write(ref _counts[i], _counts[i] + 1);
                return;
            }
        }
    }

    public IEnumerable<KeyValuePair<int, long>> Snapshot()
    {
        for (var i = 0; i < Slots; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count > 0)
            {
                yield return new(Volatile.Read(ref _codes[i]), count);
            }
        }
    }
}

/// <summary>Everything one handle's loop counts.</summary>
internal sealed class ChannelCounters
{
    private long _notCamera;
    private long _malformed;

    public GatewaySideCounters Camera { get; } = new();

    public GatewaySideCounters Uplink { get; } = new();

    public SendErrorTally SendErrors { get; } = new();

    public long NotCameraTraffic => Volatile.Read(ref _notCamera);

    public long Malformed => Volatile.Read(ref _malformed);

    public void AddNotCamera(long n)
    {
        if (n != 0)
        {
            Volatile.Write(ref _notCamera, _notCamera + n);
        }
    }

    public void AddMalformed(long n)
    {
        if (n != 0)
        {
            Volatile.Write(ref _malformed, _malformed + n);
        }
    }
}
