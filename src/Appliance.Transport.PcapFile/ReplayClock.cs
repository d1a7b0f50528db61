namespace Appliance.Transport.PcapFile;

/// <summary>
/// The engine clock of a replay, made from the capture's timestamps: never negative and never going back.
/// <para>
/// Capture timestamps are clamped, not rejected: a frame is judged at the later of its own time and the previous
/// frame's, so every frame is still judged and a damaged or merged capture cannot drive the engine's clock
/// backwards or below zero (a negative clock made every camera look mid-DHCP, so unsolicited DHCP replies passed).
/// A timestamp before the Unix epoch, after <see cref="MaxMicros"/> (year 9999: values a 64-bit pcapng timestamp
/// with a coarse if_tsresol or a large if_tsoffset overflows into), before the previous frame's, or missing
/// (simple packet blocks carry none) is replaced by the previous frame's time (0 before the first valid one) and
/// counted. Clamping only ever judges a frame later than it was seen, so a flow timer can expire early, never late:
/// the replay errs on the side of dropping.
/// </para>
/// </summary>
public struct ReplayClock
{
    /// <summary>9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch: the latest time taken as given.</summary>
    public const long MaxMicros = 253_402_300_799_999_999L;

    /// <summary>The clock now, microseconds since the Unix epoch: the time the last frame was judged at.</summary>
    public long NowMicros { get; private set; }

    /// <summary>Frames stamped before the Unix epoch.</summary>
    public long Negative { get; private set; }

    /// <summary>Frames stamped after <see cref="MaxMicros"/> (or whose stamp overflowed).</summary>
    public long OutOfRange { get; private set; }

    /// <summary>Frames stamped earlier than the frame before them.</summary>
    public long Backwards { get; private set; }

    /// <summary>Frames without a timestamp.</summary>
    public long Missing { get; private set; }

    /// <summary>Every frame judged at another time than its own.</summary>
    public readonly long Clamped => Negative + OutOfRange + Backwards + Missing;

    /// <summary>Advances the clock to a frame's capture time and returns the time to judge it at.</summary>
    /// <param name="timestampMicros">The frame's capture time.</param>
    /// <param name="hasTimestamp">False when the capture recorded no time for it.</param>
    public long Advance(long timestampMicros, bool hasTimestamp = true)
    {
        if (!hasTimestamp)
        {
            Missing++;
        }
        else if (timestampMicros < 0)
        {
            Negative++;
        }
        else if (timestampMicros > MaxMicros)
        {
            OutOfRange++;
        }
        else if (timestampMicros < NowMicros)
        {
            Backwards++;
        }
        else
        {
            NowMicros = timestampMicros;
        }

        return NowMicros;
    }
}
