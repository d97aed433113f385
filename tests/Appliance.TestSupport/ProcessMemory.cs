namespace Appliance.TestSupport;

/// <summary>The test process's own sizes, for tests that show what a map takes (run them in the serial collection:
/// tests beside them would move the numbers).</summary>
public static class ProcessMemory
{
    /// <summary>A size line of /proc/self/status ("VmRSS", "VmSize"), in kB.</summary>
    public static long Status(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0]);
        throw new InvalidOperationException($"no {field} in /proc/self/status");
    }

    /// <summary>Collects garbage and runs finalizers (a reserved map's mapping goes in its storage's finalizer).</summary>
    public static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
