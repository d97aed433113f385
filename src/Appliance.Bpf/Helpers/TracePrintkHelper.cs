using System.Globalization;
using System.Text;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_trace_printk (6): formats <c>fmt</c> (fmt_size bytes, NUL-terminated) with up to three
/// arguments (%d %i %u %x %X %c %p %s %%, with l/ll/h/z modifiers and a width) and sends the line to the VM's
/// trace sink, rate-limited. Returns the formatted length, or -EINVAL for a bad format (as the kernel).
/// Allocates: this is a debugging path, never the per-packet fast path of a production program.</summary>
internal static class TracePrintkHelper
{
    private const int MaxWidth = 64;

    public static HelperOutcome Invoke(BpfVm vm)
    {
        ulong size = vm.Argument(2);
        if (size == 0 || size > 1024) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!vm.TryGetMemory(vm.Argument(1), (int)size, false, out var fmt)) return HelperOutcome.Fault;
        if (fmt[^1] != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        string? line = Format(vm, fmt[..fmt.IndexOf((byte)0)]);
        if (line is null) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        vm.Trace($"{vm.CurrentProgram.Name}: {line.TrimEnd('\n')}");
        return LinuxHelperTable.Return(vm, (ulong)Encoding.UTF8.GetByteCount(line));
    }

    private static string? Format(BpfVm vm, ReadOnlySpan<byte> fmt)
    {
        var text = new StringBuilder();
        int argument = 3;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = (char)fmt[i];
            if (c != '%') { text.Append(c); continue; }
            if (++i >= fmt.Length) return null;
            if (fmt[i] == '%') { text.Append('%'); continue; }
            int width = 0;
            while (i < fmt.Length && char.IsAsciiDigit((char)fmt[i])) width = Math.Min(width * 10 + (fmt[i++] - '0'), MaxWidth);
            int longs = 0;
            while (i < fmt.Length && fmt[i] is (byte)'l' or (byte)'h' or (byte)'z') { if (fmt[i] != 'h') longs++; i++; }
            if (i >= fmt.Length || argument > 5) return null;
            ulong value = vm.Argument(argument++);
            if (longs == 0) value = (uint)value;
            string piece = (char)fmt[i] switch
            {
                'd' or 'i' => (longs == 0 ? (long)(int)value : (long)value).ToString(CultureInfo.InvariantCulture),
                'u' => value.ToString(CultureInfo.InvariantCulture),
                'x' => value.ToString("x", CultureInfo.InvariantCulture),
                'X' => value.ToString("X", CultureInfo.InvariantCulture),
                'c' => ((char)(byte)value).ToString(),
                'p' => "0x" + vm.Argument(argument - 1).ToString("x", CultureInfo.InvariantCulture),
                's' => ReadString(vm, vm.Argument(argument - 1)),
                _ => "\0",
            };
            if (piece == "\0") return null;
            text.Append(piece.PadLeft(width));
        }
        return text.ToString();
    }

    private static string ReadString(BpfVm vm, ulong address)
    {
        var bytes = new StringBuilder();
        for (int i = 0; i < 64; i++)
        {
            if (!vm.TryGetMemory(address + (ulong)i, 1, false, out var one) || one[0] == 0) break;
            bytes.Append((char)one[0]);
        }
        return bytes.ToString();
    }
}
