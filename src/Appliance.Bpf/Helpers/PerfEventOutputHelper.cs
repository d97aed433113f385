using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_perf_event_output (25), tc form (bpf_skb_event_output): flags = CPU index (low 32 bits,
/// 0xffffffff = the current CPU) | packet bytes to append (bits 32–51). Checks as the kernel: other flag bits
/// -EINVAL, more packet bytes than the frame -EFAULT, an index past max_entries -E2BIG. The record (the
/// program's bytes, then the packet prefix) goes to the trace log, rate-limited like bpf_trace_printk, and
/// the helper returns 0. (The kernel returns -ENOENT when no perf event is open on that CPU, as in a
/// BPF_PROG_TEST_RUN with nobody reading.)</summary>
internal static class PerfEventOutputHelper
{
    private const ulong IndexMask = 0xffff_ffff, CurrentCpu = IndexMask, CtxLenMask = 0xf_ffffUL << 32;
    private const int MaxLoggedBytes = 64;

    public static HelperOutcome Invoke(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        var map = vm.ResolveMap(vm.Argument(2));
        if (map is null) return HelperOutcome.Fault;
        if (map is not PerfEventArrayMap) return vm.Fail(BpfFault.HelperMisuse);
        ulong flags = vm.Argument(3), size = vm.Argument(5);
        if (size > int.MaxValue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(4), (int)size, false, out var meta)) return HelperOutcome.Fault;
        ulong packetBytes = (flags & CtxLenMask) >> 32;
        if ((flags & ~(CtxLenMask | IndexMask)) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (packetBytes > (ulong)vm.Packet.Length) return LinuxHelperTable.Error(vm, Errno.EFAULT);
        ulong index = flags & IndexMask;
        if (index == CurrentCpu) index = vm.Options.ProcessorId;
        if (index >= (ulong)map.MaxEntries) return LinuxHelperTable.Error(vm, Errno.E2BIG);
        if (vm.Options.TraceSink is { } sink && vm.TraceLimiter.TryTake())
        {
            var packet = vm.Packet.Data[..(int)packetBytes];
            sink($"{vm.CurrentProgram.Name}: perf_event_output cpu {index}: {Convert.ToHexString(meta[..Math.Min(meta.Length, MaxLoggedBytes)])}"
                + (packetBytes == 0 ? "" : $" + {packetBytes} packet bytes {Convert.ToHexString(packet[..Math.Min(packet.Length, MaxLoggedBytes)])}"));
        }
        return LinuxHelperTable.Return(vm, 0);
    }
}
