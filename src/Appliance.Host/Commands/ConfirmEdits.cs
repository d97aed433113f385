using System.Globalization;

namespace Appliance.Host.Commands;

/// <summary>The `--confirm-edits SECONDS` value of `run` and `init`: a positive number of seconds, or 0 for off (null).</summary>
public static class ConfirmEdits
{
    public static TimeSpan? Parse(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
}
