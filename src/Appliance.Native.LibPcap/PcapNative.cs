using System.Reflection;
using System.Runtime.InteropServices;
using Appliance.Transport;

namespace Appliance.Native.LibPcap;

/// <summary>struct pcap_stat, with room for the three extra fields Windows builds append.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PcapStat
{
    public uint Received;
    public uint Dropped;
    public uint InterfaceDropped;
    public uint WindowsCaptured;
    public uint WindowsSent;
    public uint WindowsNetDropped;
}

/// <summary>
/// Thin, blittable bindings of libpcap (Debian <c>libpcap0.8</c>, soname <c>libpcap.so.0.8</c>). Handles are raw
/// <c>pcap_t*</c> here; <see cref="PcapHandle"/> owns their lifetime.
/// </summary>
public static unsafe partial class PcapNative
{
    public const string Library = "pcap";
    public const int ErrorBufferSize = 256;
    public const int DirectionIn = 1;
    public const int DltEthernet = 1;
    public const int DltRaw = 12;
    public const int DltRawOpenBsd = 14;
    public const int LinktypeRaw = 101;
    public const int DltIpv4 = 228;
    public const int DltIpv6 = 229;
    /// <summary>pcap_next_ex: a packet was read.</summary>
    public const int NextExOk = 1;
    public const int NextExTimeout = 0;
    public const int NextExEof = -2;

    static PcapNative()
    {
        // Debian ships libpcap only under its soname; the generic "libpcap.so" link exists with -dev alone.
        NativeLibrary.SetDllImportResolver(typeof(PcapNative).Assembly, Resolve);
    }

    private static readonly string[] Candidates = OperatingSystem.IsWindows()
        ? ["wpcap.dll", @"Npcap\wpcap.dll"]
        : OperatingSystem.IsMacOS()
            ? ["libpcap.A.dylib", "libpcap.dylib"]
            : ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"];

    /// <summary>Loads libpcap or throws a message that says what to install.</summary>
    public static void EnsureLoaded()
    {
        try
        {
            _ = pcap_lib_version();
        }
        catch (DllNotFoundException ex)
        {
            throw new PacketPortException(
                $"libpcap could not be loaded (tried {string.Join(", ", Candidates)}); install it (Debian: apt-get install libpcap0.8).", ex);
        }
    }

    /// <summary>The libpcap version string.</summary>
    public static string Version() => Marshal.PtrToStringUTF8(pcap_lib_version()) ?? "unknown";

    /// <summary>The handle's last error text.</summary>
    public static string LastError(PcapHandle handle) => Marshal.PtrToStringUTF8(pcap_geterr(handle)) ?? "unknown error";

    /// <summary>The text of a pcap_activate status code.</summary>
    public static string StatusText(int status) => Marshal.PtrToStringUTF8(pcap_statustostr(status)) ?? $"status {status}";

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_create(string source, byte* errbuf);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_open_offline(string fname, byte* errbuf);

    [LibraryImport(Library)]
    public static partial PcapHandle pcap_open_dead(int linktype, int snaplen);

    [LibraryImport(Library)]
    public static partial int pcap_set_snaplen(PcapHandle p, int snaplen);

    [LibraryImport(Library)]
    public static partial int pcap_set_promisc(PcapHandle p, int promisc);

    [LibraryImport(Library)]
    public static partial int pcap_set_immediate_mode(PcapHandle p, int immediate);

    [LibraryImport(Library)]
    public static partial int pcap_set_buffer_size(PcapHandle p, int bufferSize);

    [LibraryImport(Library)]
    public static partial int pcap_set_timeout(PcapHandle p, int timeoutMs);

    [LibraryImport(Library)]
    public static partial int pcap_activate(PcapHandle p);

    [LibraryImport(Library)]
    public static partial int pcap_setdirection(PcapHandle p, int direction);

    [LibraryImport(Library)]
    public static partial int pcap_setnonblock(PcapHandle p, int nonblock, byte* errbuf);

    [LibraryImport(Library)]
    public static partial int pcap_get_selectable_fd(PcapHandle p);

    [LibraryImport(Library)]
    public static partial int pcap_datalink(PcapHandle p);

    [LibraryImport(Library)]
    public static partial int pcap_snapshot(PcapHandle p);

    [LibraryImport(Library)]
    public static partial int pcap_stats(PcapHandle p, PcapStat* stats);

    [LibraryImport(Library)]
    public static partial nint pcap_geterr(PcapHandle p);

    [LibraryImport(Library)]
    public static partial nint pcap_statustostr(int error);

    [LibraryImport(Library)]
    public static partial nint pcap_datalink_val_to_name(int dlt);

    [LibraryImport(Library)]
    public static partial nint pcap_lib_version();

    [LibraryImport(Library)]
    public static partial void pcap_close(nint p);

    // Hot path: raw pcap_t*. The caller holds a reference on the PcapHandle for the whole batch.
    [LibraryImport(Library)]
    public static partial int pcap_next_ex(nint p, byte** header, byte** data);

    // SetLastError: on failure the errno of send(2) (ENOBUFS, EAGAIN, ENETDOWN, EMSGSIZE) is what tells a full
    // queue from a dead link; libpcap only formats it into its error text.
    [LibraryImport(Library, SetLastError = true)]
    public static partial int pcap_sendpacket(nint p, byte* buffer, int size);

    [LibraryImport(Library)]
    public static partial int pcap_inject(nint p, byte* buffer, nuint size);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapDumperHandle pcap_dump_open(PcapHandle p, string fname);

    [LibraryImport(Library)]
    public static partial void pcap_dump(nint user, byte* header, byte* data);

    [LibraryImport(Library, SetLastError = true)]
    public static partial int pcap_dump_flush(PcapDumperHandle dumper);

    /// <summary>The dumper's stdio <c>FILE*</c>: pcap_dump returns nothing, so write errors are read with ferror.</summary>
    [LibraryImport(Library)]
    public static partial nint pcap_dump_file(PcapDumperHandle dumper);

    /// <summary>libc ferror(3): non-zero once a write to the stream failed (disk full, I/O error).</summary>
    [LibraryImport("libc", EntryPoint = "ferror")]
    public static partial int ferror(nint stream);

    [LibraryImport(Library)]
    public static partial void pcap_dump_close(nint dumper);
}
