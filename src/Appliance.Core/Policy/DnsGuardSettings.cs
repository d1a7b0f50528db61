namespace Appliance.Core.Policy;

/// <summary>
/// The DNS tunnel guard's thresholds as the data path reads them (from <see cref="DnsGuardSpec"/>): plain fields and a
/// 65,536-bit set of the usual query types, so every check is a compare or a bit test.
/// </summary>
internal sealed class DnsGuardSettings
{
    private readonly ulong[] _usualTypes = new ulong[65536 / 64];

    public DnsGuardSettings(DnsGuardSpec spec)
    {
        var perMinute = Math.Max(1, spec.QueriesPerMinute);

        // GCRA in microseconds: one query per emission interval, a burst of a minute's worth.
        EmissionMicros = 60_000_000L / perMinute;
        BurstMicros = EmissionMicros * (perMinute - 1);
        MaxLabelLength = spec.MaxLabelLength;
        MaxNameLength = spec.MaxNameLength;
        MaxEntropy = spec.MaxEntropy;
        EntropyMinLength = spec.EntropyMinLength;
        UniqueSubdomains = spec.UniqueSubdomains;
        WindowMs = (long)spec.Window.TotalMilliseconds;
        foreach (var t in spec.QueryTypes)
        {
            _usualTypes[t >> 6] |= 1UL << (t & 63);
        }
    }

    public long EmissionMicros { get; }

    public long BurstMicros { get; }

    public int MaxLabelLength { get; }

    public int MaxNameLength { get; }

    public double MaxEntropy { get; }

    public int EntropyMinLength { get; }

    public int UniqueSubdomains { get; }

    public long WindowMs { get; }

    public bool IsUsualType(ushort type) => ((_usualTypes[type >> 6] >> (type & 63)) & 1) != 0;
}
