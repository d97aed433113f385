using System.Globalization;

namespace Appliance.TestSupport;

/// <summary>A thread's wake-ups from /proc: each time it gives up the CPU to wait the kernel counts a voluntary
/// context switch (<c>voluntary_ctxt_switches</c>), so a thread blocked in a wait with nothing to wake it adds none,
/// however loaded the machine is (preemptions count as non-voluntary switches and are left out).</summary>
public static class ThreadWakeups
{
    /// <summary>The voluntary context switches of thread <paramref name="tid"/> of process <paramref name="pid"/>.</summary>
    public static long Of(int pid, int tid) => Read($"/proc/{pid}/task/{tid}/status");

    /// <summary>The voluntary context switches in a task's status file (<c>/proc/PID/task/TID/status</c>).</summary>
    public static long Read(string statusFile)
    {
        var line = File.ReadLines(statusFile).Single(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal));
        return long.Parse(line.Split(':')[1].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The ids of process <paramref name="pid"/>'s threads whose name (comm) is <paramref name="name"/>, or
    /// starts with it when <paramref name="prefix"/>. A thread that ends meanwhile is left out.</summary>
    public static IReadOnlyList<int> ThreadsNamed(int pid, string name, bool prefix = false)
    {
        var found = new List<int>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            string comm;
            try { comm = File.ReadAllText(Path.Combine(task, "comm")).Trim(); }
            catch (IOException) { continue; }
            if (prefix ? comm.StartsWith(name, StringComparison.Ordinal) : comm == name)
                found.Add(int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture));
        }
        return found;
    }

    /// <summary>Whether the thread is blocked in a wait now (state S in /proc: neither running nor runnable).</summary>
    public static bool Sleeping(int pid, int tid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/task/{tid}/stat");
        return stat[(stat.LastIndexOf(')') + 1)..].TrimStart().StartsWith('S');
    }

    /// <summary>Waits until every thread in <paramref name="tids"/> is asleep with no wake-up over 100 ms (a wake-up
    /// still pending from start-up has been taken), then returns their wake-up counts; false when they never settled
    /// within <paramref name="timeoutMs"/>.</summary>
    public static bool Settle(int pid, IReadOnlyList<int> tids, out long[] counts, int timeoutMs = 30_000)
    {
        long[] last = [];
        bool settled = Eventually.True(() =>
        {
            var was = tids.Select(t => Of(pid, t)).ToArray();
            Thread.Sleep(100);
            last = [.. tids.Select(t => Of(pid, t))];
            return tids.All(t => Sleeping(pid, t)) && last.SequenceEqual(was);
        }, timeoutMs: timeoutMs);
        counts = last;
        return settled;
    }
}
