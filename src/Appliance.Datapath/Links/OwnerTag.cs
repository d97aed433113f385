using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Appliance.Datapath.Links;

/// <summary>The mark the appliance leaves on what it creates, stored in IFLA_IFALIAS (visible as "alias" in
/// `ip link`): <c>meta-appliance:PID.STARTTIME:INSTANCE</c>. PID and its start time (field 22 of
/// /proc/PID/stat) tell whether the creator still runs, even after PID reuse; INSTANCE separates two
/// registries of one process.</summary>
public sealed record OwnerTag(int ProcessId, ulong StartTime, string Instance)
{
    public const string Prefix = "meta-appliance:";

    /// <summary>A new tag for a registry of the current process.</summary>
    public static OwnerTag ForThisProcess()
    {
        int pid = Environment.ProcessId;
        return new OwnerTag(pid, ReadStartTime(pid) ?? 0, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4)));
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{ProcessId}.{StartTime}:{Instance}");

    /// <summary>Parses an alias; false for anything that is not our tag.</summary>
    public static bool TryParse(string? alias, [NotNullWhen(true)] out OwnerTag? tag)
    {
        tag = null;
        if (alias is null || !alias.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        var parts = alias[Prefix.Length..].Split(':');
        if (parts.Length != 2) return false;
        var process = parts[0].Split('.');
        if (process.Length != 2
            || !int.TryParse(process[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            || !ulong.TryParse(process[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong start)
            || parts[1].Length == 0)
            return false;
        tag = new OwnerTag(pid, start, parts[1]);
        return true;
    }

    /// <summary>Whether the process that made this tag is still running (same PID and same start time).</summary>
    public bool IsOwnerAlive() => ReadStartTime(ProcessId) is { } start && start == StartTime;

    /// <summary>Start time of <paramref name="pid"/> in clock ticks since boot, or null when it does not exist.</summary>
    private static ulong? ReadStartTime(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        // "pid (comm) state ppid ..." — comm may contain spaces and ')', so split after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); starttime is field 22.
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : null;
    }
}
