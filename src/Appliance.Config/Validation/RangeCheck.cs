namespace Appliance.Config;

/// <summary>Reports an integer outside an inclusive range, saying the range and why it exists.</summary>
internal static class RangeCheck
{
    public static void Check(int value, int min, int max, string path, string what, ConfigIssues issues)
    {
        if (value < min || value > max)
            issues.Add(path, $"{what} {value} is out of range; expected {min}..{max}");
    }
}
