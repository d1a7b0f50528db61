using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Appliance.Transport.Xdp.Tests;

/// <summary>The offload's keys of the <c>Bridge</c> section are checked at start, each message naming its key.</summary>
public sealed class XdpOffloadOptionsTests
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(2_000_000_000)]
    public void Validate_RingSizeOutOfRange_NamesTheKey(int size)
    {
        var result = new XdpOffloadOptionsValidator().Validate(null, new XdpOffloadOptions { XdpPortBufferSize = size });

        Assert.True(result.Failed);
        Assert.Contains($"Bridge:XdpPortBufferSize {size}", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ZeroSweepInterval_NamesTheKey()
    {
        var result = new XdpOffloadOptionsValidator().Validate(null, new XdpOffloadOptions { XdpSweepInterval = TimeSpan.Zero });

        Assert.True(result.Failed);
        Assert.Contains("Bridge:XdpSweepInterval", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void AddXdpBridge_InvalidRingSize_FailsWhenTheOptionsAreRead()
    {
        using var services = new ServiceCollection().AddXdpBridge(configureXdp: o => o.XdpPortBufferSize = 4096).BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<XdpOffloadOptions>>().Value);
        Assert.Contains("Bridge:XdpPortBufferSize 4096", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddXdpBridge_Defaults_ValidAndTheOffloadRingLargerThanThePlainOne()
    {
        using var services = new ServiceCollection().AddXdpBridge().BuildServiceProvider();

        // At a start every flow's first frames land in the offload's rings at once (the bridge benchmark's first trial).
        var xdp = services.GetRequiredService<IOptions<XdpOffloadOptions>>().Value;
        Assert.True(xdp.XdpPortBufferSize > services.GetRequiredService<IOptions<LibPcap.LibPcapBridgeOptions>>().Value.Port.BufferSize);
    }
}
