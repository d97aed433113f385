using System.Globalization;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>The kernel's printf for BPF (bpf_bprintf_prepare + bstr_printf), shared by bpf_trace_printk (6),
/// bpf_snprintf (165) and bpf_trace_vprintk (177). A format is printable ASCII or white space; a conversion is
/// <c>%[0+- ]*[width](d|i|u|x|X)</c> with an optional <c>l</c> or <c>ll</c> (without them the argument is its low 32
/// bits), <c>%c</c>, <c>%s</c> (followed by NUL, white space or punctuation), <c>%pI4 %pi4 %pI6 %pi6</c> (the address
/// read from the pointer, zeros when unreadable), <c>%p %px %pK %ps %pS %pB</c> (the pointer's value in hex: the
/// appliance has no kernel address to hash or symbolize) and <c>%pks %pus</c> (strings); <c>%%</c> is a percent sign.
/// Anything else (h, z, #, precision), or a conversion beyond the arguments, is -EINVAL, as the kernel; strings
/// and addresses share the kernel's 512-byte argument buffer (-ENOSPC past it). Allocates (a debugging path).</summary>
internal static class BprintfFormatter
{
    public const int MaxVarArgs = 12;      // MAX_BPRINTF_VARARGS
    private const int ArgumentBuffer = 512; // MAX_BPRINTF_BIN_ARGS
    private const int MaxWidth = 4096;     // the kernel allows far more; no program needs it

    /// <summary>Checks <paramref name="fmt"/> (up to its NUL) for <paramref name="argumentCount"/> arguments, as the
    /// kernel's verifier does for bpf_snprintf at load: 0 or -errno.</summary>
    public static int Check(ReadOnlySpan<byte> fmt, int argumentCount) => Run(null, fmt, [], argumentCount, null);

    /// <summary>Formats <paramref name="fmt"/> (up to its NUL) with <paramref name="args"/> into <paramref name="output"/>,
    /// reading %s strings and %pI addresses from <paramref name="vm"/>'s memory: 0 or -errno.</summary>
    public static int Format(BpfVm vm, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args, List<byte> output) => Run(vm, fmt, args, args.Length, output);

    private static int Run(BpfVm? vm, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args, int argumentCount, List<byte>? output)
    {
        int end = fmt.IndexOf((byte)0);
        if (end >= 0) fmt = fmt[..end];
        int used = 0, argument = 0;
        byte At(ReadOnlySpan<byte> f, int i) => i < f.Length ? f[i] : (byte)0;
        for (int i = 0; i < fmt.Length; i++)
        {
            byte c = fmt[i];
            if (c > 127 || !(c >= 32 && c < 127 || c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r'))
                return -Errno.EINVAL;
            if (c != '%') { output?.Add(c); continue; }
            if (At(fmt, i + 1) == '%') { output?.Add((byte)'%'); i++; continue; }
            if (argument >= argumentCount) return -Errno.EINVAL;
            i++;
            bool left = false, plus = false, space = false, zero = false;
            for (; ; i++)
            {
                byte f = At(fmt, i);
                if (f == '-') left = true;
                else if (f == '+') plus = true;
                else if (f == ' ') space = true;
                else if (f == '0') zero = true;
                else break;
            }
            int width = 0;
            if (At(fmt, i) is >= (byte)'1' and <= (byte)'9')
                while (At(fmt, i) is >= (byte)'0' and <= (byte)'9') width = Math.Min(width * 10 + (fmt[i++] - '0'), MaxWidth);
            ulong raw = argument < args.Length ? args[argument] : 0;
            argument++;
            byte conversion = At(fmt, i);
            byte[]? piece; // the text before padding, or null for a number (rendered below)
            if (conversion == 'p')
            {
                byte next = At(fmt, i + 1);
                if (StringEnds(next))
                {
                    piece = Hex(raw);
                    used = Align(used) + 8;
                }
                else if (next is (byte)'k' or (byte)'u' && At(fmt, i + 2) == 's')
                {
                    i += 2;
                    if (!StringEnds(At(fmt, i + 1))) return -Errno.EINVAL;
                    piece = ReadString(vm, raw, ArgumentBuffer - used);
                    used += (piece?.Length ?? 0) + 1;
                    if (used > ArgumentBuffer) return -Errno.ENOSPC;
                }
                else if (next is (byte)'K' or (byte)'x' or (byte)'s' or (byte)'S' or (byte)'B')
                {
                    i++;
                    piece = Hex(raw);
                    used = Align(used) + 8;
                }
                else if (next is (byte)'i' or (byte)'I' && At(fmt, i + 2) is (byte)'4' or (byte)'6')
                {
                    i += 2;
                    int bytes = fmt[i] == '4' ? 4 : 16;
                    if (ArgumentBuffer - used < bytes) return -Errno.ENOSPC;
                    piece = vm is null ? null : Address(vm, raw, bytes, colons: next == 'I');
                    used += (piece?.Length ?? 0) + 1;
                }
                else return -Errno.EINVAL;
            }
            else if (conversion == 's')
            {
                if (!StringEnds(At(fmt, i + 1))) return -Errno.EINVAL;
                if (used >= ArgumentBuffer && vm is not null) return -Errno.ENOSPC;
                piece = ReadString(vm, raw, ArgumentBuffer - used);
                used += (piece?.Length ?? 0) + 1;
            }
            else if (conversion == 'c')
            {
                if (used >= ArgumentBuffer && vm is not null) return -Errno.ENOSPC;
                piece = [(byte)raw];
                used++;
            }
            else
            {
                int longs = 0;
                while (longs < 2 && At(fmt, i) == 'l') { longs++; i++; }
                conversion = At(fmt, i);
                if (conversion is not ((byte)'d' or (byte)'i' or (byte)'u' or (byte)'x' or (byte)'X')) return -Errno.EINVAL;
                used = Align(used) + (longs == 0 ? 4 : 8);
                if (output is null) continue;
                ulong value = longs == 0 ? (uint)raw : raw;
                bool signed = conversion is (byte)'d' or (byte)'i';
                bool negative = signed && (longs == 0 ? (int)value < 0 : (long)value < 0);
                ulong magnitude = !negative ? value : longs == 0 ? (ulong)-(long)(int)value : (ulong)-(long)value;
                string digits = conversion switch
                {
                    (byte)'x' => magnitude.ToString("x", CultureInfo.InvariantCulture),
                    (byte)'X' => magnitude.ToString("X", CultureInfo.InvariantCulture),
                    _ => magnitude.ToString(CultureInfo.InvariantCulture),
                };
                string sign = negative ? "-" : signed && plus ? "+" : signed && space ? " " : "";
                int pad = Math.Max(0, width - sign.Length - digits.Length);
                string text = left ? sign + digits + new string(' ', pad)
                    : zero ? sign + new string('0', pad) + digits
                    : new string(' ', pad) + sign + digits;
                foreach (char ch in text) output.Add((byte)ch);
                continue;
            }
            if (output is null) continue;
            piece ??= [];
            int fill = Math.Max(0, width - piece.Length);
            if (!left) for (int k = 0; k < fill; k++) output.Add((byte)' ');
            output.AddRange(piece);
            if (left) for (int k = 0; k < fill; k++) output.Add((byte)' ');
            // bstr_printf skips the letters and digits after a %p conversion's own ("%pI4x" prints no x).
            if (conversion == 'p')
                while (char.IsAsciiLetterOrDigit((char)At(fmt, i + 1))) i++;
        }
        return used > ArgumentBuffer ? -Errno.ENOSPC : 0;
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>NUL, white space or punctuation (C's ispunct: printable, not a letter, digit or space).</summary>
    private static bool StringEnds(byte next) => next == 0 || IsSpace(next) || next is > 32 and < 127 && !char.IsAsciiLetterOrDigit((char)next);

    private static int Align(int used) => (used + 3) & ~3;

    private static byte[] Hex(ulong value) => System.Text.Encoding.ASCII.GetBytes(value.ToString("x16", CultureInfo.InvariantCulture));

    /// <summary>The NUL-terminated string at <paramref name="address"/> (at most <paramref name="room"/> − 1 bytes, as
    /// the kernel's strncpy_from_kernel_nofault into what is left of its buffer); empty when unreadable.</summary>
    private static byte[]? ReadString(BpfVm? vm, ulong address, int room)
    {
        if (vm is null) return null;
        var bytes = new List<byte>();
        for (int i = 0; i < room - 1; i++)
        {
            if (!vm.TryReadByte(address + (ulong)i, out byte b) || b == 0) break;
            bytes.Add(b);
        }
        return [.. bytes];
    }

    private static byte[] Address(BpfVm vm, ulong address, int length, bool colons)
    {
        Span<byte> ip = stackalloc byte[16];
        ip.Clear();
        for (int i = 0; i < length; i++)
            if (!vm.TryReadByte(address + (ulong)i, out ip[i])) { ip.Clear(); break; }
        string text;
        if (length == 4)
            text = colons ? $"{ip[0]}.{ip[1]}.{ip[2]}.{ip[3]}" : $"{ip[0]:D3}.{ip[1]:D3}.{ip[2]:D3}.{ip[3]:D3}";
        else
        {
            var s = new System.Text.StringBuilder();
            for (int g = 0; g < 8; g++)
            {
                s.Append(ip[g * 2].ToString("x2", CultureInfo.InvariantCulture)).Append(ip[g * 2 + 1].ToString("x2", CultureInfo.InvariantCulture));
                if (colons && g != 7) s.Append(':');
            }
            text = s.ToString();
        }
        return System.Text.Encoding.ASCII.GetBytes(text);
    }
}
