using System.Net;

namespace Appliance.Management.Security;

/// <summary>
/// Counts failed authentications per remote address; an address that fails <c>limit</c> times within a window is
/// locked out for a while: its failures are answered HTTP 429 with Retry-After. A request with the right token is
/// served regardless (see <see cref="ApiAuthenticationHandler"/>). Bounded memory: at most
/// <see cref="MaxTrackedAddresses"/> addresses, expired ones pruned first.
/// </summary>
public sealed class AuthFailureLimiter(int limit, TimeSpan window, TimeSpan lockout, TimeProvider? time = null)
{
    /// <summary>Most addresses tracked at once.</summary>
    public const int MaxTrackedAddresses = 4096;

    private readonly Dictionary<IPAddress, Entry> _entries = [];
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How long an address stays locked out.</summary>
    public TimeSpan Lockout => lockout;

    /// <summary>True (with the time left) when <paramref name="address"/> is locked out.</summary>
    public bool IsLockedOut(IPAddress address, out TimeSpan retryAfter)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_entries.TryGetValue(Normalize(address), out var e) && e.LockedUntil > now)
            {
                retryAfter = e.LockedUntil - now;
                return true;
            }
        }

        retryAfter = TimeSpan.Zero;
        return false;
    }

    /// <summary>Counts a failure; true when it locks the address out.</summary>
    public bool RecordFailure(IPAddress address)
    {
        var now = _time.GetUtcNow();
        var key = Normalize(address);
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out var e) || now - e.WindowStart > window)
            {
                if (_entries.Count >= MaxTrackedAddresses)
                {
                    Prune(now);
                }

                e = new Entry(now, 0, DateTimeOffset.MinValue);
            }

            e = e with { Failures = e.Failures + 1 };
            if (e.Failures >= limit)
            {
                e = new Entry(now, 0, now + lockout);
            }

            _entries[key] = e;
            return e.LockedUntil > now;
        }
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (k, v) in _entries)
        {
            if (v.LockedUntil <= now && now - v.WindowStart > window)
            {
                _entries.Remove(k);
            }
        }

        // Still full (a flood from many addresses): forget the oldest windows rather than grow without bound.
        if (_entries.Count >= MaxTrackedAddresses)
        {
            foreach (var k in _entries.OrderBy(kv => kv.Value.WindowStart).Take(MaxTrackedAddresses / 4).Select(kv => kv.Key).ToList())
            {
                _entries.Remove(k);
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private readonly record struct Entry(DateTimeOffset WindowStart, int Failures, DateTimeOffset LockedUntil);
}
