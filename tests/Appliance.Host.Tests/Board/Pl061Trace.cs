using System.Globalization;
using System.Text.RegularExpressions;

namespace Appliance.Host.Tests.Board;

/// <summary>The PL061 GPIO output changes QEMU traced (`-trace pl061_set_output`), i.e. what an LED wired to a
/// line would show. Lines look like `[PID@SECONDS.MICROS:]pl061_set_output DEVICE setting output N to V`.</summary>
public sealed partial class Pl061Trace(string path)
{
    public sealed record Change(int Line, int Value, double? Timestamp);

    [GeneratedRegex(@"^(?:\d+@(?<t>\d+\.\d+):)?pl061_set_output \S+ setting output (?<line>\d+) to (?<value>\d+)", RegexOptions.Multiline)]
    private static partial Regex SetOutput();

    /// <summary>Every traced output write, in order (QEMU traces a line only when its level changes).</summary>
    public IReadOnlyList<Change> Changes()
    {
        if (!File.Exists(path)) return [];
        string text;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var r = new StreamReader(fs))
            text = r.ReadToEnd();
        return SetOutput().Matches(text).Select(m => new Change(
            int.Parse(m.Groups["line"].Value),
            int.Parse(m.Groups["value"].Value),
            m.Groups["t"].Success ? double.Parse(m.Groups["t"].Value, CultureInfo.InvariantCulture) : null)).ToList();
    }

    /// <summary>The successive levels of one line (consecutive duplicates collapsed).</summary>
    public IReadOnlyList<int> Levels(int line)
    {
        var levels = new List<int>();
        foreach (var c in Changes().Where(c => c.Line == line))
            if (levels.Count == 0 || levels[^1] != c.Value) levels.Add(c.Value);
        return levels;
    }

    /// <summary>Waits until <paramref name="line"/> has stayed at <paramref name="level"/> for
    /// <paramref name="steadyFor"/> (no further change traced) and returns its level history; throws on timeout
    /// with the history. A blinking line never qualifies.</summary>
    public IReadOnlyList<int> WaitSteady(int line, int level, TimeSpan steadyFor, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var lastCount = -1;
        var since = DateTime.UtcNow;
        while (true)
        {
            var changes = Changes().Count(c => c.Line == line);
            if (changes != lastCount) { lastCount = changes; since = DateTime.UtcNow; }
            var levels = Levels(line);
            if (levels.Count > 0 && levels[^1] == level && DateTime.UtcNow - since >= steadyFor) return levels;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"PL061 line {line} did not stay at {level} for {steadyFor.TotalSeconds:0.#} s within {timeout.TotalSeconds:0} s; levels: [{string.Join(",", levels.TakeLast(40))}] ({levels.Count} in all)");
            Thread.Sleep(200);
        }
    }

    /// <summary>How many times <paramref name="line"/> changed level so far.</summary>
    public int Transitions(int line) => Math.Max(0, Levels(line).Count - 1);
}
