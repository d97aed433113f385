using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_ringbuf_output (130), _reserve (131), _submit (132), _discard (133), _query (134). A reserved record is a
/// writable region until submitted or discarded; records still reserved when the run ends are discarded.</summary>
internal static class RingBufHelpers
{
    public static HelperOutcome Output(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not IBpfRingBuffer ring) return vm.Fail(BpfFault.HelperMisuse);
        ulong size = vm.Argument(3);
        if (size > int.MaxValue) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (!vm.TryGetMemory(vm.Argument(2), (int)size, false, out var data)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)ring.Output(data)));
    }

    public static HelperOutcome Reserve(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not IBpfRingBuffer ring) return vm.Fail(BpfFault.HelperMisuse);
        ulong size = vm.Argument(2);
        if (size > int.MaxValue || vm.Argument(3) != 0 || !ring.TryReserve((int)size, out var sample))
            return LinuxHelperTable.Return(vm, 0);
        ulong address = vm.ExposeRingBufRecord(sample, ring);
        if (address == 0) ring.Commit(sample.Offset, discard: true);
        return LinuxHelperTable.Return(vm, address);
    }

    public static HelperOutcome Commit(BpfVm vm, bool discard)
    {
        if (!vm.TryTakeRingBufRecord(vm.Argument(1), out var ring, out int sampleOffset)) return HelperOutcome.Fault;
        ring.Commit(sampleOffset, discard);
        return LinuxHelperTable.Return(vm, 0);
    }

    /// <summary>bpf_ringbuf_query (134): BPF_RB_AVAIL_DATA (0), BPF_RB_RING_SIZE (1), BPF_RB_CONS_POS (2),
    /// BPF_RB_PROD_POS (3) of the ring; 0 for any other flags, as the kernel.</summary>
    public static HelperOutcome Query(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not IBpfRingBuffer ring) return vm.Fail(BpfFault.HelperMisuse);
        return LinuxHelperTable.Return(vm, vm.Argument(2) switch
        {
            0 => (ulong)(ring.ProducerPosition - ring.ConsumerPosition),
            1 => (ulong)ring.Size,
            2 => (ulong)ring.ConsumerPosition,
            3 => (ulong)ring.ProducerPosition,
            _ => 0,
        });
    }
}
