using System.Globalization;

namespace Appliance.Bpf.Tests.Conformance;

/// <summary>One bpf_conformance <c>.data</c> file (lib/src/bpf_test_parser.cc rules): sections <c>-- asm</c>,
/// <c>-- mem</c> (hex bytes), <c>-- result</c> (hex or decimal r0), <c>-- raw</c> (64-bit words replacing the
/// assembled program), <c>-- error</c>; <c>-- c</c> and <c>-- no register offset</c> are ignored; <c>#</c> comments.</summary>
internal sealed record ConformanceVector(string Name, string Assembly, byte[]? Memory, ulong? ExpectedResult, ulong[]? Raw, string? ExpectedError)
{
    public static ConformanceVector Parse(string path)
    {
        string section = "";
        var asm = new List<string>();
        var mem = new List<byte>();
        var raw = new List<ulong>();
        string? result = null, error = null;
        bool hasMem = false;
        foreach (string rawLine in File.ReadAllLines(path))
        {
            string line = rawLine;
            if (line.Contains("--", StringComparison.Ordinal) && line.TrimStart().StartsWith("--", StringComparison.Ordinal))
            {
                section = line.Trim()[2..].Trim();
                if (section == "mem") hasMem = true;
                continue;
            }
            if (section != "asm")
            {
                int hash = line.IndexOf('#');
                if (hash >= 0) line = line[..hash];
            }
            switch (section)
            {
                case "asm": asm.Add(line); break;
                case "mem":
                    foreach (string b in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                        mem.Add(byte.Parse(b, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    break;
                case "result":
                    if (line.Trim().Length > 0) result = line.Trim();
                    break;
                case "raw":
                    if (line.Trim().Length > 0) raw.Add(ParseNumber(line.Trim()));
                    break;
                case "error":
                    if (line.Trim().Length > 0) error = line.Trim();
                    break;
            }
        }
        return new ConformanceVector(Path.GetFileNameWithoutExtension(path), string.Join('\n', asm), hasMem ? [.. mem] : null,
            result is null ? null : ParseNumber(result), raw.Count > 0 ? [.. raw] : null, error);
    }

    private static ulong ParseNumber(string s) => s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
        ? ulong.Parse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : ulong.Parse(s, CultureInfo.InvariantCulture);
}
