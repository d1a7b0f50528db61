using System.Runtime.InteropServices;

namespace Appliance.Native.LibPcap;

/// <summary>
/// Reads and writes libpcap's <c>struct pcap_pkthdr</c> { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; }
/// whose timeval differs by platform, so the field offsets are chosen once at start:
/// <code>
///   Linux 64-bit, 32-bit ARM (64-bit time_t)  tv_sec 8 | tv_usec 8           | caplen @16 | len @20  (24 bytes)
///   macOS, BSDs (64-bit)                      tv_sec 8 | tv_usec 4 + 4 pad   | caplen @16 | len @20  (24 bytes)
///   Windows (C long is 32-bit), Linux i386    tv_sec 4 | tv_usec 4           | caplen @8  | len @12  (16 bytes)
/// </code>
/// A <c>CLong</c> pair is right on Linux x86_64 and Windows only: on macOS it reads the padding into the
/// microseconds, and on armhf with 64-bit time_t it reads the seconds' high half as microseconds.
/// </summary>
public static unsafe class PcapHeader
{
    /// <summary>The largest header size; enough to stack-allocate one for any platform.</summary>
    public const int MaxSize = 24;

    private static readonly int SecondsSize;
    private static readonly int MicrosOffset;
    private static readonly int MicrosSize;
    private static readonly int CaptureLengthOffset;

    static PcapHeader()
    {
        if (OperatingSystem.IsWindows() || (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X86))
        {
            (SecondsSize, MicrosOffset, MicrosSize, CaptureLengthOffset) = (4, 4, 4, 8);
        }
        else if (OperatingSystem.IsLinux())
        {
            // 64-bit Linux, and 32-bit ARM built with 64-bit time_t (Debian since trixie's t64 transition, the only
            // 32-bit ARM libpcap shipped there).
            (SecondsSize, MicrosOffset, MicrosSize, CaptureLengthOffset) = (8, 8, 8, 16);
        }
        else
        {
            // Darwin and the BSDs: suseconds_t is a 32-bit int, padded to 8.
            (SecondsSize, MicrosOffset, MicrosSize, CaptureLengthOffset) = (8, 8, 4, 16);
        }

        Size = CaptureLengthOffset + 8;
    }

    /// <summary>The header size on this platform.</summary>
    public static int Size { get; }

    /// <summary>Capture time in microseconds since the Unix epoch.</summary>
    public static long TimestampMicros(byte* header)
    {
        long seconds = SecondsSize == 8 ? *(long*)header : *(int*)header;
        long micros = MicrosSize == 8 ? *(long*)(header + MicrosOffset) : *(int*)(header + MicrosOffset);
        return (seconds * 1_000_000L) + micros;
    }

    /// <summary>Bytes captured (caplen).</summary>
    public static uint CaptureLength(byte* header) => *(uint*)(header + CaptureLengthOffset);

    /// <summary>Bytes on the wire (len).</summary>
    public static uint WireLength(byte* header) => *(uint*)(header + CaptureLengthOffset + 4);

    /// <summary>Fills a header of <see cref="Size"/> bytes at <paramref name="header"/>.</summary>
    public static void Write(byte* header, long timestampMicros, uint captureLength, uint wireLength)
    {
        new Span<byte>(header, Size).Clear();
        var seconds = Math.DivRem(timestampMicros, 1_000_000L, out var micros);
        if (SecondsSize == 8)
        {
            *(long*)header = seconds;
        }
        else
        {
            *(int*)header = (int)seconds;
        }

        if (MicrosSize == 8)
        {
            *(long*)(header + MicrosOffset) = micros;
        }
        else
        {
            *(int*)(header + MicrosOffset) = (int)micros;
        }

        *(uint*)(header + CaptureLengthOffset) = captureLength;
        *(uint*)(header + CaptureLengthOffset + 4) = wireLength;
    }
}
