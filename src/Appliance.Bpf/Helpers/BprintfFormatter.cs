using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>The kernel's printf for BPF, shared by bpf_trace_printk (6), bpf_snprintf (165) and bpf_trace_vprintk (177),
/// in the kernel's two steps. <see cref="Prepare"/> is bpf_bprintf_prepare: it checks the format and packs the
/// arguments into a 512-byte argument buffer (MAX_BPRINTF_BIN_ARGS) as the kernel lays them out — numbers as 4 or 8
/// aligned bytes, %c as one byte, %s strings and %pI4/%pI6 addresses copied in as text — failing with -ENOSPC where
/// that buffer runs out and -EINVAL for a bad conversion, whichever its loop meets first. <see cref="Print"/> is
/// bstr_printf: it walks the format again, reading the packed arguments, and writes the text straight into the
/// destination, counting what does not fit, so it returns the whole length. A format is printable ASCII or white
/// space; a conversion is <c>%[0+- ]*[width](d|i|u|x|X)</c> with an optional <c>l</c> or <c>ll</c> (without them the
/// argument is its low 32 bits), <c>%c</c>, <c>%s</c> (followed by NUL, white space or punctuation),
/// <c>%pI4 %pi4 %pI6 %pi6</c> (the address read from the pointer, zeros when unreadable), <c>%pks %pus</c> (strings),
/// <c>%p %px %pK %ps %pS</c> (the pointer's value as %px prints it: the appliance has no kernel address to hash or
/// symbolize) and <c>%pB</c> (its 16 hex digits); <c>%%</c> is a percent sign. Anything else (h, z, #, precision),
/// or a conversion beyond the arguments, is -EINVAL. As the kernel: a width is the decimal digits wrapped to a 32-bit
/// int and clamped to ±(2^23 − 1), the kernel's 24-bit field (negative: no padding); the dereferenced conversions (%pI4, %pi4, %pI6,
/// %pi6, %pks, %pus, %pB) are copied without width padding, and only while the destination has room (past its end
/// they add nothing to the length); %p and %px zero-pad to 16 hex digits only without a width. A call allocates
/// nothing and does work bounded by the format, the 512 bytes and what fits in the destination.</summary>
internal static class BprintfFormatter
{
    public const int MaxVarArgs = 12;       // MAX_BPRINTF_VARARGS
    public const int ArgumentBuffer = 512;  // MAX_BPRINTF_BIN_ARGS
    public const int LineBuffer = 1024;     // MAX_BPRINTF_BUF: bpf_trace_printk's line

    private const int FieldWidthMax = (1 << 23) - 1; // printf_spec.field_width is a 24-bit signed bit-field

    private const int Sign = 1, Left = 2, Plus = 4, Space = 8, ZeroPad = 16, Small = 32; // lib/vsprintf.c's flags

    /// <summary>Checks <paramref name="fmt"/> (up to its NUL) for <paramref name="argumentCount"/> arguments, as the
    /// kernel's verifier does for bpf_snprintf at load (no argument buffer: no -ENOSPC): 0 or -errno.</summary>
    public static int Check(ReadOnlySpan<byte> fmt, int argumentCount) => Prepare(null, Terminated(fmt), [], argumentCount, []);

    /// <summary>Formats <paramref name="fmt"/> (up to its NUL) with <paramref name="args"/> into <paramref name="output"/>
    /// (NUL-terminated when not empty, truncated where it is full), reading %s strings and %pI addresses from
    /// <paramref name="vm"/>'s memory: the whole formatted length (without the NUL), or -errno with
    /// <paramref name="output"/> untouched.</summary>
    public static int Format(BpfVm vm, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args, Span<byte> output)
    {
        fmt = Terminated(fmt);
        Span<byte> packed = stackalloc byte[ArgumentBuffer];
        // The kernel has an argument buffer only with arguments (without, no conversion is valid anyway).
        int error = Prepare(vm, fmt, args, args.Length, args.IsEmpty ? [] : packed);
        return error < 0 ? error : Print(fmt, packed, output);
    }

    private static ReadOnlySpan<byte> Terminated(ReadOnlySpan<byte> fmt)
    {
        int end = fmt.IndexOf((byte)0);
        return end >= 0 ? fmt[..end] : fmt;
    }

    private static byte At(ReadOnlySpan<byte> fmt, int i) => (uint)i < (uint)fmt.Length ? fmt[i] : (byte)0;

    /// <summary>bpf_bprintf_prepare: 0 or -errno. <paramref name="packed"/> empty is the kernel's NULL tmp_buf (the
    /// check at load): nothing is copied and nothing can run out.</summary>
    private static int Prepare(BpfVm? vm, ReadOnlySpan<byte> fmt, ReadOnlySpan<ulong> args, int argumentCount, Span<byte> packed)
    {
        bool copy = !packed.IsEmpty;
        Span<byte> text = stackalloc byte[40]; // an address or %pB as text
        int used = 0, spec = 0; // used may pass the end after a truncated address, as the kernel's tmp_buf
        for (int i = 0; i < fmt.Length; i++)
        {
            byte c = fmt[i];
            if (c > 127 || !(c >= 32 && c < 127 || IsSpace(c))) return -Errno.EINVAL;
            if (c != '%') continue;
            if (At(fmt, i + 1) == '%') { i++; continue; }
            if (spec >= argumentCount) return -Errno.EINVAL;
            i++;
            while (At(fmt, i) is (byte)'0' or (byte)'+' or (byte)'-' or (byte)' ') i++;
            if (At(fmt, i) is >= (byte)'1' and <= (byte)'9')
                while (At(fmt, i) is >= (byte)'0' and <= (byte)'9') i++;
            ulong arg = spec < args.Length ? args[spec] : 0;
            spec++;
            int size;
            byte conversion = At(fmt, i);
            if (conversion == 'p')
            {
                byte next = At(fmt, i + 1);
                if (StringEnds(next)) size = 8;
                else if (next is (byte)'k' or (byte)'u' && At(fmt, i + 2) == 's')
                {
                    i += 2;
                    if (!StringEnds(At(fmt, i + 1))) return -Errno.EINVAL;
                    if (copy && CopyString(vm!, arg, packed, ref used) < 0) return -Errno.ENOSPC;
                    continue;
                }
                else if (next is (byte)'K' or (byte)'x' or (byte)'s' or (byte)'S') { i++; size = 8; }
                else if (next == 'B')
                {
                    i++;
                    if (copy)
                    {
                        Hex16(arg, text);
                        Pack(text[..16], packed, ref used);
                    }
                    continue;
                }
                else if (next is (byte)'i' or (byte)'I' && At(fmt, i + 2) is (byte)'4' or (byte)'6')
                {
                    i += 2;
                    if (!copy) continue;
                    int bytes = fmt[i] == '4' ? 4 : 16;
                    if (packed.Length - used < bytes) return -Errno.ENOSPC;
                    Pack(text[..Address(vm!, arg, bytes, colons: next == 'I', text)], packed, ref used);
                    continue;
                }
                else return -Errno.EINVAL;
            }
            else if (conversion == 's')
            {
                if (!StringEnds(At(fmt, i + 1))) return -Errno.EINVAL;
                if (copy && CopyString(vm!, arg, packed, ref used) < 0) return -Errno.ENOSPC;
                continue;
            }
            else if (conversion == 'c')
            {
                if (!copy) continue;
                if (used >= packed.Length) return -Errno.ENOSPC;
                packed[used++] = (byte)arg;
                continue;
            }
            else
            {
                size = 4;
                if (At(fmt, i) == 'l') { size = 8; i++; }
                if (At(fmt, i) == 'l') i++;
                if (At(fmt, i) is not ((byte)'d' or (byte)'i' or (byte)'u' or (byte)'x' or (byte)'X')) return -Errno.EINVAL;
            }
            if (!copy) continue;
            used = Align(used);
            if (packed.Length - used < size) return -Errno.ENOSPC;
            if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(packed[used..], arg);
            else BinaryPrimitives.WriteUInt32LittleEndian(packed[used..], (uint)arg);
            used += size;
        }
        return 0;
    }

    /// <summary>strncpy_from_kernel_nofault into what is left of the buffer: at most the room less one byte, then a
    /// NUL; an unreadable string is empty. -1 when no room is left.</summary>
    private static int CopyString(BpfVm vm, ulong address, Span<byte> packed, ref int used)
    {
        int room = packed.Length - used;
        if (room <= 0) return -1;
        if (!vm.TryReadString(address, room, fault: false, out var text)) text = default;
        if (text.Length == room) text = text[..(room - 1)];
        text.CopyTo(packed[used..]);
        packed[used + text.Length] = 0;
        used += text.Length + 1;
        return 0;
    }

    /// <summary>The kernel's snprintf of formatted text into what is left of the buffer: truncated (with its NUL) to
    /// fit, but the whole length counted.</summary>
    private static void Pack(ReadOnlySpan<byte> text, Span<byte> packed, ref int used)
    {
        int room = packed.Length - used;
        if (room > 0)
        {
            int n = Math.Min(text.Length, room - 1);
            text[..n].CopyTo(packed[used..]);
            packed[used + n] = 0;
        }
        used += text.Length + 1;
    }

    /// <summary>bstr_printf over the arguments <see cref="Prepare"/> packed (a format it accepted): the whole length.</summary>
    private static int Print(ReadOnlySpan<byte> fmt, ReadOnlySpan<byte> packed, Span<byte> output)
    {
        var w = new Writer(output);
        Span<byte> digits = stackalloc byte[24];
        int args = 0;
        int i = 0;
        while (i < fmt.Length)
        {
            if (fmt[i] != '%')
            {
                int run = fmt[i..].IndexOf((byte)'%');
                if (run < 0) run = fmt.Length - i;
                w.Text(fmt.Slice(i, run));
                i += run;
                continue;
            }
            i++;
            int flags = 0;
            for (; ; i++)
            {
                byte f = At(fmt, i);
                if (f == '-') flags |= Left;
                else if (f == '+') flags |= Plus;
                else if (f == ' ') flags |= Space;
                else if (f == '0') flags |= ZeroPad;
                else break;
            }
            int width = -1;
            if (At(fmt, i) is >= (byte)'0' and <= (byte)'9')
            {
                int atoi = 0;
                while (At(fmt, i) is >= (byte)'0' and <= (byte)'9') atoi = unchecked(atoi * 10 + (fmt[i++] - '0'));
                width = Math.Clamp(atoi, -FieldWidthMax, FieldWidthMax); // negative: no padding
            }
            bool wide = false;
            if (At(fmt, i) == 'l') { wide = true; i++; }
            if (At(fmt, i) == 'l') i++;
            byte conversion = At(fmt, i++);
            switch (conversion)
            {
                case (byte)'%':
                    w.Put((byte)'%');
                    break;
                case (byte)'c':
                    if ((flags & Left) == 0) w.Fill((byte)' ', width - 1);
                    w.Put(args < packed.Length ? packed[args] : (byte)0);
                    args++;
                    if ((flags & Left) != 0) w.Fill((byte)' ', width - 1);
                    break;
                case (byte)'s':
                {
                    var s = PackedString(packed, args);
                    args += s.Length + 1;
                    if ((flags & Left) == 0) w.Fill((byte)' ', width - s.Length);
                    w.Text(s);
                    if ((flags & Left) != 0) w.Fill((byte)' ', width - s.Length);
                    break;
                }
                case (byte)'p':
                {
                    byte kind = At(fmt, i);
                    if (kind is (byte)'S' or (byte)'s' or (byte)'x' or (byte)'K' || !char.IsAsciiLetterOrDigit((char)kind))
                    {
                        ulong pointer = Read(packed, ref args, 8);
                        // pointer_string: without a width, 16 zero-padded digits.
                        if (width == -1) Number(ref w, pointer, flags | Small | ZeroPad, 16, 16, digits);
                        else Number(ref w, pointer, flags | Small, width, 16, digits);
                    }
                    else if (!w.Full)
                    {
                        // Dereferenced already (the text Prepare packed): copied without width, and only while there
                        // is room — past the end the kernel neither counts it nor moves past it.
                        var s = PackedString(packed, args);
                        w.Text(s);
                        args += s.Length + 1;
                    }
                    while (char.IsAsciiLetterOrDigit((char)At(fmt, i))) i++;
                    break;
                }
                default:
                {
                    bool signed = conversion is (byte)'d' or (byte)'i';
                    ulong value = wide ? Read(packed, ref args, 8)
                        : signed ? (ulong)(long)(int)(uint)Read(packed, ref args, 4) : Read(packed, ref args, 4);
                    int numberFlags = flags | (signed ? Sign : 0) | (conversion == 'x' ? Small : 0);
                    Number(ref w, value, numberFlags, width, conversion is (byte)'x' or (byte)'X' ? 16 : 10, digits);
                    break;
                }
            }
        }
        w.Terminate();
        return w.Length;
    }

    /// <summary>lib/vsprintf.c's number() without precision or prefix (the BPF formats allow neither).</summary>
    private static void Number(ref Writer w, ulong num, int flags, int width, int numberBase, scoped Span<byte> digits)
    {
        if ((flags & Left) != 0) flags &= ~ZeroPad;
        byte sign = 0;
        if ((flags & Sign) != 0)
        {
            if ((long)num < 0) { sign = (byte)'-'; num = 0 - num; }
            else if ((flags & Plus) != 0) sign = (byte)'+';
            else if ((flags & Space) != 0) sign = (byte)' ';
        }
        int n = 0;
        byte lower = (flags & Small) != 0 ? (byte)0x20 : (byte)0;
        do
        {
            int digit = (int)(num % (ulong)numberBase);
            digits[n++] = digit < 10 ? (byte)('0' + digit) : (byte)(('A' + digit - 10) | lower);
            num /= (ulong)numberBase;
        } while (num != 0);
        int pad = width - n - (sign != 0 ? 1 : 0);
        if ((flags & (ZeroPad | Left)) == 0) { w.Fill((byte)' ', pad); pad = 0; }
        if (sign != 0) w.Put(sign);
        if ((flags & Left) == 0) { w.Fill((flags & ZeroPad) != 0 ? (byte)'0' : (byte)' ', pad); pad = 0; }
        for (int k = n - 1; k >= 0; k--) w.Put(digits[k]);
        w.Fill((byte)' ', pad);
    }

    /// <summary>bstr_printf's get_arg: 4-byte aligned, little-endian; zeros past the buffer (never met after a
    /// successful <see cref="Prepare"/> but for a kernel-quirk layout).</summary>
    private static ulong Read(ReadOnlySpan<byte> packed, ref int args, int size)
    {
        args = Align(args);
        ulong value = args + size > packed.Length ? 0
            : size == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(packed[args..]) : BinaryPrimitives.ReadUInt32LittleEndian(packed[args..]);
        args += size;
        return value;
    }

    private static ReadOnlySpan<byte> PackedString(ReadOnlySpan<byte> packed, int at)
    {
        if (at >= packed.Length) return default;
        var rest = packed[at..];
        int end = rest.IndexOf((byte)0);
        return end >= 0 ? rest[..end] : rest;
    }

    /// <summary>The destination of <see cref="Print"/>: bytes land while there is room; everything is counted.</summary>
    private ref struct Writer(Span<byte> output)
    {
        private readonly Span<byte> _output = output;
        public int Length;

        public readonly bool Full => Length >= _output.Length;

        public void Put(byte b)
        {
            if ((uint)Length < (uint)_output.Length) _output[Length] = b;
            Length++;
        }

        public void Fill(byte b, int count)
        {
            if (count <= 0) return;
            if (Length < _output.Length) _output.Slice(Length, Math.Min(count, _output.Length - Length)).Fill(b);
            Length += count;
        }

        public void Text(ReadOnlySpan<byte> text)
        {
            if (Length < _output.Length) text[..Math.Min(text.Length, _output.Length - Length)].CopyTo(_output[Length..]);
            Length += text.Length;
        }

        /// <summary>bstr_printf's end: a NUL after the text, or in the last byte when it filled the destination.</summary>
        public readonly void Terminate()
        {
            if (_output.IsEmpty) return;
            _output[Math.Min(Length, _output.Length - 1)] = 0;
        }
    }

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>NUL, white space or punctuation (C's ispunct: printable, not a letter, digit or space).</summary>
    private static bool StringEnds(byte next) => next == 0 || IsSpace(next) || next is > 32 and < 127 && !char.IsAsciiLetterOrDigit((char)next);

    private static int Align(int used) => (used + 3) & ~3;

    private static void Hex16(ulong value, Span<byte> text)
    {
        for (int k = 15; k >= 0; k--, value >>= 4) text[k] = (byte)"0123456789abcdef"[(int)(value & 15)];
    }

    /// <summary>%pI4 (1.2.3.4), %pi4 (001.002.003.004), %pI6 (16 bits a group, colons) or %pi6 (32 hex digits) of the
    /// <paramref name="length"/> bytes at <paramref name="address"/> (zeros when unreadable) into
    /// <paramref name="text"/>: its length.</summary>
    private static int Address(BpfVm vm, ulong address, int length, bool colons, Span<byte> text)
    {
        Span<byte> ip = stackalloc byte[16];
        ip.Clear();
        for (int i = 0; i < length; i++)
            if (!vm.TryReadByte(address + (ulong)i, out ip[i])) { ip.Clear(); break; }
        int n = 0;
        if (length == 4)
        {
            for (int g = 0; g < 4; g++)
            {
                if (g > 0) text[n++] = (byte)'.';
                int b = ip[g];
                if (!colons || b >= 100) text[n++] = (byte)('0' + b / 100);
                if (!colons || b >= 10) text[n++] = (byte)('0' + b / 10 % 10);
                text[n++] = (byte)('0' + b % 10);
            }
            return n;
        }
        for (int g = 0; g < 16; g++)
        {
            if (colons && g > 0 && g % 2 == 0) text[n++] = (byte)':';
            text[n++] = (byte)"0123456789abcdef"[ip[g] >> 4];
            text[n++] = (byte)"0123456789abcdef"[ip[g] & 15];
        }
        return n;
    }
}
