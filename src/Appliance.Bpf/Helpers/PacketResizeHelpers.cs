using Appliance.Bpf.Context;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_skb_change_tail (38), bpf_skb_change_head (43) and bpf_skb_adjust_room (50), with the
/// kernel's argument checks, limits and byte movements (new bytes are zeroed): a frame may grow up to
/// <see cref="PacketContext.MaxLength"/> (the kernel's BPF_SKB_MAX_LEN, -EINVAL/-ENOTSUPP past it as in the
/// kernel). Growth uses the buffer's headroom and tailroom, moving the packet inside its buffer when one side
/// is short; where the kernel would reallocate past the buffer the helper returns -ENOMEM instead. The L2
/// header ends at the run's network header (<see cref="BpfVm.NetworkOffset"/>, 14 unless a helper moved the packet start). An encapsulating adjust_room marks
/// the run's frame as encapsulated, as the kernel's skb->encapsulation: a second one returns -EALREADY and
/// change_tail -ENOTSUPP.</summary>
internal static class PacketResizeHelpers
{
    public const int EthHeaderLength = 14, MaxSkbLength = PacketContext.MaxLength;
    public const ulong AdjRoomFixedGso = 1, EncapL3Ipv4 = 1 << 1, EncapL3Ipv6 = 1 << 2, EncapL4Gre = 1 << 3,
        EncapL4Udp = 1 << 4, NoCsumReset = 1 << 5, EncapL2Eth = 1 << 6, DecapL3Ipv4 = 1 << 7, DecapL3Ipv6 = 1 << 8,
        EncapL2LengthMask = 0xffUL << 56;
    private const ulong AdjRoomMask = AdjRoomFixedGso | EncapL3Ipv4 | EncapL3Ipv6 | EncapL4Gre | EncapL4Udp | EncapL2Eth
        | EncapL2LengthMask | DecapL3Ipv4 | DecapL3Ipv6;
    public const uint AdjRoomNet = 0, AdjRoomMac = 1;

    public static HelperOutcome ChangeTail(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong newLength = vm.Argument(2), flags = vm.Argument(3);
        ref var packet = ref vm.Packet;
        if (flags != 0 || newLength > MaxSkbLength || newLength < (ulong)vm.NetworkOffset) return LinuxHelperTable.Error(vm, Errno.EINVAL); // not into the L2 header
        if (vm.Encapsulated) return LinuxHelperTable.Error(vm, Errno.ENOTSUPP);
        int grow = (int)newLength - packet.Length;
        if (grow > 0 && !packet.TryMakeRoom(0, grow)) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
        if (grow > 0) packet.Buffer.Slice(packet.DataOffset + packet.Length, grow).Clear();
        packet.MoveData(packet.DataOffset, (int)newLength);
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome ChangeHead(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ulong room = vm.Argument(2), flags = vm.Argument(3);
        ref var packet = ref vm.Packet;
        ulong newLength = (ulong)packet.Length + (uint)room;
        if (flags != 0 || (int)(uint)room < 0 || newLength > MaxSkbLength) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        int grow = (int)(uint)room;
        if (!packet.TryMakeRoom(grow, 0)) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
        packet.MoveData(packet.DataOffset - grow, packet.Length + grow);
        packet.Data[..grow].Clear();
        vm.NetworkOffset += grow; // the network header stays where it was
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome AdjustRoom(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        int lenDiff = (int)(uint)vm.Argument(2);
        uint mode = (uint)vm.Argument(3);
        ulong flags = vm.Argument(4);
        ref var packet = ref vm.Packet;
        bool shrink = lenDiff < 0;
        uint diff = (uint)Math.Abs((long)lenDiff);
        if ((flags & ~(AdjRoomMask | NoCsumReset)) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        if (diff > 0xfff) return LinuxHelperTable.Error(vm, Errno.EFAULT);
        int netBase = packet.Protocol switch { 0x0800 => 20, 0x86dd => 40, _ => -1 };
        if (netBase < 0) return LinuxHelperTable.Error(vm, Errno.ENOTSUPP);
        int offset = vm.NetworkOffset;
        if (mode == AdjRoomNet) offset += netBase;
        else if (mode != AdjRoomMac) return LinuxHelperTable.Error(vm, Errno.ENOTSUPP);

        int minLength = netBase;
        ulong decap = flags & (DecapL3Ipv4 | DecapL3Ipv6);
        if (decap != 0)
        {
            if (!shrink || decap == (DecapL3Ipv4 | DecapL3Ipv6)) return LinuxHelperTable.Error(vm, Errno.EINVAL);
            minLength = decap == DecapL3Ipv4 ? 20 : 40;
        }
        long current = packet.Length - vm.NetworkOffset;
        if (shrink ? diff >= current || current - diff < minLength : packet.Length + diff > MaxSkbLength)
            return LinuxHelperTable.Error(vm, Errno.ENOTSUPP);

        if (shrink)
        {
            if ((flags & ~(AdjRoomFixedGso | DecapL3Ipv4 | DecapL3Ipv6 | NoCsumReset)) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
            // Bytes to remove that reach past the packet (a decapsulation's smaller minimum lets the length checks pass
            // with the network header's end near the packet's): the kernel's pop says -ENOMEM.
            if (offset + diff > packet.Length) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            PopAt(ref packet, offset, (int)diff);
            if (decap == DecapL3Ipv4) packet.Protocol = 0x0800;
            else if (decap == DecapL3Ipv6) packet.Protocol = 0x86dd;
        }
        else
        {
            bool encap = (flags & (EncapL3Ipv4 | EncapL3Ipv6)) != 0;
            // Room after a header that ends past the packet (bpf_skb_change_tail cut it short): the kernel says -ENOMEM.
            if (offset > packet.Length || !packet.TryMakeRoom((int)diff, 0)) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            if (encap)
            {
                int innerMacLength = (int)(flags >> 56);
                if ((flags & EncapL3Ipv4) != 0 && (flags & EncapL3Ipv6) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                if ((flags & EncapL4Gre) != 0 && (flags & EncapL4Udp) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                if ((flags & EncapL2Eth) != 0 && innerMacLength < EthHeaderLength) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                if (vm.Encapsulated) return LinuxHelperTable.Error(vm, Errno.EALREADY);
                if (innerMacLength > diff) return LinuxHelperTable.Error(vm, Errno.EINVAL);
                vm.Encapsulated = true;
            }
            PushAt(ref packet, offset, (int)diff);
            if (encap && packet.Protocol == 0x0800 && (flags & EncapL3Ipv6) != 0) packet.Protocol = 0x86dd;
            else if (encap && packet.Protocol == 0x86dd && (flags & EncapL3Ipv4) != 0) packet.Protocol = 0x0800;
        }
        if ((flags & NoCsumReset) == 0) vm.ChecksumLevel = BpfVm.ChecksumNone;
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    /// <summary>Inserts <paramref name="length"/> zero bytes at <paramref name="offset"/>, the bytes before it
    /// moving to the front (bpf_skb_generic_push); the caller made the headroom.</summary>
    internal static void PushAt(ref PacketContext packet, int offset, int length)
    {
        packet.MoveData(packet.DataOffset - length, packet.Length + length);
        var data = packet.Data;
        data.Slice(length, offset).CopyTo(data);
        data.Slice(offset, length).Clear();
    }

    /// <summary>Removes <paramref name="length"/> bytes at <paramref name="offset"/>, the bytes before it moving
    /// back (bpf_skb_generic_pop); the caller checked offset + length ≤ the packet length.</summary>
    internal static void PopAt(ref PacketContext packet, int offset, int length)
    {
        var data = packet.Data;
        data[..offset].CopyTo(data[length..]);
        packet.MoveData(packet.DataOffset + length, packet.Length - length);
    }
}
