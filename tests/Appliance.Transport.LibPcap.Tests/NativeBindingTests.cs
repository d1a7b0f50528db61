using Appliance.Native.LibPcap;

namespace Appliance.Transport.LibPcap.Tests;

public sealed class NativeBindingTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1_700_000_000_123_456L)] // 2023, microseconds set
    [InlineData(4_102_444_800_999_999L)] // 2100: past 2038, needs a 64-bit tv_sec
    public unsafe void PcapHeader_WriteThenRead_RoundTripsEveryField(long micros)
    {
        var header = stackalloc byte[PcapHeader.MaxSize];
        PcapHeader.Write(header, micros, 60, 1514);

        Assert.Equal(micros, PcapHeader.TimestampMicros(header));
        Assert.Equal(60u, PcapHeader.CaptureLength(header));
        Assert.Equal(1514u, PcapHeader.WireLength(header));
    }

    [Fact]
    public unsafe void PcapHeader_Linux64_MatchesStructTimevalLayout()
    {
        if (!OperatingSystem.IsLinux() || IntPtr.Size != 8)
        {
            Assert.True(PcapHeader.Size is 16 or 24, "some other platform's layout");
            return;
        }

        // struct pcap_pkthdr on x86_64/arm64 Linux: tv_sec (8), tv_usec (8), caplen (4), len (4).
        var header = stackalloc byte[24];
        *(long*)header = 1_700_000_000;
        *(long*)(header + 8) = 123_456;
        *(uint*)(header + 16) = 60;
        *(uint*)(header + 20) = 1514;

        Assert.Equal(24, PcapHeader.Size);
        Assert.Equal(1_700_000_000_123_456L, PcapHeader.TimestampMicros(header));
        Assert.Equal(60u, PcapHeader.CaptureLength(header));
        Assert.Equal(1514u, PcapHeader.WireLength(header));
    }

    [Fact]
    public void WrappingCounter_ReadingWrapsPast32Bits_TotalKeepsCounting()
    {
        var counter = default(WrappingCounter);
        counter.Update(uint.MaxValue - 5);
        counter.Update(10); // wrapped: 16 more

        Assert.Equal((long)uint.MaxValue - 5 + 16, counter.Total);
    }

    [Fact]
    public void WrappingCounter_ReadingsWithoutWrap_TotalIsLastReading()
    {
        var counter = default(WrappingCounter);
        counter.Update(7);
        counter.Update(7);
        counter.Update(12);

        Assert.Equal(12, counter.Total);
    }
}
