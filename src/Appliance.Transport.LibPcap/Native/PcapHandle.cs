using Microsoft.Win32.SafeHandles;

namespace Appliance.Transport.LibPcap.Native;

/// <summary>Owns a <c>pcap_t*</c>; closing it calls <c>pcap_close</c> exactly once, after the last user released it.</summary>
internal sealed class PcapHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public PcapHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        PcapNative.pcap_close(handle);
        return true;
    }
}

/// <summary>Owns a <c>pcap_dumper_t*</c>; closing it flushes and closes the file with <c>pcap_dump_close</c>.</summary>
internal sealed class PcapDumperHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public PcapDumperHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle()
    {
        PcapNative.pcap_dump_close(handle);
        return true;
    }
}
