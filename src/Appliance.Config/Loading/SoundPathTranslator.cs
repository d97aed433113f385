using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Appliance.Config;

/// <summary>
/// Turns JSON paths of the sound tree (where dropped array elements no longer count) back into the file's
/// own paths: "$.pairs[0]" becomes "$.pairs[1]" when the file's first pair was dropped. Paths quoted inside
/// messages ("already used by $.ports[0]") are translated the same way.
/// </summary>
internal static partial class SoundPathTranslator
{
    public static string ToOriginalPath(string soundPath, IReadOnlyDictionary<string, List<int>> keptIndices)
    {
        if (keptIndices.Count == 0 || !soundPath.StartsWith('$')) return soundPath;
        var original = new StringBuilder("$");
        int i = 1;
        while (i < soundPath.Length)
        {
            int end = SegmentEnd(soundPath, i);
            if (end < 0) { original.Append(soundPath, i, soundPath.Length - i); break; }
            if (soundPath[i] == '[' && soundPath[i + 1] != '\''
                && int.TryParse(soundPath.AsSpan(i + 1, end - i - 2), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            {
                if (keptIndices.TryGetValue(original.ToString(), out var kept) && index < kept.Count) index = kept[index];
                original.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
            else original.Append(soundPath, i, end - i);
            i = end;
        }
        return original.ToString();
    }

    public static string ToOriginalMessage(string message, IReadOnlyDictionary<string, List<int>> keptIndices) =>
        keptIndices.Count == 0 ? message : QuotedPath().Replace(message, m => ToOriginalPath(m.Value, keptIndices));

    /// <summary>End (exclusive) of the segment starting at <paramref name="start"/>: ".name", "['name']" or "[3]"; -1 if malformed.</summary>
    private static int SegmentEnd(string path, int start)
    {
        if (path[start] == '.')
        {
            int end = start + 1;
            while (end < path.Length && path[end] is not '.' and not '[') end++;
            return end;
        }
        if (path[start] != '[' || start + 1 >= path.Length) return -1;
        if (path[start + 1] != '\'')
        {
            int close = path.IndexOf(']', start);
            return close < 0 ? -1 : close + 1;
        }
        for (int end = start + 2; end < path.Length; end++)
        {
            if (path[end] == '\\') { end++; continue; }
            if (path[end] == '\'') return end + 1 < path.Length && path[end + 1] == ']' ? end + 2 : -1;
        }
        return -1;
    }

    [GeneratedRegex(@"\$(?:\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\]|\['(?:[^'\\]|\\.)*'\])+")]
    private static partial Regex QuotedPath();
}
