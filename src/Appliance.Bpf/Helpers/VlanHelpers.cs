using System.Buffers.Binary;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_skb_vlan_push (18) and bpf_skb_vlan_pop (19) as skb_vlan_push/skb_vlan_pop: the pushed tag
/// becomes the offloaded tag (metadata); an already offloaded tag is first written into the frame after the
/// MAC addresses. Pop clears the offloaded tag, or removes an in-band tag, then moves a further in-band tag
/// into the offload slot.</summary>
internal static class VlanHelpers
{
    public const ushort Ieee8021Q = 0x8100, Ieee8021AD = 0x88a8;
    private const int VlanHeaderLength = 4, MacAddressesLength = 12;

    public static HelperOutcome Push(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ushort proto = BinaryPrimitives.ReverseEndianness((ushort)vm.Argument(2));
        ushort tci = (ushort)vm.Argument(3);
        if (proto is not (Ieee8021Q or Ieee8021AD)) proto = Ieee8021Q;
        ref var packet = ref vm.Packet;
        if (packet.VlanPresent)
        {
            if (packet.Length < MacAddressesLength) return LinuxHelperTable.Error(vm, Errno.EINVAL);
            if (packet.Headroom < VlanHeaderLength) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            packet.MoveData(packet.DataOffset - VlanHeaderLength, packet.Length + VlanHeaderLength);
            var data = packet.Data;
            data.Slice(VlanHeaderLength, MacAddressesLength).CopyTo(data);
            BinaryPrimitives.WriteUInt16BigEndian(data[MacAddressesLength..], packet.VlanProto);
            BinaryPrimitives.WriteUInt16BigEndian(data[(MacAddressesLength + 2)..], packet.VlanTci);
            packet.Protocol = packet.VlanProto;
            // The network header moves back with the packet start (skb_vlan_push): its offset stays.
        }
        packet.VlanPresent = true;
        packet.VlanProto = proto;
        packet.VlanTci = tci;
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    public static HelperOutcome Pop(BpfVm vm)
    {
        if (!vm.IsContext(vm.Argument(1))) return vm.Fail(BpfFault.HelperMisuse);
        ref var packet = ref vm.Packet;
        if (packet.VlanPresent)
        {
            packet.VlanPresent = false;
            packet.VlanTci = 0;
            packet.VlanProto = 0;
        }
        else
        {
            if (!IsVlan(packet.Protocol)) return LinuxHelperTable.Return(vm, 0);
            if (!TryPopInBand(vm, out _)) return LinuxHelperTable.Error(vm, Errno.ENOMEM);
        }
        if (IsVlan(packet.Protocol))
        {
            ushort outer = packet.Protocol;
            if (!TryPopInBand(vm, out ushort tci))
            {
                vm.PacketChanged();
                return LinuxHelperTable.Error(vm, Errno.ENOMEM);
            }
            packet.VlanPresent = true;
            packet.VlanProto = outer;
            packet.VlanTci = tci;
        }
        vm.PacketChanged();
        return LinuxHelperTable.Return(vm, 0);
    }

    private static bool IsVlan(ushort protocol) => protocol is Ieee8021Q or Ieee8021AD;

    /// <summary>Removes the 4-byte tag after the MAC addresses; the protocol becomes the encapsulated type, and the
    /// network header 4 bytes closer to the packet start, not below 14 (__skb_vlan_pop).</summary>
    private static bool TryPopInBand(BpfVm vm, out ushort tci)
    {
        ref var packet = ref vm.Packet;
        tci = 0;
        if (packet.Length < MacAddressesLength + VlanHeaderLength + 2) return false; // VLAN_ETH_HLEN, as __skb_vlan_pop
        var data = packet.Data;
        tci = BinaryPrimitives.ReadUInt16BigEndian(data[(MacAddressesLength + 2)..]);
        ushort inner = BinaryPrimitives.ReadUInt16BigEndian(data[(MacAddressesLength + VlanHeaderLength)..]);
        data[..MacAddressesLength].CopyTo(data[VlanHeaderLength..]);
        packet.MoveData(packet.DataOffset + VlanHeaderLength, packet.Length - VlanHeaderLength);
        packet.Protocol = Context.PacketContext.EncapsulatedProtocol(inner, data[(MacAddressesLength + VlanHeaderLength + 2)..]); // vlan_set_encap_proto
        vm.NetworkOffset = Math.Max(vm.NetworkOffset - VlanHeaderLength, PacketResizeHelpers.EthHeaderLength);
        return true;
    }
}
