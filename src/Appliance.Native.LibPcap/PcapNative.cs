using System.Reflection;
using System.Runtime.InteropServices;
using Appliance.Transport;

namespace Appliance.Native.LibPcap;

/// <summary>struct pcap_stat, with room for the three extra fields Windows builds append.</summary>
/// <remarks>
/// The counters are 32-bit and wrap on a long-running capture; the bridge widens the drop counters with
/// <see cref="WrappingCounter"/>. Field order is the C layout: do not reorder.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
public struct PcapStat
{
    /// <summary><c>ps_recv</c>: packets the capture received since activation.</summary>
    public uint Received;

    /// <summary><c>ps_drop</c>: packets dropped because the capture buffer was full (the reader fell behind).</summary>
    public uint Dropped;

    /// <summary><c>ps_ifdrop</c>: packets the interface or its driver dropped before capture (the NIC's own count).</summary>
    public uint InterfaceDropped;

    /// <summary><c>ps_capt</c>, Windows (Npcap) builds only: packets that reached the application. Unset elsewhere.</summary>
    public uint WindowsCaptured;

    /// <summary><c>ps_sent</c>, Windows (Npcap) builds only: packets sent by the server on the network. Unset elsewhere.</summary>
    public uint WindowsSent;

    /// <summary><c>ps_netdrop</c>, Windows (Npcap) builds only: packets lost on the network. Unset elsewhere.</summary>
    public uint WindowsNetDropped;
}

/// <summary>
/// Thin, blittable bindings of libpcap (Debian <c>libpcap0.8</c>, soname <c>libpcap.so.0.8</c>). Handles are raw
/// <c>pcap_t*</c> here; <see cref="PcapHandle"/> owns their lifetime.
/// </summary>
public static unsafe partial class PcapNative
{
    // The name every import uses; Resolve maps it to the platform's real file (Debian ships only the soname).
    private const string Library = "pcap";

    /// <summary><c>PCAP_ERRBUF_SIZE</c>: the bytes a caller must provide for the <c>errbuf</c> of <see cref="pcap_create"/>, <see cref="pcap_open_offline"/> and <see cref="pcap_setnonblock"/>.</summary>
    public const int ErrorBufferSize = 256;

    /// <summary><c>PCAP_D_IN</c> for <see cref="pcap_setdirection"/>: capture only frames arriving on the interface, so the bridge never reads back what it sent.</summary>
    public const int DirectionIn = 1;

    /// <summary><c>DLT_EN10MB</c>: Ethernet frames, what the bridge requires of both interfaces and what replay files are written as.</summary>
    public const int DltEthernet = 1;

    /// <summary><c>DLT_RAW</c> as libpcap returns it on Linux: bare IP packets, no link header.</summary>
    public const int DltRaw = 12;

    /// <summary><see cref="pcap_next_ex"/>: a packet was read.</summary>
    public const int NextExOk = 1;

    /// <summary><see cref="pcap_next_ex"/>: no packet before the timeout, or none waiting on a non-blocking handle.</summary>
    public const int NextExTimeout = 0;

    /// <summary><see cref="pcap_next_ex"/>: the end of a capture file was reached (offline handles only).</summary>
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

    /// <summary>pcap_create(3PCAP): a capture handle on interface <paramref name="source"/>, not yet active (set options, then <see cref="pcap_activate"/>). Invalid handle on failure, the reason in <paramref name="errbuf"/> (<see cref="ErrorBufferSize"/> bytes).</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_create(string source, byte* errbuf);

    /// <summary>pcap_open_offline(3PCAP): opens the pcap or pcapng file <paramref name="fname"/> for reading (replay). Invalid handle on failure, the reason in <paramref name="errbuf"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapHandle pcap_open_offline(string fname, byte* errbuf);

    /// <summary>pcap_open_dead(3PCAP): a handle with no device, only a link type and snap length, for <see cref="pcap_dump_open"/> to write files with.</summary>
    [LibraryImport(Library)]
    public static partial PcapHandle pcap_open_dead(int linktype, int snaplen);

    /// <summary>pcap_set_snaplen(3PCAP): the most bytes captured per frame (the port's configured snap length; a longer frame is counted as truncated and never forwarded). Before activation; 0 or a PCAP_ERROR code.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_snaplen(PcapHandle p, int snaplen);

    /// <summary>pcap_set_promisc(3PCAP): non-zero to see frames for every MAC, which an inline bridge needs. Before activation; 0 or a PCAP_ERROR code.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_promisc(PcapHandle p, int promisc);

    /// <summary>pcap_set_immediate_mode(3PCAP): non-zero delivers each frame as it arrives instead of when a buffer block fills, so forwarding adds no batching delay. Before activation.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_immediate_mode(PcapHandle p, int immediate);

    /// <summary>pcap_set_buffer_size(3PCAP): the kernel capture ring, in bytes; what absorbs a burst while the engine is busy. Before activation.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_buffer_size(PcapHandle p, int bufferSize);

    /// <summary>pcap_set_timeout(3PCAP): the read timeout in milliseconds (the bridge waits on the selectable fd instead, so it uses 1). Before activation.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_set_timeout(PcapHandle p, int timeoutMs);

    /// <summary>pcap_activate(3PCAP): applies the options and starts capturing. 0, a positive PCAP_WARNING or a negative PCAP_ERROR code (text via <see cref="StatusText"/>).</summary>
    [LibraryImport(Library)]
    public static partial int pcap_activate(PcapHandle p);

    /// <summary>pcap_setdirection(3PCAP): which direction is captured (<see cref="DirectionIn"/>). After activation; 0 or -1 with the reason in <see cref="LastError"/>.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_setdirection(PcapHandle p, int direction);

    /// <summary>pcap_setnonblock(3PCAP): non-zero makes <see cref="pcap_next_ex"/> return <see cref="NextExTimeout"/> at once when nothing is queued, so one thread can serve both sides. 0 or -1 with the reason in <paramref name="errbuf"/>.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_setnonblock(PcapHandle p, int nonblock, byte* errbuf);

    /// <summary>pcap_get_selectable_fd(3PCAP): a file descriptor to poll(2) for readiness (and, on Linux, writability of the send queue); -1 when the platform has none.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_get_selectable_fd(PcapHandle p);

    /// <summary>pcap_datalink(3PCAP): the handle's DLT_ link type, e.g. <see cref="DltEthernet"/>; checked before any frame is parsed.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_datalink(PcapHandle p);

    /// <summary>pcap_snapshot(3PCAP): the snap length actually in force after activation, in bytes (the kernel may lower what was asked).</summary>
    [LibraryImport(Library)]
    public static partial int pcap_snapshot(PcapHandle p);

    /// <summary>pcap_stats(3PCAP): fills <paramref name="stats"/> with the capture's drop counters; 0, or -1 with the reason in <see cref="LastError"/>.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_stats(PcapHandle p, PcapStat* stats);

    /// <summary>pcap_geterr(3PCAP): the handle's last error text, owned by the handle (read it with <see cref="LastError"/>).</summary>
    [LibraryImport(Library)]
    private static partial nint pcap_geterr(PcapHandle p);

    /// <summary>pcap_statustostr(3PCAP): static text for a PCAP_ERROR or PCAP_WARNING code (read it with <see cref="StatusText"/>).</summary>
    [LibraryImport(Library)]
    private static partial nint pcap_statustostr(int error);

    /// <summary>pcap_datalink_val_to_name(3PCAP): the static DLT name (<c>EN10MB</c>) of a link type, or null when libpcap does not know it; for error messages.</summary>
    [LibraryImport(Library)]
    public static partial nint pcap_datalink_val_to_name(int dlt);

    /// <summary>pcap_lib_version(3PCAP): static text naming the loaded libpcap (read it with <see cref="Version"/>); the cheapest call that proves the library loads.</summary>
    [LibraryImport(Library)]
    private static partial nint pcap_lib_version();

    /// <summary>pcap_close(3PCAP): closes a handle and frees its buffers. Only <see cref="PcapHandle"/> calls it, once, after the last user released the handle.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_close(nint p);

    // Hot path: raw pcap_t*. The caller holds a reference on the PcapHandle for the whole batch.
    /// <summary>pcap_next_ex(3PCAP): the next frame: <see cref="NextExOk"/> with <paramref name="header"/> and <paramref name="data"/> pointing into libpcap's buffer (valid until the next call on the handle), <see cref="NextExTimeout"/>, <see cref="NextExEof"/>, or -1 on error.</summary>
    [LibraryImport(Library)]
    public static partial int pcap_next_ex(nint p, byte** header, byte** data);

    // SetLastError: on failure the errno of send(2) (ENOBUFS, EAGAIN, ENETDOWN, EMSGSIZE) is what tells a full
    // queue from a dead link; libpcap only formats it into its error text.
    /// <summary>pcap_sendpacket(3PCAP): transmits one whole frame of <paramref name="size"/> bytes on the handle's interface; 0, or -1 with the errno in <see cref="Marshal.GetLastPInvokeError"/>.</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int pcap_sendpacket(nint p, byte* buffer, int size);

    /// <summary>pcap_dump_open(3PCAP): creates (truncates) the pcap file <paramref name="fname"/> for writing frames of <paramref name="p"/>'s link type; invalid handle on failure, the reason in <see cref="LastError"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial PcapDumperHandle pcap_dump_open(PcapHandle p, string fname);

    /// <summary>pcap_dump(3PCAP): appends one record (pcap header plus caplen bytes) to the dumper <paramref name="user"/> (a raw <c>pcap_dumper_t*</c>); it reports no error, see <see cref="pcap_dump_file"/>.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_dump(nint user, byte* header, byte* data);

    /// <summary>pcap_dump_flush(3PCAP): writes the dumper's buffered records to the file; 0, or -1 with the errno in <see cref="Marshal.GetLastPInvokeError"/>.</summary>
    [LibraryImport(Library, SetLastError = true)]
    public static partial int pcap_dump_flush(PcapDumperHandle dumper);

    /// <summary>The dumper's stdio <c>FILE*</c>: pcap_dump returns nothing, so write errors are read with ferror.</summary>
    [LibraryImport(Library)]
    public static partial nint pcap_dump_file(PcapDumperHandle dumper);

    /// <summary>libc ferror(3): non-zero once a write to the stream failed (disk full, I/O error).</summary>
    [LibraryImport("libc", EntryPoint = "ferror")]
    public static partial int ferror(nint stream);

    /// <summary>pcap_dump_close(3PCAP): flushes and closes the file. Only <see cref="PcapDumperHandle"/> calls it.</summary>
    [LibraryImport(Library)]
    public static partial void pcap_dump_close(nint dumper);
}
