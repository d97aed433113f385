using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>The printf helpers, all formatting with <see cref="BprintfFormatter"/> (the kernel's bpf_bprintf_prepare +
/// bstr_printf). bpf_trace_printk (6) and bpf_trace_vprintk (177, what libbpf's bpf_printk calls with more than three
/// arguments) format <c>fmt</c> (fmt_size bytes holding a NUL) with their arguments — trace_printk's are r3–r5,
/// trace_vprintk's an array of u64 (data, data_len bytes: a multiple of 8, at most 12 of them) — and send the line to
/// the VM's trace sink (the first 1023 bytes, as the kernel's buffer), rate-limited; they return the formatted length. bpf_snprintf (165) formats the constant
/// string r3 (the verifier checked it at load, <see cref="HelperArgumentRule.ConstStringArgument"/>) with the u64
/// array r4 (r5 bytes) into the r2 bytes at r1 (truncated, always NUL-terminated when r2 is not 0) and returns the
/// whole formatted length plus one for the NUL. A bad format or argument array is -EINVAL (-ENOSPC when strings
/// overflow the kernel's argument buffer), as the kernel. A call allocates nothing (the arguments and the line live on
/// the stack; a trace line becomes a string only when a sink takes it).</summary>
internal static class TracePrintkHelper
{
    public static HelperOutcome Invoke(BpfVm vm)
    {
        Span<ulong> args = [vm.Argument(3), vm.Argument(4), vm.Argument(5)];
        return Print(vm, args);
    }

    public static HelperOutcome InvokeVarArgs(BpfVm vm)
    {
        Span<ulong> args = stackalloc ulong[BprintfFormatter.MaxVarArgs];
        int count = ReadArguments(vm, vm.Argument(3), vm.Argument(4), args, out var outcome);
        return count < 0 ? outcome : Print(vm, args[..count]);
    }

    public static HelperOutcome Snprintf(BpfVm vm)
    {
        Span<ulong> args = stackalloc ulong[BprintfFormatter.MaxVarArgs];
        int count = ReadArguments(vm, vm.Argument(4), vm.Argument(5), args, out var outcome);
        if (count < 0) return outcome;
        if (!vm.TryReadString(vm.Argument(3), int.MaxValue, fault: true, out var fmt)) return HelperOutcome.Fault;
        int size = (int)(uint)vm.Argument(2);
        Span<byte> buffer = default;
        if (size > 0 && !vm.TryGetMemory(vm.Argument(1), size, true, out buffer)) return HelperOutcome.Fault;
        int length = BprintfFormatter.Format(vm, fmt, args[..count], buffer);
        return length < 0 ? LinuxHelperTable.Error(vm, -length) : LinuxHelperTable.Return(vm, (ulong)length + 1);
    }

    /// <summary>bpf_snprintf's check at load (the kernel's check_bpf_snprintf_call): the argument array's length
    /// <paramref name="dataLength"/>, when constant, is whole u64s, and the format suits that many arguments.</summary>
    public static string? WhyFormatRefused(byte[] fmt, long? dataLength)
    {
        if (dataLength is not { } length) return null;
        if (length % 8 != 0) return $"the argument array's length r5 ({length}) is not a multiple of 8 (an array of u64)";
        return BprintfFormatter.Check(fmt, (int)Math.Min(length / 8, int.MaxValue)) < 0
            ? $"invalid format string \"{System.Text.Encoding.ASCII.GetString(fmt)}\" for {length / 8} arguments (conversions %d %i %u %x %X with l/ll, %c, %s, %p, %pI4/%pi4/%pI6/%pi6, flags 0+- and a width)"
            : null;
    }

    /// <summary>The u64 argument array of trace_vprintk and snprintf into <paramref name="args"/>: how many, or -1 with
    /// the outcome to return: -EINVAL for a length that is not whole u64s, more than 12 of them, or a NULL array with
    /// a length (as the kernel), a fault for an unreadable array.</summary>
    private static int ReadArguments(BpfVm vm, ulong address, ulong length, Span<ulong> args, out HelperOutcome outcome)
    {
        outcome = HelperOutcome.Fault;
        length = (uint)length;
        if (length % 8 != 0 || length > BprintfFormatter.MaxVarArgs * 8 || length > 0 && address == 0)
        {
            outcome = LinuxHelperTable.Error(vm, Errno.EINVAL);
            return -1;
        }
        int count = (int)(length / 8);
        if (count > 0)
        {
            if (!vm.TryGetMemory(address, (int)length, false, out var data)) return -1;
            for (int i = 0; i < count; i++) args[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        }
        return count;
    }

    private static HelperOutcome Print(BpfVm vm, ReadOnlySpan<ulong> args)
    {
        ulong size = vm.Argument(2);
        if (size == 0 || size > 1024) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!vm.TryGetMemory(vm.Argument(1), (int)size, false, out var fmt)) return HelperOutcome.Fault;
        if (fmt.IndexOf((byte)0) < 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        // The kernel formats into a 1024-byte buffer (MAX_BPRINTF_BUF): the line is what fits, up to its NUL; the
        // return is the whole length.
        Span<byte> line = stackalloc byte[BprintfFormatter.LineBuffer];
        int length = BprintfFormatter.Format(vm, fmt, args, line);
        if (length < 0) return LinuxHelperTable.Error(vm, -length);
        vm.Trace(line[..line.IndexOf((byte)0)]);
        return LinuxHelperTable.Return(vm, (ulong)length);
    }
}
