using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_check_mtu (163), tc form (bpf_skb_check_mtu): is the frame (or *mtu_len, an L3 length, when
/// non-zero) plus len_diff within the device's MTU + its 14-byte L2 header? Returns 0 (BPF_MTU_CHK_RET_SUCCESS)
/// or 1 (FRAG_NEEDED), -EINVAL for unknown flags or BPF_MTU_CHK_SEGS with a length, -ENODEV for an unknown
/// ifindex (0 = the frame's own device) — those leave *mtu_len alone — and otherwise stores the MTU in *mtu_len. Frames are never GSO here,
/// so SEGS_TOOBIG cannot happen. MTUs come from <see cref="BpfVmOptions.InterfaceMtus"/>.</summary>
internal static class CheckMtuHelper
{
    private const ulong ChkSegs = 1;
    private const int HardHeaderLength = 14;
    private const ulong Success = 0, FragNeeded = 1;

    public static HelperOutcome Invoke(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        uint ifindex = (uint)vm.Argument(2);
        if (!vm.TryGetMemory(vm.Argument(3), 4, true, out var mtuLen)) return HelperOutcome.Fault;
        int lenDiff = (int)(uint)vm.Argument(4);
        ulong flags = vm.Argument(5);
        uint requested = BinaryPrimitives.ReadUInt32LittleEndian(mtuLen);
        if ((flags & ~ChkSegs) != 0 || (flags & ChkSegs) != 0 && (lenDiff != 0 || requested != 0))
            return LinuxHelperTable.Error(vm, Errno.EINVAL);
        uint device = ifindex == 0 ? vm.Packet.Ifindex : ifindex;
        int mtu = vm.Options.InterfaceMtus.MtuOf(device);
        if (mtu < 0) return LinuxHelperTable.Error(vm, Errno.ENODEV);
        long length = (requested != 0 ? requested + HardHeaderLength : vm.Packet.Length) + (long)lenDiff;
        BinaryPrimitives.WriteUInt32LittleEndian(mtuLen, (uint)mtu);
        return LinuxHelperTable.Return(vm, (int)length <= mtu + HardHeaderLength ? Success : (ulong)FragNeeded);
    }
}
