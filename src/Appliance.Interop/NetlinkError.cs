using System.Buffers.Binary;
using static Appliance.Interop.NetlinkConstants;

namespace Appliance.Interop;

/// <summary>Reads the result of an NLMSG_ERROR (ack) or NLMSG_DONE message: the errno and the kernel's
/// extended-ack text (NLMSGERR_ATTR_MSG), present when NETLINK_EXT_ACK is on.</summary>
public static class NetlinkError
{
    /// <summary>Decodes an ack/done message. <paramref name="errno"/> is positive (0 = success; EBADMSG for an
    /// NLMSG_ERROR cut before its error field, which must not pass for a success);
    /// <paramref name="kernelMessage"/> is the extack text or null.</summary>
    public static void Parse(in NetlinkMessage message, out int errno, out string? kernelMessage)
    {
        var p = message.Payload;
        errno = p.Length >= 4 ? -BinaryPrimitives.ReadInt32LittleEndian(p)
            : message.Type == NLMSG_ERROR ? Errno.EBADMSG : 0;
        kernelMessage = null;
        if ((message.Flags & NLM_F_ACK_TLVS) == 0) return;

        ReadOnlySpan<byte> tlvs;
        if (message.Type == NLMSG_DONE)
        {
            tlvs = p.Length > 4 ? p[4..] : default;
        }
        else
        {
            // struct nlmsgerr { int error; struct nlmsghdr msg; } then the echoed request payload unless
            // NLM_F_CAPPED, then the TLVs.
            if (p.Length < 4 + HeaderSize) return;
            uint echoed = (message.Flags & NLM_F_CAPPED) != 0
                ? HeaderSize
                : BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            if (echoed > (uint)p.Length) return; // a length that lies: the errno stands, the TLVs cannot be found
            int start = 4 + Align((int)echoed);
            tlvs = start <= p.Length ? p[start..] : default;
        }

        var reader = new NetlinkAttributeReader(tlvs);
        while (reader.TryRead(out var type, out var value))
            if (type == NLMSGERR_ATTR_MSG) kernelMessage = NetlinkValue.String(value);
    }

    /// <summary>The exception for a failed request: what was asked, on what, errno, and the kernel's own
    /// words when it gave any, before the advice.</summary>
    public static PlatformException ToException(int errno, string? kernelMessage, string operation, string? target,
        string? hint)
    {
        hint ??= PlatformException.DefaultHint(errno);
        if (!string.IsNullOrEmpty(kernelMessage))
            hint = hint is null ? $"Kernel says: \"{kernelMessage}\"" : $"Kernel says: \"{kernelMessage}\". {hint}";
        return new PlatformException(operation, target, errno, hint);
    }
}
