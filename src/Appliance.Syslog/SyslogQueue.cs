using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Appliance.Syslog;

/// <summary>
/// The bounded hand-off between loggers and the sender. <see cref="TryEnqueue"/> never waits: when the queue is
/// full the new message is dropped and counted, so a slow or absent collector can never stall a caller.
/// </summary>
public sealed class SyslogQueue
{
    private readonly Channel<byte[]> _channel;

    /// <summary>Creates the queue with <see cref="SyslogOptions.QueueCapacity"/> slots.</summary>
    public SyslogQueue(IOptions<SyslogOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Enabled = options.Value.Enabled;

        // FullMode Wait makes TryWrite report "full" instead of silently discarding (as the Drop* modes do), so the
        // loss is counted here. Dropping the newest keeps what was queued first, in order, for after an outage.
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    /// <summary>Counters of this sink.</summary>
    public SyslogStats Stats { get; } = new();

    /// <summary>False when no collector is configured; loggers then skip formatting altogether.</summary>
    public bool Enabled { get; }

    internal ChannelReader<byte[]> Reader => _channel.Reader;

    /// <summary>Queues one formatted message. False (and counted as dropped) when full or shut down.</summary>
    public bool TryEnqueue(byte[] message)
    {
        if (_channel.Writer.TryWrite(message))
        {
            Stats.OnQueued();
            return true;
        }

        Stats.OnDropped();
        return false;
    }

    /// <summary>No more messages will be accepted.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}
