using System.Runtime.InteropServices;
using Appliance.Interop;

namespace Appliance.Datapath.Forwarding;

/// <summary>Reads frames from an AF_PACKET socket as they were on the wire. The kernel takes a received frame's outer
/// VLAN tag off before packet sockets see it (skb_vlan_untag; veth does it too: a frame sent on a veth tagged VLAN 10
/// arrives in recv() untagged, and an 802.1ad tag over an 802.1Q one loses the outer one), and says so only in the
/// PACKET_AUXDATA control message: tp_vlan_tci with TP_STATUS_VLAN_VALID, tp_vlan_tpid with TP_STATUS_VLAN_TPID_VALID.
/// This puts that tag back in front of the EtherType (<see cref="VlanTagWriter"/>), so the frame is judged as its
/// sender sent it, as the forwarding workers' AF_XDP frames are (their tags are still in the bytes). One recvmsg per
/// frame into a message header, iovec and control buffer allocated once: nothing allocates per frame.</summary>
public sealed unsafe class WireFrameReader : IDisposable
{
    // struct tpacket_auxdata (linux/if_packet.h): __u32 tp_status, tp_len, tp_snaplen; __u16 tp_mac, tp_net,
    // tp_vlan_tci, tp_vlan_tpid. Tmds.LibC 0.5.0 lacks it and the status bits.
    private const int AuxDataLength = 20, StatusAt = 0, VlanTciAt = 16, VlanTpidAt = 18;
    private const uint StatusVlanValid = 0x10, StatusVlanTpidValid = 0x40;
    private const int ControlLength = 64; // CMSG_SPACE(20) is 40 on LP64; room to spare

    private byte* _block;
    private readonly Tmds.Linux.msghdr* _message;
    private readonly Tmds.Linux.iovec* _iov;
    private readonly byte* _control;

    public WireFrameReader()
    {
        int messageLength = Align(sizeof(Tmds.Linux.msghdr)), iovLength = Align(sizeof(Tmds.Linux.iovec));
        _block = (byte*)NativeMemory.AllocZeroed((nuint)(messageLength + iovLength + ControlLength));
        _message = (Tmds.Linux.msghdr*)_block;
        _iov = (Tmds.Linux.iovec*)(_block + messageLength);
        _control = _block + messageLength + iovLength;
    }

    private static int Align(int length) => (length + 15) & ~15;

    /// <summary>Asks the kernel for the PACKET_AUXDATA message on <paramref name="fd"/> (before it receives).</summary>
    public static void Enable(int fd) =>
        SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_PACKET, Tmds.Linux.LibC.PACKET_AUXDATA, 1, "PACKET_AUXDATA");

    /// <summary>Receives one frame into <paramref name="buffer"/> (recvmsg with <paramref name="flags"/>), the tag the
    /// kernel took off put back: the frame is <c>buffer.Slice(start, length)</c>, its length returned; -1 with errno
    /// (<see cref="Marshal.GetLastPInvokeError"/>) when the call failed. The first <see cref="VlanTagWriter.TagLength"/>
    /// bytes of the buffer are the room for the tag; a frame longer than the rest is cut short, as recv cuts it.</summary>
    public int Receive(int fd, Span<byte> buffer, int flags, out int start)
    {
        start = VlanTagWriter.TagLength;
        if (buffer.Length <= start) throw new ArgumentException("the buffer has no room for a frame", nameof(buffer));
        fixed (byte* p = buffer)
        {
            _iov->iov_base = p + start;
            _iov->iov_len = (Tmds.Linux.size_t)(ulong)(buffer.Length - start);
            _message->msg_name = null;
            _message->msg_namelen = 0;
            _message->msg_iov = _iov;
            _message->msg_iovlen = 1;
            _message->msg_control = _control;
            _message->msg_controllen = ControlLength;
            _message->msg_flags = 0;
            nint n = SocketCalls.RecvMsg(fd, _message, flags);
            if (n < 0) return -1;
            int length = (int)Math.Min(n, buffer.Length - start);
            if (length < 12 || !TryTag(out ushort tpid, out ushort tci)) return length;
            start = 0;
            VlanTagWriter.Write(buffer, tpid, tci);
            return length + VlanTagWriter.TagLength;
        }
    }

    /// <summary>The tag the kernel took off, from the PACKET_AUXDATA message of the last receive.</summary>
    private bool TryTag(out ushort tpid, out ushort tci)
    {
        tpid = tci = 0;
        for (var c = Tmds.Linux.LibC.CMSG_FIRSTHDR(_message); c != null; c = Tmds.Linux.LibC.CMSG_NXTHDR(_message, c))
        {
            if (c->cmsg_level != Tmds.Linux.LibC.SOL_PACKET || c->cmsg_type != Tmds.Linux.LibC.PACKET_AUXDATA) continue;
            if ((ulong)c->cmsg_len < (ulong)((byte*)Tmds.Linux.LibC.CMSG_DATA(c) - (byte*)c + AuxDataLength)) return false;
            var aux = new ReadOnlySpan<byte>(Tmds.Linux.LibC.CMSG_DATA(c), AuxDataLength);
            uint status = MemoryMarshal.Read<uint>(aux[StatusAt..]);
            if ((status & StatusVlanValid) == 0) return false;
            tci = MemoryMarshal.Read<ushort>(aux[VlanTciAt..]);
            tpid = (status & StatusVlanTpidValid) != 0 ? MemoryMarshal.Read<ushort>(aux[VlanTpidAt..]) : L3Frames.EtherTypeVlan;
            return true;
        }
        return false;
    }

    public void Dispose()
    {
        NativeMemory.Free(_block);
        _block = null;
    }
}
