using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_skb_change_type (32), bpf_skb_pull_data (39), bpf_set_hash_invalid (41), bpf_set_hash (48).
/// Frames are always linear, so pull_data only checks the length (-ENOMEM past the end, as
/// skb_ensure_writable) and, like the kernel, invalidates packet pointers.</summary>
internal static class PacketMetadataHelpers
{
    private const uint PacketOtherHost = 3;

    public static HelperOutcome ChangeType(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong type = (uint)vm.Argument(2);
        ref var packet = ref vm.Packet;
        if (packet.PacketType > PacketOtherHost || type > PacketOtherHost) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        packet.PacketType = (uint)type;
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome PullData(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong length = (uint)vm.Argument(2);
        if (length > (ulong)vm.Packet.Length) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome SetHash(BpfVm vm, bool invalidate)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        vm.Packet.Hash = invalidate ? 0 : (uint)vm.Argument(2);
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }
}
