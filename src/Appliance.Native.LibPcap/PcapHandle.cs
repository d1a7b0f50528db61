using Microsoft.Win32.SafeHandles;

namespace Appliance.Native.LibPcap;

/// <summary>Owns a <c>pcap_t*</c>; closing it calls <c>pcap_close</c> exactly once, after the last user released it.</summary>
public sealed class PcapHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Creates an empty handle for the marshaller to fill.</summary>
    public PcapHandle()
        : base(ownsHandle: true)
    {
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        PcapNative.pcap_close(handle);
        return true;
    }
}

/// <summary>Owns a <c>pcap_dumper_t*</c>; closing it flushes and closes the file with <c>pcap_dump_close</c>.</summary>
public sealed class PcapDumperHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>Creates an empty handle for the marshaller to fill.</summary>
    public PcapDumperHandle()
        : base(ownsHandle: true)
    {
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        PcapNative.pcap_dump_close(handle);
        return true;
    }
}
