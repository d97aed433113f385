using System.Text;

namespace Appliance.Host.Init;

/// <summary>Reads /proc/self/mounts (fstab format: source, target, type, options, 0, 0; spaces in paths
/// escaped as octal "\040").</summary>
public static class MountTable
{
    public static IReadOnlySet<string> Targets(string mountsText)
    {
        var targets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in mountsText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            if (fields.Length >= 2) targets.Add(Unescape(fields[1]));
        }
        return targets;
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\')) return field;
        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(field[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int at) =>
        at + 3 <= s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
