using System.Globalization;

namespace Appliance.Bpf.Maps;

/// <summary>The machine's possible CPUs (<c>/sys/devices/system/cpu/possible</c>, "0-3" or "0,2-5"), as libbpf's
/// libbpf_num_possible_cpus reads them: the size libbpf gives a PERF_EVENT_ARRAY declared without max_entries, and
/// the number of slots a per-CPU value has in the kernel's syscalls. Falls back to the processor count where the
/// file cannot be read or parsed.</summary>
public static class PossibleCpus
{
    private static readonly Lazy<int> Value = new(Read);

    public static int Count => Value.Value;

    /// <summary>The number of CPUs in a possible-CPU list ("0-3", "0,2-5"), or null when it is not one.</summary>
    public static int? Parse(string list)
    {
        int count = 0;
        foreach (var part in list.Trim().Split(','))
        {
            var range = part.Split('-');
            if (range.Length > 2
                || !int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int lo)
                || !int.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int hi)
                || hi < lo)
                return null;
            count += hi - lo + 1;
        }
        return count;
    }

    private static int Read()
    {
        try
        {
            if (Parse(File.ReadAllText("/sys/devices/system/cpu/possible")) is int n and > 0) return n;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return Environment.ProcessorCount;
    }
}
