namespace Appliance.Host.Leds;

/// <summary>The LEDs of the board profile (/etc/board.env in the image, from board/NAME/board.env):
/// <c>BOARD_LEDS="NAME=CHIP_LABEL:LINE:POLARITY:TRIGGER ..."</c> (whitespace-separated, POLARITY is
/// active-high or active-low, TRIGGER may contain ':' as in link:eth0). A CHIP_LABEL of "sysfs" means a
/// kernel LED: <c>NAME=sysfs:LED_NAME:-:TRIGGER</c>. Used when the config file cannot be read, so the status
/// LED can still show the invalid config.</summary>
public static class BoardLedProfile
{
    public static LedSetup Parse(string boardEnvText)
    {
        var value = Variable(boardEnvText, "BOARD_LEDS");
        if (value is null) return LedSetup.None;
        var specs = new List<LedSpec>();
        foreach (var entry in value.Split((char[])[' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = entry.IndexOf('=');
            var name = eq < 0 ? "" : entry[..eq];
            var rest = eq < 0 ? "" : entry[(eq + 1)..];
            if (rest.StartsWith("sysfs:", StringComparison.Ordinal) && rest.IndexOf(":-:", StringComparison.Ordinal) is var dash and > 6)
            {
                // Kernel LED names contain colons themselves ("board:green:pwr"): the ":-:" polarity marks the end.
                specs.Add(new LedSpec(name, new KernelLedAddress(rest[6..dash]), rest[(dash + 3)..]));
                continue;
            }
            var fields = rest.Split(':', 4);
            if (name.Length == 0 || fields.Length != 4)
                throw new FormatException($"BOARD_LEDS entry \"{entry}\": expected NAME=CHIP_LABEL:LINE:POLARITY:TRIGGER or NAME=sysfs:LED_NAME:-:TRIGGER");
            LedLineAddress address;
            if (int.TryParse(fields[1], out var line) && fields[2] is "active-high" or "active-low")
                address = new GpioLineAddress(fields[0], line, fields[2] == "active-low");
            else
                throw new FormatException($"BOARD_LEDS entry \"{entry}\": LINE must be a number and POLARITY active-high or active-low");
            specs.Add(new LedSpec(name, address, fields[3]));
        }
        return new LedSetup(specs);
    }

    /// <summary>The value of a shell-style KEY=VALUE or KEY="multi-line value" assignment, or null.</summary>
    private static string? Variable(string text, string key)
    {
        var prefix = key + "=";
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimStart();
            if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = line[prefix.Length..];
            if (!rest.StartsWith('"')) return rest.Trim();
            var sb = new System.Text.StringBuilder();
            rest = rest[1..];
            while (true)
            {
                var close = rest.IndexOf('"');
                if (close >= 0) return sb.Append(rest[..close]).ToString();
                sb.Append(rest).Append('\n');
                if (++i >= lines.Length) throw new FormatException($"{key}: unterminated quoted value");
                rest = lines[i];
            }
        }
        return null;
    }
}
