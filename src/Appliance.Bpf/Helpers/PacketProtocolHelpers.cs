using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_skb_change_proto (31) and bpf_skb_ecn_set_ce (97), as net/core/filter.c and
/// include/net/inet_ecn.h. change_proto only makes room (NAT64: IPv4 → IPv6 inserts 20 zero bytes after the
/// L2 header, IPv6 → IPv4 removes 20) and switches the protocol; the program writes the new header.
/// ecn_set_ce marks Congestion Experienced on an ECN-capable IPv4 (fixing the header checksum) or IPv6
/// packet and returns 1, or 0 when the packet is not ECN-capable or not IP. Like the kernel, the network
/// header is at the run's network offset (<see cref="BpfVm.NetworkOffset"/>, 14 unless a helper moved it) even when in-band VLAN tags precede the IP header (their protocol is looked
/// through, their bytes are not skipped).</summary>
internal static class PacketProtocolHelpers
{
    private const ushort Ipv4 = 0x0800, Ipv6 = 0x86dd, Vlan = 0x8100, QinQ = 0x88a8;
    private const int Ipv6ExtraLength = 20, MaxVlanDepth = 8;

    public static HelperOutcome ChangeProto(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ushort to = BinaryPrimitives.ReverseEndianness((ushort)vm.Argument(2));
        if (vm.Argument(3) != 0) return LinuxHelperTable.Error(vm, Errno.EINVAL);
        ref var packet = ref vm.Packet;
        int networkOffset = vm.NetworkOffset;
        if (packet.Protocol == Ipv4 && to == Ipv6)
        {
            if (!packet.TryMakeRoom(Ipv6ExtraLength, 0)) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            PacketResizeHelpers.PushAt(ref packet, networkOffset, Ipv6ExtraLength);
        }
        else if (packet.Protocol == Ipv6 && to == Ipv4)
        {
            if (networkOffset + Ipv6ExtraLength > packet.Length) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            PacketResizeHelpers.PopAt(ref packet, networkOffset, Ipv6ExtraLength);
        }
        else
        {
            return LinuxHelperTable.Error(vm, Errno.ENOTSUPP);
        }
        packet.Protocol = to;
        packet.Hash = 0;
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome EcnSetCe(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ref var packet = ref vm.Packet;
        var data = packet.Data;
        int networkOffset = vm.NetworkOffset;
        ushort protocol = packet.Protocol;
        // vlan_get_protocol: look through in-band tags for the protocol they carry, from the type field just before the
        // network header (the MAC header's last two bytes: 12 in a frame as received, further on after bpf_skb_change_head).
        for (int depth = 0, type = networkOffset - 2; (protocol == Vlan || protocol == QinQ) && depth < MaxVlanDepth; depth++, type += 4)
        {
            if (type + 2 > data.Length) return LinuxHelperTable.Return(vm, 0);
            protocol = BinaryPrimitives.ReadUInt16BigEndian(data[type..]);
        }
        if (protocol == Ipv4 && networkOffset + 20 <= data.Length)
        {
            var ip = data[networkOffset..];
            uint ecn = (uint)(ip[1] + 1) & 3;
            if ((ecn & 2) == 0) return LinuxHelperTable.Return(vm, ecn == 0 ? 1UL : 0UL);
            // check += htons(0xFFFB) + htons(ecn), as raw (network-order) 16-bit words.
            ushort checkAdd = (ushort)(BinaryPrimitives.ReverseEndianness((ushort)0xfffb) + BinaryPrimitives.ReverseEndianness((ushort)ecn));
            ushort check = BinaryPrimitives.ReadUInt16LittleEndian(ip[10..]);
            BinaryPrimitives.WriteUInt16LittleEndian(ip[10..], InternetChecksum.Add16(check, checkAdd));
            ip[1] |= 3;
            return LinuxHelperTable.Return(vm, 1);
        }
        if (protocol == Ipv6 && networkOffset + 40 <= data.Length)
        {
            var ip = data[networkOffset..];
            uint word = BinaryPrimitives.ReadUInt32BigEndian(ip);
            if (((word >> 20) & 3) == 0) return LinuxHelperTable.Return(vm, 0);
            BinaryPrimitives.WriteUInt32BigEndian(ip, word | (3u << 20));
            return LinuxHelperTable.Return(vm, 1);
        }
        return LinuxHelperTable.Return(vm, 0);
    }
}
