namespace Appliance.Transport.PcapFile.Tests;

/// <summary>A directory removed with everything in it when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "camfw-pcap-" + Guid.NewGuid().ToString("N")[..12]);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>Reads a whole capture through the port, copying each frame with its metadata.</summary>
internal struct Collect : IFrameHandler
{
    public List<(byte[] Frame, FrameMetadata Meta)> Frames;

    public static List<(byte[] Frame, FrameMetadata Meta)> All(IPacketPort port)
    {
        var handler = new Collect { Frames = [] };
        while (port.Receive(ref handler, 16) > 0)
        {
        }

        return handler.Frames;
    }

    public void OnFrame(ReadOnlySpan<byte> frame, in FrameMetadata metadata) => Frames.Add((frame.ToArray(), metadata));
}
