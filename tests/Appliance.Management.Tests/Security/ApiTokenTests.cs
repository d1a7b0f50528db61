using Appliance.Management.Security;
using Appliance.TestSupport.Host;

namespace Appliance.Management.Tests.Security;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ApiTokenTests
{
    [Fact]
    public void LoadOrCreate_NoFile_CreatesRandomToken0600()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("etc", "api-token");
        var token = ApiToken.LoadOrCreate(path, out var created);
        Assert.True(created);
        Assert.True(token.Value.Length >= 43);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(token.Value, File.ReadAllText(path).Trim());

        var again = ApiToken.LoadOrCreate(path, out var createdAgain);
        Assert.False(createdAgain);
        Assert.Equal(token.Value, again.Value);

        using var other = new TempDirectory();
        Assert.NotEqual(token.Value, ApiToken.LoadOrCreate(other.Combine("t"), out _).Value);
    }

    [Fact]
    public void LoadOrCreate_GroupReadableFile_Refused()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("api-token", "0123456789abcdef0123456789");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var e = Assert.Throws<InvalidOperationException>(() => ApiToken.LoadOrCreate(path, out _));
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0123456789abcdef", true)] // exact
    [InlineData("0123456789abcdeF", false)] // one character differs
    [InlineData("0123456789abcde", false)] // a prefix
    [InlineData("0123456789abcdef0", false)] // longer
    [InlineData("", false)] // empty
    public void Matches_ComparesWholeToken(string presented, bool expected)
        => Assert.Equal(expected, ApiToken.FromValue("0123456789abcdef").Matches(presented));

    [Fact]
    public void FromValue_TooShort_Throws() => Assert.Throws<ArgumentException>(() => ApiToken.FromValue("short"));

    [Fact]
    public void Limiter_LockoutExpires()
    {
        var time = new ManualTime();
        var limiter = new AuthFailureLimiter(2, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(30), time);
        var ip = System.Net.IPAddress.Parse("192.0.2.7");
        Assert.False(limiter.RecordFailure(ip));
        Assert.True(limiter.RecordFailure(ip));
        Assert.True(limiter.IsLockedOut(ip, out var retry));
        Assert.Equal(TimeSpan.FromSeconds(30), retry);
        Assert.False(limiter.IsLockedOut(System.Net.IPAddress.Parse("192.0.2.8"), out _));
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.False(limiter.IsLockedOut(ip, out _));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
