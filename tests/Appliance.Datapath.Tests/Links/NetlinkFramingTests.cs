using System.Buffers.Binary;
using System.Text;
using Appliance.Datapath.Links;
using Appliance.Interop;
using Xunit;
using static Appliance.Interop.NetlinkConstants;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Tests.Links;

/// <summary>The netlink builder and parsers against hand-computed layouts (no kernel needed).</summary>
public sealed class NetlinkFramingTests
{
    [Fact]
    public void Writer_lays_out_header_ifinfomsg_and_aligned_nested_attributes()
    {
        Span<byte> buffer = stackalloc byte[256];
        var w = new NetlinkWriter(buffer, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
        w.WriteIfInfo(7, flags: IFF_UP, change: IFF_UP);
        w.PutString(IFLA_IFNAME, "ab");                 // 4 + 3 bytes -> padded to 8
        int nest = w.BeginNested(IFLA_XDP);
        w.PutS32(IFLA_XDP_FD, -1);
        w.PutU32(IFLA_XDP_FLAGS, 2);
        w.EndNested(nest);
        var msg = w.Finish();

        Assert.Equal(16 + 16 + 8 + 4 + 8 + 8, msg.Length);
        Assert.Equal((uint)msg.Length, BinaryPrimitives.ReadUInt32LittleEndian(msg));
        Assert.Equal(RTM_NEWLINK, BinaryPrimitives.ReadUInt16LittleEndian(msg[4..]));
        Assert.Equal(NLM_F_REQUEST | NLM_F_ACK, BinaryPrimitives.ReadUInt16LittleEndian(msg[6..]));
        Assert.Equal(7, BinaryPrimitives.ReadInt32LittleEndian(msg[20..]));
        Assert.Equal(IFF_UP, BinaryPrimitives.ReadUInt32LittleEndian(msg[24..]));
        Assert.Equal(7, BinaryPrimitives.ReadUInt16LittleEndian(msg[32..]));          // nla_len of "ab\0"
        Assert.Equal(0, msg[39]);                                                     // padding
        Assert.Equal(20, BinaryPrimitives.ReadUInt16LittleEndian(msg[40..]));         // nest len 4 + 8 + 8
        Assert.Equal(IFLA_XDP | NLA_F_NESTED, BinaryPrimitives.ReadUInt16LittleEndian(msg[42..]));

        var reader = new NetlinkMessageReader(msg);
        Assert.True(reader.TryRead(out var m));
        Assert.False(reader.TryRead(out _));
        var attrs = new NetlinkAttributeReader(m.Payload[IfInfoSize..]);
        Assert.True(attrs.TryRead(out var t1, out var v1));
        Assert.Equal(IFLA_IFNAME, t1);
        Assert.Equal("ab", NetlinkValue.String(v1));
        Assert.True(attrs.TryRead(out var t2, out var v2));
        Assert.Equal(IFLA_XDP, t2); // nested flag masked off
        var inner = new NetlinkAttributeReader(v2);
        Assert.True(inner.TryRead(out var t3, out var v3));
        Assert.Equal((IFLA_XDP_FD, -1), (t3, NetlinkValue.S32(v3)));
        Assert.True(inner.TryRead(out var t4, out var v4));
        Assert.Equal((IFLA_XDP_FLAGS, 2u), (t4, NetlinkValue.U32(v4)));
        Assert.False(inner.TryRead(out _, out _));
        Assert.False(attrs.TryRead(out _, out _));
    }

    [Fact]
    public void Writer_refuses_to_overflow_its_buffer()
    {
        var buffer = new byte[24];
        Assert.Throws<InvalidOperationException>(() =>
        {
            var w = new NetlinkWriter(buffer, RTM_GETLINK, NLM_F_REQUEST);
            w.WriteIfInfo(0);
        });
    }

    [Fact]
    public void Reader_stops_at_a_truncated_message()
    {
        var bytes = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 64); // claims more than there is
        var reader = new NetlinkMessageReader(bytes);
        Assert.False(reader.TryRead(out _));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Error_ack_yields_errno_and_extack_text_with_or_without_the_echoed_request(bool capped)
    {
        var message = ErrorAck(-Errno.EBUSY, "XDP program already attached", capped);
        var reader = new NetlinkMessageReader(message);
        Assert.True(reader.TryRead(out var m));
        Assert.Equal(NLMSG_ERROR, m.Type);
        NetlinkError.Parse(m, out int errno, out string? text);
        Assert.Equal(Errno.EBUSY, errno);
        Assert.Equal("XDP program already attached", text);

        var e = NetlinkError.ToException(errno, text, "rtnetlink RTM_SETLINK (attach XDP)", "eth0", hint: "Detach it first");
        Assert.Equal(Errno.EBUSY, e.Errno);
        Assert.Contains("rtnetlink RTM_SETLINK (attach XDP) on eth0", e.Message);
        Assert.Contains("Kernel says: \"XDP program already attached\"", e.Message);
        Assert.Contains("Detach it first", e.Message);
    }

    [Fact]
    public void Success_ack_has_errno_zero_and_no_text()
    {
        var reader = new NetlinkMessageReader(ErrorAck(0, null, capped: true));
        Assert.True(reader.TryRead(out var m));
        NetlinkError.Parse(m, out int errno, out string? text);
        Assert.Equal(0, errno);
        Assert.Null(text);
    }

    [Theory]
    [InlineData(0x7FFFFFFEu)] // Align overflows int: a negative start
    [InlineData(0xFFFFFFF0u)] // negative as an int
    [InlineData(0x1000u)]     // past the message
    public void Error_ack_with_a_bogus_echoed_length_still_yields_its_errno(uint echoedLength)
    {
        var message = ErrorAck(-Errno.EINVAL, "bad attribute", capped: false);
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(20), echoedLength);
        var reader = new NetlinkMessageReader(message);
        Assert.True(reader.TryRead(out var m));
        NetlinkError.Parse(m, out int errno, out string? text);
        Assert.Equal(Errno.EINVAL, errno);
        Assert.Null(text); // the TLVs cannot be found behind a length that lies
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void Error_ack_cut_before_its_error_field_is_EBADMSG_not_success(int payloadBytes)
    {
        var message = new byte[HeaderSize + payloadBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(message, (uint)message.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), NLMSG_ERROR);
        message.AsSpan(HeaderSize).Fill(0xFF); // whatever bytes there are: no whole int error
        var reader = new NetlinkMessageReader(message);
        Assert.True(reader.TryRead(out var m));
        NetlinkError.Parse(m, out int errno, out string? text);
        Assert.Equal(Errno.EBADMSG, errno); // an ack that says nothing must not read as "done, no error"
        Assert.Null(text);
    }

    [Fact]
    public void Reader_tells_a_malformed_tail_from_the_end_of_the_datagram()
    {
        var ack = ErrorAck(0, null, capped: true);
        var whole = new NetlinkMessageReader(ack);
        Assert.True(whole.TryRead(out _));
        Assert.False(whole.TryRead(out _));
        Assert.False(whole.Malformed);

        var bytes = new byte[ack.Length + 20];
        ack.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(ack.Length), 64); // a second message that claims more than there is
        var cut = new NetlinkMessageReader(bytes);
        Assert.True(cut.TryRead(out _));
        Assert.False(cut.TryRead(out _));
        Assert.True(cut.Malformed);
    }

    [Fact]
    public void Link_message_is_parsed_into_LinkInfo()
    {
        Span<byte> buffer = stackalloc byte[256];
        var w = new NetlinkWriter(buffer, RTM_NEWLINK, 0);
        w.WriteIfInfo(42, flags: IFF_UP | IFF_PROMISC | IFF_LOWER_UP);
        w.PutString(IFLA_IFNAME, "tenant0");
        w.PutBytes(IFLA_ADDRESS, [0x02, 0, 0, 0, 0, 0x01]);
        w.PutU32(IFLA_MTU, 1400);
        w.PutBytes(IFLA_OPERSTATE, [6]);
        w.PutBytes(IFLA_CARRIER, [1]);
        w.PutString(IFLA_IFALIAS, "meta-appliance:1.2:ab");
        int li = w.BeginNested(IFLA_LINKINFO);
        w.PutString(IFLA_INFO_KIND, "veth");
        w.EndNested(li);
        int x = w.BeginNested(IFLA_XDP);
        w.PutBytes(IFLA_XDP_ATTACHED, [2]);
        w.PutU32(IFLA_XDP_PROG_ID, 99);
        w.PutU32(IFLA_XDP_SKB_PROG_ID, 99);
        w.EndNested(x);
        var msg = w.Finish();

        var info = LinkInfo.Parse(msg[HeaderSize..]);
        Assert.Equal(42, info.Index);
        Assert.Equal("tenant0", info.Name);
        Assert.Equal("020000000001", info.Mac!.ToString());
        Assert.Equal(1400, info.Mtu);
        Assert.True(info.IsUp);
        Assert.NotEqual(0u, info.Flags & IFF_PROMISC);
        Assert.True(info.Carrier);
        Assert.Equal(LinkOperState.Up, info.OperState);
        Assert.Equal("veth", info.Kind);
        Assert.Equal("meta-appliance:1.2:ab", info.Alias);
        Assert.Equal(new LinkXdpState(LinkXdpMode.Generic, 99, 0, 99, 0), info.Xdp);
    }

    /// <summary>An NLMSG_ERROR as the kernel sends it with NETLINK_EXT_ACK (and NETLINK_CAP_ACK when capped).</summary>
    private static byte[] ErrorAck(int error, string? extack, bool capped)
    {
        const int echoedPayload = 16; // an ifinfomsg, echoed when not capped
        int echoed = HeaderSize + (capped ? 0 : echoedPayload);
        var text = extack is null ? [] : Encoding.ASCII.GetBytes(extack + "\0");
        int tlv = extack is null ? 0 : Align(AttributeHeaderSize + text.Length);
        int len = HeaderSize + 4 + echoed + tlv;
        var b = new byte[len];
        BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)len);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), NLMSG_ERROR);
        ushort flags = (ushort)((capped ? NLM_F_CAPPED : 0) | (extack is null ? 0 : NLM_F_ACK_TLVS));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), flags);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), error);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), (uint)(HeaderSize + echoedPayload)); // echoed nlmsg_len
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(24), RTM_SETLINK);
        if (extack is not null)
        {
            int at = HeaderSize + 4 + echoed;
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at), (ushort)(AttributeHeaderSize + text.Length));
            BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(at + 2), NLMSGERR_ATTR_MSG);
            text.CopyTo(b, at + 4);
        }
        return b;
    }
}
