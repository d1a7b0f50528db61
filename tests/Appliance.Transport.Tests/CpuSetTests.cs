using Appliance.TestSupport;

namespace Appliance.Transport.Tests;

/// <summary>CPU lists (Bridge:DataPlaneCpus) and pinning a data-plane thread to them.</summary>
public sealed class CpuSetTests
{
    [Theory]
    [InlineData("1", new[] { 1 }, "1")]
    [InlineData("0-3", new[] { 0, 1, 2, 3 }, "0-3")]
    [InlineData("0,2-3", new[] { 0, 2, 3 }, "0,2-3")]
    [InlineData(" 3 , 1 ,2", new[] { 1, 2, 3 }, "1-3")]
    [InlineData("5,5,4-5", new[] { 4, 5 }, "4-5")]
    [InlineData("7-7", new[] { 7 }, "7")]
    [InlineData("1023", new[] { 1023 }, "1023")]
    public void TryParse_List_GivesEachCpuOnceInOrder(string text, int[] cpus, string shortest)
    {
        Assert.True(CpuSet.TryParse(text, out var set, out var error), error);
        Assert.Equal(cpus, set.Cpus);
        Assert.Equal(shortest, set.ToString());
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("  ", "is empty")]
    [InlineData(null, "is empty")]
    [InlineData("1,,2", "empty item")]
    [InlineData("1,", "empty item")]
    [InlineData("a", "has 'a', which is neither a CPU number")]
    [InlineData("-1", "has '-1'")]
    [InlineData("1-", "has '1-'")]
    [InlineData("+1", "has '+1'")]
    [InlineData("1024", "from 0 to 1023")]
    [InlineData("0-99999999999", "has '0-99999999999'")]
    [InlineData("3-1", "has the range '3-1', which runs backwards")]
    public void TryParse_Malformed_SaysWhatIsWrong(string? text, string message)
    {
        Assert.False(CpuSet.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [LinuxFact]
    public void Allowed_OnLinux_IncludesTheCpuThisThreadRunsOn()
    {
        var allowed = CpuSet.Allowed();
        Assert.NotNull(allowed);
        Assert.Contains(Thread.GetCurrentProcessorId(), allowed.Cpus);
        Assert.True(allowed.IsSubsetOf(allowed));
    }

    [LinuxFact]
    public void PinCurrentThread_OneAllowedCpu_TheThreadRunsThereOnly()
    {
        var last = CpuSet.Allowed()!.Cpus[^1];
        Assert.True(CpuSet.TryParse(last.ToString(System.Globalization.CultureInfo.InvariantCulture), out var one, out _));
        string? seen = null;
        int ranOn = -1;
        var thread = new Thread(() =>
        {
            one.PinCurrentThread();
            ranOn = Thread.GetCurrentProcessorId();
            seen = CpuSet.Allowed()!.ToString();
        });
        thread.Start();
        thread.Join();

        Assert.Equal(one.ToString(), seen);
        Assert.Equal(last, ranOn);
    }

    [LinuxFact]
    public void PinCurrentThread_NoAllowedCpu_ThrowsWithTheKernelsReason()
    {
        var unavailable = Enumerable.Range(0, CpuSet.MaxCpus).Except(CpuSet.Allowed()!.Cpus).Last();
        Assert.True(CpuSet.TryParse(unavailable.ToString(System.Globalization.CultureInfo.InvariantCulture), out var set, out _));
        Exception? thrown = null;
        var before = "";
        var after = "";
        var thread = new Thread(() =>
        {
            before = CpuSet.Allowed()!.ToString();
            thrown = Record.Exception(set.PinCurrentThread);
            after = CpuSet.Allowed()!.ToString();
        });
        thread.Start();
        thread.Join();

        var e = Assert.IsType<PacketPortException>(thrown);
        Assert.Contains($"Cannot pin the data plane to CPUs {unavailable}", e.Message, StringComparison.Ordinal);
        Assert.Contains("errno 22", e.Message, StringComparison.Ordinal); // EINVAL: no CPU of the mask is usable
        Assert.Equal(before, after);
    }
}
