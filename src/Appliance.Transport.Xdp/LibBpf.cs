using System.Runtime.InteropServices;

namespace Appliance.Transport.Xdp;

/// <summary>
/// The few libbpf (Debian <c>libbpf1</c>, soname <c>libbpf.so.1</c>) and libc calls the flow offload needs. libbpf 1.x
/// returns <c>-errno</c> from its low-level calls and NULL (with errno) from its object calls.
/// </summary>
internal static unsafe partial class LibBpf
{
    private const string Library = "libbpf.so.1";
    private const string LibC = "libc";

    /// <summary>enum bpf_attach_type BPF_XDP.</summary>
    public const int AttachXdp = 37;

    /// <summary>XDP_FLAGS_DRV_MODE: native (driver) mode only; never the generic skb path.</summary>
    public const uint XdpFlagsDriverMode = 1u << 2;

    /// <summary>BPF_ANY for map updates.</summary>
    public const ulong UpdateAny = 0;

    public const int ENOENT = 2;

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial nint bpf_object__open_file(string path, void* opts);

    [LibraryImport(Library)]
    public static partial int bpf_object__load(nint obj);

    [LibraryImport(Library)]
    public static partial void bpf_object__close(nint obj);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint bpf_object__find_program_by_name(nint obj, string name);

    [LibraryImport(Library)]
    public static partial int bpf_program__fd(nint prog);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int bpf_object__find_map_fd_by_name(nint obj, string name);

    [LibraryImport(Library)]
    public static partial int bpf_link_create(int progFd, int targetFd, int attachType, LinkCreateOptions* opts);

    [LibraryImport(Library)]
    public static partial int bpf_map_update_elem(int fd, void* key, void* value, ulong flags);

    [LibraryImport(Library)]
    public static partial int bpf_map_lookup_elem(int fd, void* key, void* value);

    [LibraryImport(Library)]
    public static partial int bpf_map_delete_elem(int fd, void* key);

    [LibraryImport(Library)]
    public static partial int bpf_map_lookup_and_delete_elem(int fd, void* key, void* value);

    [LibraryImport(Library)]
    public static partial int bpf_map_lookup_batch(int fd, void* inBatch, void* outBatch, void* keys, void* values, uint* count, BatchOptions* opts);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(LibC, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial uint if_nametoindex(string name);

    /// <summary>struct bpf_link_create_opts (libbpf 1.1: 64 bytes; only <c>sz</c> and <c>flags</c> used).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 64)]
    public struct LinkCreateOptions
    {
        [FieldOffset(0)]
        public nuint Size;

        [FieldOffset(8)]
        public uint Flags;
    }

    /// <summary>struct bpf_map_batch_opts.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct BatchOptions
    {
        public nuint Size;
        public ulong ElementFlags;
        public ulong Flags;
    }

    /// <summary>strerror-like text for a (positive) errno.</summary>
    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}

/// <summary>struct flow_key of bpf/flow_offload.bpf.c: camera-relative, addresses in network order, ports host order.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfFlowKey : IEquatable<BpfFlowKey>
{
    public fixed byte Camera[16];
    public fixed byte Peer[16];
    public ushort CameraPort;
    public ushort PeerPort;
    public ushort OuterVlan;
    public ushort InnerVlan;
    public byte Protocol;
    public byte Family;
    public ushort Pad;

    public readonly bool Equals(BpfFlowKey other) => AsBytes(in this).SequenceEqual(AsBytes(in other));

    public override readonly bool Equals(object? obj) => obj is BpfFlowKey k && Equals(k);

    public override readonly int GetHashCode()
    {
        var h = default(HashCode);
        h.AddBytes(AsBytes(in this));
        return h.ToHashCode();
    }

    private static ReadOnlySpan<byte> AsBytes(in BpfFlowKey key) => MemoryMarshal.AsBytes(new ReadOnlySpan<BpfFlowKey>(in key));
}

/// <summary>struct flow_value of bpf/flow_offload.bpf.c.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfFlowValue
{
    public const uint Ended = 1;
    public const uint SeenCamera = 2;
    public const uint SeenUplink = 4;

    public ulong Packets;
    public ulong Bytes;
    public ulong LastSeenNs;
    public uint PolicyVersion;
    public uint Flags;
    public fixed byte CameraMac[6];
    public fixed byte PeerMac[6];
    public uint CameraSequenceEnd;
    public uint PeerSequenceEnd;
    public uint Pad;
}
