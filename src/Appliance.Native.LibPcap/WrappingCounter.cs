namespace Appliance.Native.LibPcap;

/// <summary>
/// A 64-bit running total fed by readings of a 32-bit counter that wraps, such as libpcap's <c>ps_drop</c> and
/// <c>ps_ifdrop</c> (u_int). The difference of two readings, taken in 32-bit arithmetic, is right across a wrap as
/// long as the counter moves by less than 2^32 between readings (a second apart here), so the total never wraps.
/// </summary>
public struct WrappingCounter
{
    private uint _last;

    /// <summary>Everything counted since the first reading of zero.</summary>
    public long Total { get; private set; }

    /// <summary>Adds what the counter moved since the last reading.</summary>
    public void Update(uint reading)
    {
        Total += unchecked(reading - _last);
        _last = reading;
    }
}
