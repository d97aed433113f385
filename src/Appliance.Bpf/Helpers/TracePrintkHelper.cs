using System.Globalization;
using System.Text;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_trace_printk (6) and bpf_trace_vprintk (177, what libbpf's bpf_printk calls with more than three
/// arguments): formats <c>fmt</c> (fmt_size bytes, NUL-terminated) with its arguments (%d %i %u %x %X %c %p %s %%,
/// with l/ll/h/z modifiers and a width) — trace_printk's are r3–r5, trace_vprintk's an array of u64 (data,
/// data_len bytes: a multiple of 8, at most 12 of them) — and sends the line to the VM's trace sink, rate-limited.
/// Returns the formatted length, or -EINVAL for a bad format or argument array (as the kernel).
/// Allocates: this is a debugging path, never the per-packet fast path of a production program.</summary>
internal static class TracePrintkHelper
{
    private const int MaxWidth = 64;
    private const int MaxVarArgs = 12; // MAX_BPRINTF_VARARGS

    public static HelperOutcome Invoke(BpfVm vm) =>
        Print(vm, [vm.Argument(3), vm.Argument(4), vm.Argument(5)]);

    public static HelperOutcome InvokeVarArgs(BpfVm vm)
    {
        ulong length = vm.Argument(4);
        if (length % 8 != 0 || length > MaxVarArgs * 8 || length > 0 && vm.Argument(3) == 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        var args = new ulong[length / 8];
        if (length > 0)
        {
            if (!vm.TryGetMemory(vm.Argument(3), (int)length, false, out var data)) return HelperOutcome.Fault;
            for (int i = 0; i < args.Length; i++) args[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        }
        return Print(vm, args);
    }

    private static HelperOutcome Print(BpfVm vm, ulong[] args)
    {
        ulong size = vm.Argument(2);
        if (size == 0 || size > 1024) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!vm.TryGetMemory(vm.Argument(1), (int)size, false, out var fmt)) return HelperOutcome.Fault;
        if (fmt[^1] != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        string? line = Format(vm, fmt[..fmt.IndexOf((byte)0)], args);
        if (line is null) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        vm.Trace($"{vm.CurrentProgram.Name}: {line.TrimEnd('\n')}");
        return LinuxHelperTable.Return(vm, (ulong)Encoding.UTF8.GetByteCount(line));
    }

    private static string? Format(BpfVm vm, ReadOnlySpan<byte> fmt, ulong[] args)
    {
        var text = new StringBuilder();
        int argument = 0;
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
            if (i >= fmt.Length || argument >= args.Length) return null;
            ulong raw = args[argument++];
            ulong value = raw;
            if (longs == 0) value = (uint)value;
            string piece = (char)fmt[i] switch
            {
                'd' or 'i' => (longs == 0 ? (long)(int)value : (long)value).ToString(CultureInfo.InvariantCulture),
                'u' => value.ToString(CultureInfo.InvariantCulture),
                'x' => value.ToString("x", CultureInfo.InvariantCulture),
                'X' => value.ToString("X", CultureInfo.InvariantCulture),
                'c' => ((char)(byte)value).ToString(),
                'p' => "0x" + raw.ToString("x", CultureInfo.InvariantCulture),
                's' => ReadString(vm, raw),
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
