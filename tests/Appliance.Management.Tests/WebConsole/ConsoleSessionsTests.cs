using Appliance.Management.WebConsole;
using Microsoft.Extensions.Time.Testing;

namespace Appliance.Management.Tests.WebConsole;

public sealed class ConsoleSessionsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Create_Twice_GivesDistinct256BitCookiesAndTokens()
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        var (a, sa) = sessions.Create("127.0.0.1");
        var (b, sb) = sessions.Create("127.0.0.1");
        Assert.NotEqual(a, b);
        Assert.NotEqual(sa.CsrfToken, sb.CsrfToken);

        // 32 random bytes as base64url: 43 characters of [A-Za-z0-9_-].
        Assert.All(new[] { a, b, sa.CsrfToken }, v => Assert.Matches("^[A-Za-z0-9_-]{43}$", v));

        // The store keeps a hash, never the cookie itself.
        Assert.NotEqual(a, sa.Key);
        Assert.True(sessions.TryUse(a, out var found));
        Assert.Same(sa, found);
    }

    [Fact]
    public void TryUse_AfterIdleTimeout_EndsSession()
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        var (cookie, _) = sessions.Create("127.0.0.1");
        _time.Advance(TimeSpan.FromMinutes(14));
        Assert.True(sessions.TryUse(cookie, out _)); // used: the idle clock restarts
        _time.Advance(TimeSpan.FromMinutes(14));
        Assert.True(sessions.TryUse(cookie, out _));
        _time.Advance(TimeSpan.FromMinutes(15));
        Assert.False(sessions.TryUse(cookie, out _));
        Assert.Equal(0, sessions.Count); // removed, not only refused
    }

    [Fact]
    public void TryUse_AfterLifetime_EndsSessionEvenWhenBusy()
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), _time);
        var (cookie, _) = sessions.Create("127.0.0.1");
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromMinutes(10));
            Assert.True(sessions.TryUse(cookie, out _));
        }

        _time.Advance(TimeSpan.FromMinutes(10)); // 60 min after login
        Assert.False(sessions.TryUse(cookie, out _));
    }

    [Fact]
    public void Create_OverCapacity_EndsLeastRecentlyUsed()
    {
        var sessions = new ConsoleSessions(2, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        var (first, _) = sessions.Create("a");
        _time.Advance(TimeSpan.FromSeconds(1));
        var (second, _) = sessions.Create("b");
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(sessions.TryUse(first, out _)); // first is now the more recently used
        _time.Advance(TimeSpan.FromSeconds(1));
        var (third, _) = sessions.Create("c");

        Assert.Equal(2, sessions.Count);
        Assert.True(sessions.TryUse(first, out _));
        Assert.False(sessions.TryUse(second, out _));
        Assert.True(sessions.TryUse(third, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // right shape, never issued
    public void TryUse_UnknownCookie_Refused(string? cookie)
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        sessions.Create("127.0.0.1");
        Assert.False(sessions.TryUse(cookie, out var session));
        Assert.Null(session);
    }

    [Fact]
    public void Remove_EndsSessionAndIsLiveSaysSo()
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        var (cookie, session) = sessions.Create("127.0.0.1");
        Assert.True(sessions.IsLive(session.Key));
        sessions.Remove(session.Key);
        Assert.False(sessions.IsLive(session.Key));
        Assert.False(sessions.TryUse(cookie, out _));
    }

    [Fact]
    public void CsrfMatches_OnlyTheSessionsOwnToken()
    {
        var sessions = new ConsoleSessions(8, TimeSpan.FromMinutes(15), TimeSpan.FromHours(8), _time);
        var (_, a) = sessions.Create("x");
        var (_, b) = sessions.Create("y");
        Assert.True(ConsoleSessions.CsrfMatches(a, a.CsrfToken));
        Assert.False(ConsoleSessions.CsrfMatches(a, b.CsrfToken));
        Assert.False(ConsoleSessions.CsrfMatches(a, ""));
        Assert.False(ConsoleSessions.CsrfMatches(a, null));
        Assert.False(ConsoleSessions.CsrfMatches(a, a.CsrfToken[..^1]));
    }
}
