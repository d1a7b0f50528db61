using System.Security.Cryptography;
using System.Text;

namespace Appliance.Management.WebConsole;

/// <summary>One console login: when it began and was last used, and its anti-forgery token.</summary>
/// <param name="Key">The store's key: SHA-256 of the cookie value, base64url (the cookie value itself is never kept).</param>
/// <param name="CsrfToken">The synchronizer token every state-changing request of this session must carry.</param>
/// <param name="Created">Login time; the session ends <see cref="ConsoleSessions.Lifetime"/> after it.</param>
/// <param name="Remote">Who logged in (address), for the audit trail of changes made through the console.</param>
public sealed record ConsoleSession(string Key, string CsrfToken, DateTimeOffset Created, string Remote)
{
    /// <summary>Last request; the session ends <see cref="ConsoleSessions.IdleTimeout"/> after it.</summary>
    public DateTimeOffset LastUsed { get; internal set; } = Created;
}

/// <summary>
/// Server-side console sessions. The cookie carries 256 random bits; the store keeps only their SHA-256, so a
/// memory dump or a log line of the store never yields a usable cookie, and the lookup compares hashes, not secrets.
/// A session ends after <see cref="IdleTimeout"/> without use, <see cref="Lifetime"/> after login, or at logout,
/// whichever is first; the clock is a <see cref="TimeProvider"/>. At most <see cref="Capacity"/> sessions are held:
/// a login beyond that ends the least recently used one (only a holder of the token can log in, so this is no way
/// for a stranger to push the owner out).
/// </summary>
public sealed class ConsoleSessions(int capacity, TimeSpan idleTimeout, TimeSpan lifetime, TimeProvider? time = null)
{
    private readonly Dictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Most sessions held at once.</summary>
    public int Capacity => capacity;

    /// <summary>A session unused this long is over.</summary>
    public TimeSpan IdleTimeout => idleTimeout;

    /// <summary>A session is over this long after login.</summary>
    public TimeSpan Lifetime => lifetime;

    /// <summary>Sessions currently held (expired ones included until the next prune).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Starts a session; returns the cookie value (256 random bits, base64url) and the session.</summary>
    public (string CookieValue, ConsoleSession Session) Create(string remote)
    {
        var cookie = Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = _time.GetUtcNow();
        var session = new ConsoleSession(KeyOf(cookie), Base64Url(RandomNumberGenerator.GetBytes(32)), now, remote);
        lock (_gate)
        {
            PruneExpired(now);
            while (_sessions.Count >= capacity)
            {
                ConsoleSession? oldest = null;
                foreach (var s in _sessions.Values)
                {
                    if (oldest is null || s.LastUsed < oldest.LastUsed)
                    {
                        oldest = s;
                    }
                }

                _sessions.Remove(oldest!.Key);
            }

            _sessions.Add(session.Key, session);
        }

        return (cookie, session);
    }

    /// <summary>
    /// Finds the live session of a cookie value and marks it used; an expired session is removed and not returned.
    /// </summary>
    public bool TryUse(string? cookieValue, out ConsoleSession? session)
    {
        session = null;

        // A value of another length is no cookie this store issued; refusing it early keeps hashing bounded.
        if (cookieValue is not { Length: 43 })
        {
            return false;
        }

        var key = KeyOf(cookieValue);
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (!_sessions.TryGetValue(key, out var s))
            {
                return false;
            }

            if (IsExpired(s, now))
            {
                _sessions.Remove(key);
                return false;
            }

            s.LastUsed = now;
            session = s;
            return true;
        }
    }

    /// <summary>True while the session (by key) is live, without marking it used (the event stream polls this).</summary>
    public bool IsLive(string key)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return _sessions.TryGetValue(key, out var s) && !IsExpired(s, now);
        }
    }

    /// <summary>Ends the session (logout).</summary>
    public void Remove(string key)
    {
        lock (_gate)
        {
            _sessions.Remove(key);
        }
    }

    /// <summary>Constant-time check of a presented anti-forgery token against the session's.</summary>
    public static bool CsrfMatches(ConsoleSession session, string? presented)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (string.IsNullOrEmpty(presented) || presented.Length > 128)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(session.CsrfToken)));
    }

    private bool IsExpired(ConsoleSession s, DateTimeOffset now) => now - s.LastUsed >= idleTimeout || now - s.Created >= lifetime;

    private void PruneExpired(DateTimeOffset now)
    {
        List<string>? dead = null;
        foreach (var s in _sessions.Values)
        {
            if (IsExpired(s, now))
            {
                (dead ??= []).Add(s.Key);
            }
        }

        foreach (var k in dead ?? [])
        {
            _sessions.Remove(k);
        }
    }

    private static string KeyOf(string cookieValue) => Base64Url(SHA256.HashData(Encoding.UTF8.GetBytes(cookieValue)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
