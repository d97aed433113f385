using System.Buffers.Binary;
using System.Text;
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
/// overflow the kernel's argument buffer), as the kernel. Allocates: a debugging path, never the per-packet fast
/// path of a production program.</summary>
internal static class TracePrintkHelper
{
    public static HelperOutcome Invoke(BpfVm vm) =>
        Print(vm, [vm.Argument(3), vm.Argument(4), vm.Argument(5)]);

    public static HelperOutcome InvokeVarArgs(BpfVm vm)
    {
        var args = ReadArguments(vm, vm.Argument(3), vm.Argument(4), out var outcome);
        return args is null ? outcome : Print(vm, args);
    }

    public static HelperOutcome Snprintf(BpfVm vm)
    {
        var args = ReadArguments(vm, vm.Argument(4), vm.Argument(5), out var outcome);
        if (args is null) return outcome;
        if (ReadConstString(vm, vm.Argument(3)) is not { } fmt) return HelperOutcome.Fault;
        var text = new List<byte>();
        int error = BprintfFormatter.Format(vm, fmt, args, text);
        if (error < 0) return LinuxHelperTable.Error(vm, -error);
        ulong size = (uint)vm.Argument(2);
        if (size > 0)
        {
            if (!vm.TryGetMemory(vm.Argument(1), (int)size, true, out var buffer)) return HelperOutcome.Fault;
            int n = Math.Min(text.Count, buffer.Length - 1);
            for (int i = 0; i < n; i++) buffer[i] = text[i];
            buffer[n] = 0;
        }
        return LinuxHelperTable.Return(vm, (ulong)text.Count + 1);
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

    /// <summary>The u64 argument array of trace_vprintk and snprintf, or null with the outcome to return: -EINVAL for
    /// a length that is not whole u64s, more than 12 of them, or a NULL array with a length (as the kernel).</summary>
    private static ulong[]? ReadArguments(BpfVm vm, ulong address, ulong length, out HelperOutcome outcome)
    {
        outcome = HelperOutcome.Fault;
        length = (uint)length;
        if (length % 8 != 0 || length > BprintfFormatter.MaxVarArgs * 8 || length > 0 && address == 0)
        {
            outcome = LinuxHelperTable.Error(vm, Errno.EINVAL);
            return null;
        }
        var args = new ulong[length / 8];
        if (length > 0)
        {
            if (!vm.TryGetMemory(address, (int)length, false, out var data)) return null;
            for (int i = 0; i < args.Length; i++) args[i] = BinaryPrimitives.ReadUInt64LittleEndian(data[(i * 8)..]);
        }
        return args;
    }

    /// <summary>The NUL-terminated string at <paramref name="address"/> without its NUL, or null after a fault.</summary>
    private static byte[]? ReadConstString(BpfVm vm, ulong address)
    {
        var bytes = new List<byte>();
        for (int i = 0; ; i++)
        {
            if (!vm.TryGetMemory(address + (ulong)i, 1, false, out var one)) return null;
            if (one[0] == 0) return [.. bytes];
            bytes.Add(one[0]);
        }
    }

    private static HelperOutcome Print(BpfVm vm, ulong[] args)
    {
        ulong size = vm.Argument(2);
        if (size == 0 || size > 1024) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!vm.TryGetMemory(vm.Argument(1), (int)size, false, out var fmt)) return HelperOutcome.Fault;
        if (fmt.IndexOf((byte)0) < 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        var text = new List<byte>();
        int error = BprintfFormatter.Format(vm, fmt, args, text);
        if (error < 0) return LinuxHelperTable.Error(vm, -error);
        // The kernel formats into a 1024-byte buffer (MAX_BPRINTF_BUF): the line is what fits, the return the whole length.
        string line = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(text)[..Math.Min(text.Count, 1023)]);
        vm.Trace($"{vm.CurrentProgram.Name}: {line.TrimEnd('\n')}");
        return LinuxHelperTable.Return(vm, (ulong)text.Count);
    }
}
