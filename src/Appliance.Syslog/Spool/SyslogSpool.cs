using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Win32.SafeHandles;

namespace Appliance.Syslog.Spool;

/// <summary>What became of a message given to <see cref="SyslogSpool.Append"/>.</summary>
internal enum SpoolAppendOutcome
{
    /// <summary>Written (into the page cache; durable at the next <see cref="SyslogSpool.Sync"/>).</summary>
    Appended,

    /// <summary>Refused: below warning, and the spool is past the share kept for warning and above.</summary>
    DiscardedLowSeverity,

    /// <summary>Refused: the spool is full and nothing may be discarded to make room.</summary>
    DiscardedFull,

    /// <summary>The write failed (disk full, I/O error); see <see cref="SyslogSpool.LastError"/>.</summary>
    Failed,
}

/// <summary>One segment file of the spool.</summary>
internal sealed class SpoolSegment(long id, string path)
{
    public long Id { get; } = id;

    public string Path { get; } = path;

    /// <summary>Valid bytes in the file (the append offset for the tail).</summary>
    public long Bytes { get; set; }

    /// <summary>Records not delivered yet.</summary>
    public int Records { get; set; }

    /// <summary>Of those, records of severity warning or above.</summary>
    public int Important { get; set; }

    /// <summary>Time of its first undelivered record (Unix ms), for the discard log line.</summary>
    public long FirstTimeMs { get; set; }

    /// <summary>Time of its newest record (Unix ms).</summary>
    public long LastTimeMs { get; set; }
}

/// <summary>
/// The on-disk part of the syslog queue, modelled on rsyslog's disk-assisted queue: a directory of segment files
/// (<c>NNN.seg</c>, ids in delivery order) read from the head and appended at the tail, bounded in bytes, plus a
/// checkpoint file (<c>head</c>) naming the head segment and the offset up to which it was delivered.
/// </summary>
/// <remarks>
/// <para>
/// Record format, little-endian: magic <c>CFSP</c> (4 bytes), payload length (4), CRC-32 of length, time and
/// payload (4), enqueue time in Unix milliseconds (8), then the RFC 5424 message. A record torn by a power loss or
/// damaged on disk fails its length or checksum: <see cref="Open"/> skips it, finds the next intact record by its
/// magic and checksum, counts what it skipped and rewrites the segment with the intact records only.
/// </para>
/// <para>
/// Durability: appends and checkpoint updates are plain writes, so they survive the process being killed (the
/// page cache keeps them); <see cref="Sync"/> (called about once a second) fsyncs them against a power loss. So a
/// crash of the process loses nothing spooled and repeats nothing delivered; a power loss can lose the last second
/// of appends and repeat the last second of deliveries.
/// </para>
/// <para>
/// Discard policy when the bound is reached (rsyslog discards by severity first, <c>queue.discardMark</c> and
/// <c>queue.discardSeverity</c>; this follows it): past <c>(100 - reserved)%</c> of the bound, new messages
/// below warning (notice, informational, debug) are refused, keeping the rest of the room for warnings and above.
/// When even those fill the bound, whole segments are discarded from the middle of the backlog: the oldest
/// segments (the first eighth of the bound, at least the head segment) hold the start of the incident and are
/// kept, the newest are kept too, and the oldest segment after the protected head goes. Security teams get both
/// how it started and what is happening now; the gap is logged with its counts and time span.
/// </para>
/// <para>Not thread-safe: <see cref="SyslogQueue"/> serialises every call under its lock, except the fsync of
/// <see cref="Sync"/>, which runs on handles it keeps alive for the purpose.</para>
/// </remarks>
internal sealed class SyslogSpool : IDisposable
{
    /// <summary>Bytes before the message in each record.</summary>
    public const int HeaderSize = 20;

    /// <summary>Ids start high so a shutdown can put the memory queue's backlog in front of the head segment.</summary>
    internal const long FirstId = 1L << 40;

    internal const string SegmentExtension = ".seg";
    internal const string CheckpointName = "head";

    private const uint RecordMagic = 0x50534643; // "CFSP" as little-endian bytes
    private const uint CheckpointMagic = 0x4b504346; // "FCPK"
    private const int CheckpointSize = 24;
    private const int MaxPayload = 1 << 21;

    private readonly long _maxBytes;
    private readonly long _lowSeverityLimit;
    private readonly long _keepHead;
    private readonly long _segmentTarget;
    private readonly List<SpoolSegment> _segments = [];
    private readonly List<SafeFileHandle> _rotated = [];
    private readonly byte[] _header = new byte[HeaderSize];
    private readonly SafeFileHandle _checkpoint;
    private SpoolSegment? _tail;
    private SafeFileHandle? _tailHandle;
    private SafeFileHandle? _readHandle;
    private long _readId = -1;
    private long _headOffset;
    private long _peekNext = -1;
    private int _peekSeverity;
    private long _nextId = FirstId;
    private bool _checkpointDirty;
    private bool _disposed;

    private SyslogSpool(string directory, long maxBytes, int reservedPercent)
    {
        Directory = directory;
        _maxBytes = maxBytes;
        _lowSeverityLimit = maxBytes * (100 - reservedPercent) / 100;
        _keepHead = Math.Max(1, maxBytes / 8);

        // Small enough that discarding one segment loses little, large enough that the directory stays short.
        _segmentTarget = Math.Clamp(maxBytes / 32, 16 * 1024, 4 * 1024 * 1024);
        _checkpoint = File.OpenHandle(System.IO.Path.Combine(directory, CheckpointName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
    }

    /// <summary>The spool directory.</summary>
    public string Directory { get; }

    /// <summary>Bytes the segment files hold (what the bound limits).</summary>
    public long Bytes { get; private set; }

    /// <summary>Undelivered records.</summary>
    public long Records { get; private set; }

    /// <summary>Enqueue time (Unix ms) of the oldest undelivered record; 0 when empty.</summary>
    public long HeadTimeMs { get; private set; }

    /// <summary>Undelivered records found when the spool was opened.</summary>
    public long Restored { get; private set; }

    /// <summary>Damaged regions skipped (at open or while reading), each at least one record.</summary>
    public long CorruptRegions { get; private set; }

    /// <summary>Bytes those regions held.</summary>
    public long CorruptBytes { get; private set; }

    /// <summary>The last I/O error, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Segments on disk (for tests).</summary>
    internal int SegmentCount => _segments.Count;

    /// <summary>
    /// Opens (creating if needed, mode 0700: it holds security logs) the spool in <paramref name="directory"/> and
    /// reads back what an earlier run left: segments before the checkpoint are deleted as delivered, every record
    /// is checked, damaged ones are skipped and counted, never thrown about.
    /// </summary>
    public static SyslogSpool Open(string directory, long maxBytes, int reservedPercent)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        else
        {
            System.IO.Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var spool = new SyslogSpool(directory, maxBytes, reservedPercent);
        try
        {
            spool.Load();
            return spool;
        }
        catch
        {
            spool.Dispose();
            throw;
        }
    }

    /// <summary>The syslog severity (0-7) of an RFC 5424 message, from its PRI; informational when unreadable.</summary>
    public static int SeverityOf(ReadOnlySpan<byte> message)
    {
        if (message.Length < 3 || message[0] != (byte)'<')
        {
            return (int)SyslogSeverity.Informational;
        }

        var pri = 0;
        for (var i = 1; i < message.Length && i <= 4; i++)
        {
            var c = message[i];
            if (c == (byte)'>')
            {
                return i == 1 ? (int)SyslogSeverity.Informational : pri & 7;
            }

            if (c is < (byte)'0' or > (byte)'9')
            {
                break;
            }

            pri = (pri * 10) + (c - '0');
        }

        return (int)SyslogSeverity.Informational;
    }

    /// <summary>
    /// Appends one message at the tail, applying the discard policy (see the type's remarks). On
    /// <see cref="SpoolAppendOutcome.Appended"/> <paramref name="evictedRecords"/> and
    /// <paramref name="evictedImportant"/> count what was discarded from the middle to make room.
    /// </summary>
    public SpoolAppendOutcome Append(ReadOnlySpan<byte> message, long timeMs, out int evictedRecords, out int evictedImportant, out SpoolSegment? firstEvicted, out SpoolSegment? lastEvicted)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        evictedRecords = 0;
        evictedImportant = 0;
        firstEvicted = null;
        lastEvicted = null;
        var size = HeaderSize + (long)message.Length;
        var severity = SeverityOf(message);
        var important = severity <= (int)SyslogSeverity.Warning;
        if (!important && Bytes + size > _lowSeverityLimit)
        {
            return SpoolAppendOutcome.DiscardedLowSeverity;
        }

        while (Bytes + size > _maxBytes)
        {
            if (!TryEvict(out var evicted))
            {
                return SpoolAppendOutcome.DiscardedFull;
            }

            evictedRecords += evicted.Records;
            evictedImportant += evicted.Important;
            firstEvicted ??= evicted;
            lastEvicted = evicted;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        try
        {
            var record = buffer.AsSpan(0, (int)size);
            WriteHeader(record, message, timeMs);
            message.CopyTo(record[HeaderSize..]);
            var tail = EnsureTail();
            RandomAccess.Write(_tailHandle!, record, tail.Bytes);
            tail.Bytes += size;
            if (tail.Records == 0)
            {
                tail.FirstTimeMs = timeMs;
            }

            tail.LastTimeMs = timeMs;
            tail.Records++;
            tail.Important += important ? 1 : 0;
            Bytes += size;
            if (Records++ == 0)
            {
                HeadTimeMs = timeMs;
            }

            return SpoolAppendOutcome.Appended;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // ENOSPC and friends. The tail's offset did not move, so a partial write is overwritten by the next one.
            LastError = ex.Message;
            return SpoolAppendOutcome.Failed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads the oldest undelivered record without removing it (<see cref="Commit"/> does). False when there is
    /// none. A record that fails its checksum here (the disk changed under us) ends its segment, counted.
    /// </summary>
    public bool TryPeek(out byte[] message, out long timeMs)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_segments.Count > 0)
        {
            var head = _segments[0];
            if (_headOffset >= head.Bytes || head.Records == 0)
            {
                if (ReferenceEquals(head, _tail))
                {
                    break;
                }

                RemoveHead();
                continue;
            }

            try
            {
                if (_readId != head.Id)
                {
                    _readHandle?.Dispose();
                    _readHandle = File.OpenHandle(head.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    _readId = head.Id;
                }

                if (TryReadRecord(_readHandle!, _headOffset, head.Bytes, out message, out timeMs))
                {
                    _peekNext = _headOffset + HeaderSize + message.Length;
                    _peekSeverity = SeverityOf(message);
                    return true;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LastError = ex.Message;
            }

            // Unreadable from here on: skip the rest of the segment rather than stall delivery behind it.
            CorruptRegions++;
            CorruptBytes += head.Bytes - _headOffset;
            Records -= head.Records;
            head.Records = 0;
            head.Important = 0;
            _headOffset = head.Bytes;
        }

        message = [];
        timeMs = 0;
        return false;
    }

    /// <summary>Marks the record last returned by <see cref="TryPeek"/> delivered.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_peekNext < 0 || _segments.Count == 0)
        {
            return;
        }

        var head = _segments[0];
        _headOffset = _peekNext;
        _peekNext = -1;
        head.Records--;
        head.Important -= _peekSeverity <= (int)SyslogSeverity.Warning ? 1 : 0;
        Records--;
        if (Records == 0)
        {
            // Drained: start afresh, so the memory queue is in front again and the next spool starts at offset 0.
            Clear();
            return;
        }

        if (_headOffset >= head.Bytes && !ReferenceEquals(head, _tail))
        {
            RemoveHead();
        }
        else
        {
            WriteCheckpoint(head.Id, _headOffset);
        }

        HeadTimeMs = ReadHeadTime();
    }

    /// <summary>
    /// Puts <paramref name="entries"/> (the memory queue's backlog at shutdown, older than anything spooled) in
    /// front of the head, in order, and fsyncs them. Ignores the bound: the memory queue is bounded itself.
    /// </summary>
    public void Prepend(IReadOnlyList<(byte[] Message, long TimeMs)> entries)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (entries.Count == 0)
        {
            return;
        }

        if (_segments.Count == 0)
        {
            foreach (var (m, t) in entries)
            {
                // Empty spool: an append is a prepend. Bypass the policy: these were accepted already.
                AppendUnchecked(m, t);
            }

            Sync();
            return;
        }

        // The head has not been read while the memory queue held messages (it is read only once memory is empty),
        // so its offset is 0 and the new segment simply goes before it. The checkpoint moves first: a crash
        // between the two steps then finds a checkpoint naming a missing segment, and reads everything after it.
        var id = _segments[0].Id - 1;
        WriteCheckpoint(id, 0);
        RandomAccess.FlushToDisk(_checkpoint);
        var segment = new SpoolSegment(id, SegmentPath(id));
        using (var handle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
        {
            foreach (var (m, t) in entries)
            {
                var record = new byte[HeaderSize + m.Length];
                WriteHeader(record, m, t);
                m.CopyTo(record, HeaderSize);
                RandomAccess.Write(handle, record, segment.Bytes);
                segment.Bytes += record.Length;
                segment.Records++;
                segment.Important += SeverityOf(m) <= (int)SyslogSeverity.Warning ? 1 : 0;
                segment.LastTimeMs = t;
            }

            RandomAccess.FlushToDisk(handle);
        }

        segment.FirstTimeMs = entries[0].TimeMs;
        _segments.Insert(0, segment);
        _headOffset = 0;
        _peekNext = -1;
        Bytes += segment.Bytes;
        Records += segment.Records;
        HeadTimeMs = segment.FirstTimeMs;
    }

    /// <summary>
    /// Makes what was written so far durable: fsyncs the tail, the segments rotated since the last call and the
    /// checkpoint. Safe to call outside the queue's lock with the handles from <see cref="TakeSyncWork"/>.
    /// </summary>
    public void Sync() => SyncWork.Run(TakeSyncWork());

    /// <summary>Under the caller's lock: the handles to fsync, kept alive until <see cref="SyncWork.Run"/> ends.</summary>
    public SyncWork TakeSyncWork()
    {
        if (_disposed)
        {
            return new SyncWork([], []);
        }

        var rotated = _rotated.ToArray();
        _rotated.Clear();
        var live = new List<SafeFileHandle>(2);
        if (_tailHandle is not null)
        {
            live.Add(_tailHandle);
        }

        if (_checkpointDirty)
        {
            live.Add(_checkpoint);
            _checkpointDirty = false;
        }

        // Referenced so a rotation or dispose meanwhile cannot close a handle under the fsync.
        var referenced = new List<SafeFileHandle>(live.Count);
        foreach (var h in live)
        {
            var ok = false;
            h.DangerousAddRef(ref ok);
            if (ok)
            {
                referenced.Add(h);
            }
        }

        return new SyncWork(rotated, [.. referenced]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        SyncWork.Run(new SyncWork([.. _rotated], []));
        _rotated.Clear();
        if (_tailHandle is not null)
        {
            TryFlush(_tailHandle);
            _tailHandle.Dispose();
        }

        TryFlush(_checkpoint);
        _checkpoint.Dispose();
        _readHandle?.Dispose();
    }

    private static void TryFlush(SafeFileHandle handle)
    {
        try
        {
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // Nothing more can be done for these bytes; the records' checksums catch what did not land.
        }
    }

    private static void WriteHeader(Span<byte> record, ReadOnlySpan<byte> message, long timeMs)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, RecordMagic);
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], message.Length);
        BinaryPrimitives.WriteInt64LittleEndian(record[12..], timeMs);
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], Checksum(record[4..8], record[12..20], message));
    }

    private static uint Checksum(ReadOnlySpan<byte> length, ReadOnlySpan<byte> time, ReadOnlySpan<byte> message)
    {
        var crc = new Crc32();
        crc.Append(length);
        crc.Append(time);
        crc.Append(message);
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>Whether an intact record starts at <paramref name="offset"/> of <paramref name="data"/>; its total size if so.</summary>
    private static bool IsRecordAt(ReadOnlySpan<byte> data, int offset, out int size)
    {
        size = 0;
        if (data.Length - offset < HeaderSize || BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]) != RecordMagic)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(data[(offset + 4)..]);
        if (length is < 0 or > MaxPayload || length > data.Length - offset - HeaderSize)
        {
            return false;
        }

        var crc = BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 8)..]);
        if (Checksum(data.Slice(offset + 4, 4), data.Slice(offset + 12, 8), data.Slice(offset + HeaderSize, length)) != crc)
        {
            return false;
        }

        size = HeaderSize + length;
        return true;
    }

    private bool TryReadRecord(SafeFileHandle handle, long offset, long end, out byte[] message, out long timeMs)
    {
        message = [];
        timeMs = 0;
        if (end - offset < HeaderSize || RandomAccess.Read(handle, _header, offset) != HeaderSize
            || BinaryPrimitives.ReadUInt32LittleEndian(_header) != RecordMagic)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(_header.AsSpan(4));
        if (length is < 0 or > MaxPayload || length > end - offset - HeaderSize)
        {
            return false;
        }

        var payload = new byte[length];
        if (RandomAccess.Read(handle, payload, offset + HeaderSize) != length
            || Checksum(_header.AsSpan(4, 4), _header.AsSpan(12, 8), payload) != BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(8)))
        {
            return false;
        }

        message = payload;
        timeMs = BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(12));
        return true;
    }

    private string SegmentPath(long id) => System.IO.Path.Combine(Directory, id.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension);

    private void Load()
    {
        var (checkpointId, checkpointOffset) = ReadCheckpoint();
        var found = new List<(long Id, string Path)>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + SegmentExtension))
        {
            if (long.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
            {
                found.Add((id, path));
            }
        }

        found.Sort((a, b) => a.Id.CompareTo(b.Id));
        foreach (var (id, path) in found)
        {
            if (id < checkpointId)
            {
                File.Delete(path); // delivered before the last run ended
                continue;
            }

            var segment = LoadSegment(id, path, id == checkpointId ? checkpointOffset : 0);
            if (segment is null)
            {
                continue;
            }

            _segments.Add(segment);
            Bytes += segment.Bytes;
            Records += segment.Records;
        }

        _nextId = found.Count > 0 ? Math.Max(FirstId, found[^1].Id + 1) : FirstId;
        Restored = Records;
        if (_segments.Count == 0)
        {
            WriteCheckpoint(0, 0);
            return;
        }

        // LoadSegment rewrote the checkpoint segment without its delivered prefix, so reading starts at 0.
        WriteCheckpoint(_segments[0].Id, 0);
        HeadTimeMs = _segments[0].FirstTimeMs;
    }

    /// <summary>
    /// Checks one segment. Intact and undelivered records are kept; when anything was skipped (delivered prefix,
    /// damage) the file is rewritten with just those (temp file, fsync, rename) so reads can trust it.
    /// </summary>
    private SpoolSegment? LoadSegment(long id, string path, long deliveredUpTo)
    {
        var data = File.ReadAllBytes(path);
        var keep = new List<(int Offset, int Size)>();
        var segment = new SpoolSegment(id, path);
        var offset = 0;
        var damagedAt = -1;
        while (offset < data.Length)
        {
            if (IsRecordAt(data, offset, out var size))
            {
                if (damagedAt >= 0)
                {
                    CorruptRegions++;
                    CorruptBytes += offset - damagedAt;
                    damagedAt = -1;
                }

                if (offset >= deliveredUpTo)
                {
                    keep.Add((offset, size));
                }

                offset += size;
                continue;
            }

            // Damaged or torn: look for the next intact record, byte by byte (its magic and checksum must match).
            if (damagedAt < 0)
            {
                damagedAt = offset;
            }

            offset++;
        }

        if (damagedAt >= 0)
        {
            CorruptRegions++;
            CorruptBytes += data.Length - damagedAt;
        }

        if (keep.Count == 0)
        {
            File.Delete(path);
            return null;
        }

        foreach (var (o, size) in keep)
        {
            var message = data.AsSpan(o + HeaderSize, size - HeaderSize);
            var time = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(o + 12));
            if (segment.Records == 0)
            {
                segment.FirstTimeMs = time;
            }

            segment.LastTimeMs = time;
            segment.Records++;
            segment.Important += SeverityOf(message) <= (int)SyslogSeverity.Warning ? 1 : 0;
            segment.Bytes += size;
        }

        if (segment.Bytes != data.Length)
        {
            var temp = path + ".tmp";
            using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                long at = 0;
                foreach (var (o, size) in keep)
                {
                    RandomAccess.Write(handle, data.AsSpan(o, size), at);
                    at += size;
                }

                RandomAccess.FlushToDisk(handle);
            }

            File.Move(temp, path, overwrite: true);
        }

        return segment;
    }

    private (long Id, long Offset) ReadCheckpoint()
    {
        Span<byte> buffer = stackalloc byte[CheckpointSize];
        if (RandomAccess.Read(_checkpoint, buffer, 0) != CheckpointSize || BinaryPrimitives.ReadUInt32LittleEndian(buffer) != CheckpointMagic
            || Crc32.HashToUInt32(buffer[4..20]) != BinaryPrimitives.ReadUInt32LittleEndian(buffer[20..]))
        {
            // Missing or torn: nothing is taken as delivered, so at worst some records go twice.
            return (0, 0);
        }

        return (BinaryPrimitives.ReadInt64LittleEndian(buffer[4..]), BinaryPrimitives.ReadInt64LittleEndian(buffer[12..]));
    }

    private void WriteCheckpoint(long id, long offset)
    {
        Span<byte> buffer = stackalloc byte[CheckpointSize];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, CheckpointMagic);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[4..], id);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[12..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[20..], Crc32.HashToUInt32(buffer[4..20]));
        RandomAccess.Write(_checkpoint, buffer, 0);
        _checkpointDirty = true;
    }

    private SpoolSegment EnsureTail()
    {
        if (_tail is not null && _tail.Bytes < _segmentTarget)
        {
            return _tail;
        }

        if (_tailHandle is not null)
        {
            _rotated.Add(_tailHandle); // fsynced and closed by the next Sync
            _tailHandle = null;
        }

        var id = _nextId++;
        var segment = new SpoolSegment(id, SegmentPath(id));
        _tailHandle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete);
        _segments.Add(segment);
        _tail = segment;
        return segment;
    }

    private void AppendUnchecked(byte[] message, long timeMs)
    {
        var record = new byte[HeaderSize + message.Length];
        WriteHeader(record, message, timeMs);
        message.CopyTo(record, HeaderSize);
        var tail = EnsureTail();
        RandomAccess.Write(_tailHandle!, record, tail.Bytes);
        tail.Bytes += record.Length;
        if (tail.Records == 0)
        {
            tail.FirstTimeMs = timeMs;
        }

        tail.LastTimeMs = timeMs;
        tail.Records++;
        tail.Important += SeverityOf(message) <= (int)SyslogSeverity.Warning ? 1 : 0;
        Bytes += record.Length;
        if (Records++ == 0)
        {
            HeadTimeMs = timeMs;
        }
    }

    /// <summary>Discards the oldest segment after the protected head, never the head itself nor the tail.</summary>
    private bool TryEvict(out SpoolSegment evicted)
    {
        long before = 0;
        for (var i = 0; i < _segments.Count; i++)
        {
            var s = _segments[i];
            if (i > 0 && before >= _keepHead && !ReferenceEquals(s, _tail))
            {
                _segments.RemoveAt(i);
                Bytes -= s.Bytes;
                Records -= s.Records;
                DeleteQuietly(s.Path);
                evicted = s;
                return true;
            }

            before += s.Bytes;
        }

        evicted = null!;
        return false;
    }

    private void RemoveHead()
    {
        var head = _segments[0];
        _segments.RemoveAt(0);
        Bytes -= head.Bytes;
        Records -= head.Records;
        _readHandle?.Dispose();
        _readHandle = null;
        _readId = -1;
        _headOffset = 0;
        _peekNext = -1;
        DeleteQuietly(head.Path);
        if (_segments.Count > 0)
        {
            WriteCheckpoint(_segments[0].Id, 0);
        }
    }

    private void Clear()
    {
        _readHandle?.Dispose();
        _readHandle = null;
        _readId = -1;
        if (_tailHandle is not null)
        {
            _rotated.Add(_tailHandle);
            _tailHandle = null;
        }

        _tail = null;
        foreach (var s in _segments)
        {
            DeleteQuietly(s.Path);
        }

        _segments.Clear();
        Bytes = 0;
        Records = 0;
        HeadTimeMs = 0;
        _headOffset = 0;
        _peekNext = -1;

        // No checkpoint may outlive its segments: a later segment could reuse nothing, but say so plainly.
        WriteCheckpoint(0, 0);
    }

    private long ReadHeadTime()
    {
        if (_segments.Count == 0)
        {
            return 0;
        }

        var head = _segments[0];
        if (_headOffset >= head.Bytes)
        {
            return _segments.Count > 1 ? _segments[1].FirstTimeMs : 0;
        }

        try
        {
            if (_readHandle is not null && _readId == head.Id && RandomAccess.Read(_readHandle, _header, _headOffset) == HeaderSize)
            {
                return BinaryPrimitives.ReadInt64LittleEndian(_header.AsSpan(12));
            }
        }
        catch (IOException)
        {
            // Only an age for the metrics; the read proper reports the error.
        }

        return head.FirstTimeMs;
    }

    private void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LastError = ex.Message;
        }
    }

    /// <summary>Handles to fsync outside the queue's lock.</summary>
    internal readonly struct SyncWork(SafeFileHandle[] rotated, SafeFileHandle[] referenced)
    {
        public static void Run(SyncWork work)
        {
            foreach (var h in work.Rotated)
            {
                TryFlush(h);
                h.Dispose();
            }

            foreach (var h in work.Referenced)
            {
                TryFlush(h);
                h.DangerousRelease();
            }
        }

        private SafeFileHandle[] Rotated => rotated ?? [];

        private SafeFileHandle[] Referenced => referenced ?? [];
    }
}
