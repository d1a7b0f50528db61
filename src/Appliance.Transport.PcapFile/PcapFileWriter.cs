using System.Runtime.InteropServices;
using Appliance.Native.LibPcap;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// Writes frames to a classic pcap file with libpcap's own writer (pcap_open_dead + pcap_dump), so any tool reads
/// the result. One thread at a time.
/// </summary>
public sealed class PcapFileWriter : IDisposable
{
    private readonly PcapHandle _dead;
    private readonly PcapDumperHandle _dumper;
    private readonly int _snapLength;

    private PcapFileWriter(string path, PcapHandle dead, PcapDumperHandle dumper, int snapLength, PortLinkType linkType)
    {
        Path = path;
        _dead = dead;
        _dumper = dumper;
        _snapLength = snapLength;
        LinkType = linkType;
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>The link type recorded in the file header.</summary>
    public PortLinkType LinkType { get; }

    /// <summary>Frames written.</summary>
    public long FramesWritten { get; private set; }

    /// <summary>Creates (or truncates) <paramref name="path"/>. Throws <see cref="PacketPortException"/> when it cannot.</summary>
    public static PcapFileWriter Create(string path, PortLinkType linkType = PortLinkType.Ethernet, int snapLength = 262_144)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(snapLength, 64);
        PcapNative.EnsureLoaded();
        var dlt = linkType == PortLinkType.RawIp ? PcapNative.DltRaw : PcapNative.DltEthernet;
        var dead = PcapNative.pcap_open_dead(dlt, snapLength);
        if (dead.IsInvalid)
        {
            dead.Dispose();
            throw new PacketPortException($"Cannot create a pcap writer for {path}: pcap_open_dead failed.");
        }

        var dumper = PcapNative.pcap_dump_open(dead, path);
        if (dumper.IsInvalid)
        {
            var error = PcapNative.LastError(dead);
            dumper.Dispose();
            dead.Dispose();
            throw new PacketPortException($"Cannot write {path}: {error}");
        }

        return new PcapFileWriter(path, dead, dumper, snapLength, linkType);
    }

    /// <summary>Appends one frame with its capture time (microseconds since the Unix epoch).</summary>
    /// <param name="frame">The bytes captured.</param>
    /// <param name="timestampMicros">Capture time.</param>
    /// <param name="wireLength">Length on the wire, when larger than <paramref name="frame"/>; 0 means the frame's length.</param>
    public unsafe void Write(ReadOnlySpan<byte> frame, long timestampMicros, int wireLength = 0)
    {
        ObjectDisposedException.ThrowIf(_dumper.IsClosed, this);
        var captured = Math.Min(frame.Length, _snapLength);
        var header = stackalloc byte[PcapHeader.MaxSize];
        PcapHeader.Write(header, timestampMicros, (uint)captured, (uint)Math.Max(frame.Length, wireLength));

        var added = false;
        _dumper.DangerousAddRef(ref added);
        try
        {
            // SAFETY: the dumper stays open while referenced; header and frame are pinned for the call and
            // pcap_dump copies caplen bytes into its stdio buffer before returning.
            fixed (byte* f = frame)
            {
                PcapNative.pcap_dump(_dumper.DangerousGetHandle(), header, f);
            }

            // pcap_dump returns nothing: a full disk shows only in the stream's error flag, set when stdio's
            // buffer is written out. Checked per frame (a flag read), so the first lost frame is reported.
            if (PcapNative.ferror(PcapNative.pcap_dump_file(_dumper)) != 0)
            {
                throw new PacketPortException($"Writing {Path} failed (disk full or I/O error); frames from here on are lost.");
            }
        }
        finally
        {
            if (added)
            {
                _dumper.DangerousRelease();
            }
        }

        FramesWritten++;
    }

    /// <summary>Pushes buffered frames to the file.</summary>
    public void Flush()
    {
        if (PcapNative.pcap_dump_flush(_dumper) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new PacketPortException($"Cannot flush {Path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); the frames not yet written are lost.");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _dumper.Dispose();
        _dead.Dispose();
    }
}
