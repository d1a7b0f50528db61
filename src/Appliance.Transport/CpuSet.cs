using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Appliance.Transport;

/// <summary>
/// A set of CPU numbers written as a list, as <c>taskset -c</c> and systemd's <c>CPUAffinity=</c> take it:
/// <c>1</c>, <c>2-3</c>, <c>0,2-3</c>. What a data-plane thread may run on (<see cref="BridgeOptions.Cpus"/>).
/// </summary>
public sealed class CpuSet
{
    /// <summary>CPU numbers go up to this, exclusive: glibc's CPU_SETSIZE, the mask sched_setaffinity(2) takes here.</summary>
    public const int MaxCpus = 1024;

    private readonly int[] _cpus;

    private CpuSet(int[] cpus) => _cpus = cpus;

    /// <summary>The CPUs, ascending, each once.</summary>
    public IReadOnlyList<int> Cpus => _cpus;

    /// <summary>Parses a CPU list; <paramref name="error"/> says what is wrong with it otherwise.</summary>
    public static bool TryParse(string? text, out CpuSet set, out string error)
    {
        set = new CpuSet([]);
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty (give CPU numbers such as 1 or 2-3, or leave the key out)";
            return false;
        }

        var cpus = new SortedSet<int>();
        foreach (var raw in text.Split(','))
        {
            var item = raw.Trim();
            var dash = item.IndexOf('-', StringComparison.Ordinal);
            var first = dash < 0 ? item : item[..dash].Trim();
            var last = dash < 0 ? item : item[(dash + 1)..].Trim();
            if (!TryCpu(first, out var from) || !TryCpu(last, out var to))
            {
                error = item.Length == 0
                    ? "has an empty item (two commas, or a comma at an end)"
                    : $"has '{item}', which is neither a CPU number from 0 to {MaxCpus - 1} nor a range such as 2-3";
                return false;
            }

            if (from > to)
            {
                error = $"has the range '{item}', which runs backwards";
                return false;
            }

            for (var cpu = from; cpu <= to; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        set = new CpuSet([.. cpus]);
        return true;
    }

    /// <summary>
    /// The CPUs the calling thread may run on: at start, the process's affinity as cgroups, systemd's CPUAffinity= or
    /// taskset left it. Null off Linux.
    /// </summary>
    public static CpuSet? Allowed()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> mask = stackalloc byte[MaxCpus / 8];
        if (Posix.GetAffinity(mask) != 0)
        {
            return null;
        }

        var cpus = new List<int>();
        for (var cpu = 0; cpu < MaxCpus; cpu++)
        {
            if ((mask[cpu / 8] & (1 << (cpu % 8))) != 0)
            {
                cpus.Add(cpu);
            }
        }

        return new CpuSet([.. cpus]);
    }

    /// <summary>True when every CPU of this set is in <paramref name="other"/>.</summary>
    public bool IsSubsetOf(CpuSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _cpus.All(cpu => Array.BinarySearch(other._cpus, cpu) >= 0);
    }

    /// <summary>
    /// Restricts the calling thread to these CPUs (sched_setaffinity(2) on the thread itself). Throws
    /// <see cref="PacketPortException"/> with the kernel's reason when it cannot: a data plane that was asked to be
    /// pinned does not run anywhere else.
    /// </summary>
    public void PinCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PacketPortException($"Cannot pin a data plane to CPUs {this}: CPU affinity is set only on Linux.");
        }

        Span<byte> mask = stackalloc byte[MaxCpus / 8];
        foreach (var cpu in _cpus)
        {
            mask[cpu / 8] |= (byte)(1 << (cpu % 8));
        }

        if (Posix.SetAffinity(mask) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new PacketPortException(
                $"Cannot pin the data plane to CPUs {this}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); allowed now: {Allowed()?.ToString() ?? "unknown"}.");
        }
    }

    /// <summary>The list in its shortest form, e.g. <c>0,2-3</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (var i = 0; i < _cpus.Length; i++)
        {
            var start = _cpus[i];
            while (i + 1 < _cpus.Length && _cpus[i + 1] == _cpus[i] + 1)
            {
                i++;
            }

            text.Append(text.Length == 0 ? "" : ",").Append(start.ToString(CultureInfo.InvariantCulture));
            if (_cpus[i] != start)
            {
                text.Append('-').Append(_cpus[i].ToString(CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    private static bool TryCpu(string text, out int cpu)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out cpu) && cpu < MaxCpus;
}
