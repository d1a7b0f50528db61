namespace Appliance.Transport.PcapFile.Tests;

public sealed class PcapFileWriterErrorTests
{
    private static readonly byte[] Frame = new byte[1000];

    [Fact]
    public void Write_DiskFull_ThrowsNamingTheFile()
    {
        Assert.True(File.Exists("/dev/full"), "this test needs /dev/full (Linux)");

        // /dev/full refuses every write with ENOSPC, as a full disk does; stdio buffers the first few KB, so the
        // failure shows on a later frame or at the latest on flush.
        using var writer = PcapFileWriter.Create("/dev/full");
        var ex = Assert.Throws<PacketPortException>(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                writer.Write(Frame, 1_700_000_000_000_000L + i);
            }

            writer.Flush();
        });
        Assert.Contains("/dev/full", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_ToARealFile_SameFramesDoNotThrow()
    {
        // The control for the test above: the same writes to a file that takes them succeed.
        var path = Path.Combine(Path.GetTempPath(), $"camfw-writer-{Guid.NewGuid():N}.pcap");
        try
        {
            using (var writer = PcapFileWriter.Create(path))
            {
                for (var i = 0; i < 1000; i++)
                {
                    writer.Write(Frame, 1_700_000_000_000_000L + i);
                }

                writer.Flush();
                Assert.Equal(1000, writer.FramesWritten);
            }

            Assert.True(new FileInfo(path).Length > 1000 * 1000);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
