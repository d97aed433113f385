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
}
