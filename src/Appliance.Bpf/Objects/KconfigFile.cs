namespace Appliance.Bpf.Objects;

/// <summary>Reads a kernel config (<c>.config</c> text) into the <c>CONFIG_*</c> externs, line by line as libbpf's
/// bpf_object__read_kconfig_file does: libbpf reads lines of up to 4095 bytes (gzgets into a PATH_MAX buffer; a longer
/// line goes on as a line of its own) and as C strings (to a NUL); only those starting <c>CONFIG_</c> count (a
/// comment "# CONFIG_X is not set" leaves X unset); such a line must have a '=' and a value, else the whole config is
/// refused; a name the object has no extern for, or one set by an earlier line, is skipped; the value starts y, n or m
/// (a letter: only that first byte counts), '"' (a string), or is a number as strtoull reads it (decimal, 0x hex,
/// 0 octal, a sign; the whole rest of the line). The first error refuses the config, as libbpf refuses the object.</summary>
public static class KconfigFile
{
    /// <summary>libbpf's line buffer: PATH_MAX bytes, the last for the NUL.</summary>
    public const int MaxLine = 4095;

    /// <summary>Applies <paramref name="text"/> to <paramref name="values"/>; returns why it cannot, naming the line
    /// (1-based, as libbpf reads lines) and <paramref name="source"/>, or null.</summary>
    public static string? Apply(ReadOnlySpan<byte> text, string source, KconfigValues values)
    {
        int line = 0;
        for (int at = 0; at < text.Length;)
        {
            int newline = text[at..Math.Min(text.Length, at + MaxLine)].IndexOf((byte)'\n');
            int length = newline >= 0 ? newline + 1 : Math.Min(MaxLine, text.Length - at);
            var chunk = text.Slice(at, length);
            at += length;
            line++;
            int nul = chunk.IndexOf((byte)0);
            if (nul >= 0) chunk = chunk[..nul];
            if (ProcessLine(chunk, values) is { } why)
                return $"{source} line {line}: {why}";
        }
        return null;
    }

    private static string? ProcessLine(ReadOnlySpan<byte> line, KconfigValues values)
    {
        if (!line.StartsWith("CONFIG_"u8)) return null;
        int sep = line.IndexOf((byte)'=');
        if (sep < 0) return $"{KconfigValues.Show(Trim(line))} has no '=' (libbpf refuses such a config)";
        line = Trim(line);
        if (sep == line.Length - 1) return $"{KconfigValues.Show(line)} has no value (libbpf refuses such a config)";
        int index = values.Find(line[..sep]);
        if (index < 0 || values.IsSet(index)) return null;
        var value = line[(sep + 1)..];
        switch (value[0])
        {
            case (byte)'y' or (byte)'n' or (byte)'m':
                return values.SetTristate(index, value[0]);
            case (byte)'"':
                return values.SetString(index, value);
        }
        var e = values.Externs[index];
        if (StrToULong(value) is not { } number)
            return $"extern (__kconfig) '{e.Name}': value {KconfigValues.Show(value)} is not a number";
        if (e.Type is not (KconfigType.Int or KconfigType.Char))
            return $"extern (__kconfig) '{e.Name}': value {KconfigValues.Show(value)} is a number, and the extern is {KconfigValues.Describe(e)}";
        return values.SetNumber(index, number);
    }

    /// <summary>The line without its one trailing '\n'.</summary>
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\n' ? line[..^1] : line;

    /// <summary>strtoull(value, &amp;end, 0) that must use the whole value, or null where libbpf's parse_u64 fails (nothing
    /// read, something left over, or more than 64 bits: ERANGE).</summary>
    public static ulong? StrToULong(ReadOnlySpan<byte> value)
    {
        int i = 0;
        while (i < value.Length && value[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        bool negative = false;
        if (i < value.Length && value[i] is (byte)'+' or (byte)'-') negative = value[i++] == (byte)'-';
        uint radix = 10;
        if (i < value.Length && value[i] == (byte)'0')
        {
            if (i + 2 < value.Length && value[i + 1] is (byte)'x' or (byte)'X' && Digit(value[i + 2]) < 16)
            {
                radix = 16;
                i += 2;
            }
            else
            {
                radix = 8;
            }
        }
        int start = i;
        ulong result = 0;
        bool overflow = false;
        for (; i < value.Length && Digit(value[i]) < radix; i++)
        {
            uint d = Digit(value[i]);
            if (result > (ulong.MaxValue - d) / radix) overflow = true;
            else result = result * radix + d;
        }
        if (i == start || i != value.Length || overflow) return null;
        return negative ? 0 - result : result;
    }

    private static uint Digit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => (uint)(b - '0'),
        >= (byte)'a' and <= (byte)'z' => (uint)(b - 'a' + 10),
        >= (byte)'A' and <= (byte)'Z' => (uint)(b - 'A' + 10),
        _ => uint.MaxValue,
    };
}
