using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_skb_load_bytes (26), bpf_skb_store_bytes (9) and bpf_get_hash_recalc (34). Offsets count from
/// the start of the packet; ranges past the end fail with -EFAULT (a failed load zeroes the destination).
/// Offsets, lengths and start_header are u32 arguments in the kernel: only the low 32 bits of the register count.</summary>
internal static class PacketBytesHelpers
{
    public const ulong RecomputeCsum = 1, InvalidateHash = 2;

    public static HelperOutcome LoadBytes(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong offset = (uint)vm.Argument(2), length = (uint)vm.Argument(4);
        if (length > int.MaxValue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(3), (int)length, true, out var to)) return HelperOutcome.Fault;
        var data = vm.Packet.Data;
        if (offset > int.MaxValue || offset + length > (ulong)data.Length)
        {
            to.Clear();
            return LinuxHelperTable.Error(vm, Errno.EFAULT);
        }
        data.Slice((int)offset, (int)length).CopyTo(to);
        return LinuxHelperTable.Return(vm, 0);
    }

    /// <summary>bpf_skb_load_bytes_relative (68): start_header 0 = the MAC header (packet start), 1 = the
    /// network header (<see cref="BpfVm.NetworkOffset"/>); offsets above 0xffff or ranges past the end give
    /// -EFAULT with the destination zeroed.</summary>
    public static HelperOutcome LoadBytesRelative(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong offset = (uint)vm.Argument(2), length = (uint)vm.Argument(4), start = (uint)vm.Argument(5);
        if (length > int.MaxValue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(3), (int)length, true, out var to)) return HelperOutcome.Fault;
        var data = vm.Packet.Data;
        ulong header = start switch { 0 => 0UL, 1 => (ulong)vm.NetworkOffset, _ => ulong.MaxValue };
        if (header == ulong.MaxValue || offset > 0xffff || header + offset + length > (ulong)data.Length)
        {
            to.Clear();
            return LinuxHelperTable.Error(vm, Errno.EFAULT);
        }
        data.Slice((int)(header + offset), (int)length).CopyTo(to);
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome StoreBytes(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong offset = (uint)vm.Argument(2), length = (uint)vm.Argument(4), flags = vm.Argument(5);
        if (length > int.MaxValue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(3), (int)length, false, out var from)) return HelperOutcome.Fault;
        if ((flags & ~(RecomputeCsum | InvalidateHash)) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        var data = vm.Packet.Data;
        if (offset > int.MaxValue || offset + length > (ulong)data.Length) return LinuxHelperTable.Error(vm, Errno.EFAULT);
        from.CopyTo(data.Slice((int)offset, (int)length));
        if ((flags & InvalidateHash) != 0) vm.Packet.Hash = 0;
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    /// <summary>A flow hash over the L3 addresses, protocol and L4 ports (stable for a flow, never 0). Not the
    /// kernel's value: the kernel seeds its flow-dissector hash randomly at boot, so no two machines agree either.</summary>
    public static HelperOutcome GetHashRecalc(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ref var packet = ref vm.Packet;
        if (packet.Hash == 0)
        {
            packet.Hash = FlowHash(packet.Data, packet.Protocol);
            vm.PacketChanged();
        }
        return LinuxHelperTable.Return(vm, packet.Hash);
    }

    private static uint FlowHash(ReadOnlySpan<byte> frame, ushort protocol)
    {
        uint hash = 2166136261;
        void Mix(ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) hash = (hash ^ b) * 16777619;
        }
        int l3 = 14;
        if (protocol == 0x0800 && frame.Length >= l3 + 20)
        {
            Mix(frame.Slice(l3 + 12, 8));
            byte proto = frame[l3 + 9];
            hash ^= proto;
            int l4 = l3 + (frame[l3] & 0x0f) * 4;
            if (proto is 6 or 17 && frame.Length >= l4 + 4) Mix(frame.Slice(l4, 4));
        }
        else if (protocol == 0x86dd && frame.Length >= l3 + 40)
        {
            Mix(frame.Slice(l3 + 8, 32));
            byte proto = frame[l3 + 6];
            hash ^= proto;
            if (proto is 6 or 17 && frame.Length >= l3 + 44) Mix(frame.Slice(l3 + 40, 4));
        }
        else
        {
            Mix(frame[..Math.Min(frame.Length, 14)]);
            hash ^= BinaryPrimitives.ReverseEndianness(protocol);
        }
        return hash == 0 ? 1 : hash;
    }
}
