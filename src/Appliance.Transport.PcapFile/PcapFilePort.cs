using System.Runtime.InteropServices;
using Appliance.Native.LibPcap;

namespace Appliance.Transport.PcapFile;

/// <summary>
/// A port over capture files: receives the frames of a pcap or pcapng file in order (libpcap reads both), and sends
/// into a pcap file. Either side may be absent: with no input the port receives nothing; with no output every send
/// is refused and counted.
/// </summary>
public sealed class PcapFilePort : IPacketPort
{
    private readonly PcapHandle? _input;
    private readonly PcapFileWriter? _output;
    private PcapCounters _counters;
    private volatile bool _completed;

    private PcapFilePort(string name, PcapHandle? input, PcapFileWriter? output, PortLinkType linkType, int dataLink)
    {
        Name = name;
        _input = input;
        _output = output;
        LinkType = linkType;
        DataLink = dataLink;
        _completed = input is null;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public PortLinkType LinkType { get; }

    /// <inheritdoc />
    public int SelectableFd => -1;

    /// <summary>The input's link type as libpcap reports it (a DLT_ value; see <see cref="LinkTypes"/>).</summary>
    public int DataLink { get; }

    /// <inheritdoc />
    public bool IsCompleted => _completed;

    /// <summary>Opens a capture for reading only.</summary>
    public static PcapFilePort OpenRead(string path) => Open(path, null);

    /// <summary>
    /// Opens <paramref name="inputPath"/> for reading and/or creates <paramref name="outputPath"/> for writing.
    /// Throws <see cref="PacketPortException"/> with libpcap's words when the input is missing, unreadable, or not
    /// Ethernet or raw IP.
    /// </summary>
    public static unsafe PcapFilePort Open(string? inputPath, string? outputPath)
    {
        if (inputPath is null && outputPath is null)
        {
            throw new ArgumentException("A pcap file port needs an input, an output or both.");
        }

        PcapNative.EnsureLoaded();
        PcapHandle? input = null;
        var linkType = PortLinkType.Ethernet;
        var dataLink = LinkTypes.Ethernet;
        if (inputPath is not null)
        {
            var errbuf = stackalloc byte[PcapNative.ErrorBufferSize];
            errbuf[0] = 0;
            input = PcapNative.pcap_open_offline(inputPath, errbuf);
            if (input.IsInvalid)
            {
                input.Dispose();
                throw new PacketPortException($"Cannot read capture {inputPath}: {Marshal.PtrToStringUTF8((nint)errbuf)}");
            }

            dataLink = PcapNative.pcap_datalink(input);
            if (!LinkTypes.TryMap(dataLink, out linkType))
            {
                input.Dispose();
                throw new PacketPortException(
                    $"Capture {inputPath} has link type {LinkTypes.Describe(dataLink)}; only Ethernet (EN10MB) and raw IP (RAW, IPV4, IPV6) captures can be replayed.");
            }
        }

        PcapFileWriter? output = null;
        try
        {
            if (outputPath is not null)
            {
                output = PcapFileWriter.Create(outputPath, linkType);
            }
        }
        catch
        {
            input?.Dispose();
            throw;
        }

        return new PcapFilePort(inputPath ?? outputPath!, input, output, linkType, dataLink);
    }

    /// <inheritdoc />
    public int Receive<THandler>(ref THandler handler, int maxFrames)
        where THandler : struct, IFrameHandler
    {
        if (_completed || _input is null)
        {
            return 0;
        }

        var n = PcapReceiver.Receive(_input, Name, ref handler, maxFrames, ref _counters, out var eof);
        if (eof)
        {
            _completed = true;
        }

        return n;
    }

    /// <inheritdoc />
    public bool TrySend(ReadOnlySpan<byte> frame)
    {
        if (_output is null)
        {
            _counters.SendErrors++;
            return false;
        }

        _output.Write(frame, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        _counters.Sent++;
        _counters.SentBytes += frame.Length;
        return true;
    }

    /// <inheritdoc />
    public PortStatistics GetStatistics() => _counters.ToStatistics(captureDrops: 0, interfaceDrops: 0);

    /// <inheritdoc />
    public void StopReceiving() => _completed = true;

    /// <inheritdoc />
    public void Dispose()
    {
        _completed = true;
        _input?.Dispose();
        _output?.Dispose();
    }
}

