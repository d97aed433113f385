using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>The XDP programs attached to an interface, from IFLA_XDP in a link dump. Program ids are the
/// kernel's (bpftool prog show id N); 0 means none in that mode.</summary>
public sealed record LinkXdpState(LinkXdpMode Mode, uint ProgramId, uint DriverProgramId, uint GenericProgramId,
    uint HardwareProgramId)
{
    public static readonly LinkXdpState None = new(LinkXdpMode.None, 0, 0, 0, 0);

    public bool IsAttached => Mode != LinkXdpMode.None;

    internal static LinkXdpState Parse(ReadOnlySpan<byte> nested)
    {
        LinkXdpMode mode = LinkXdpMode.None;
        uint prog = 0, drv = 0, skb = 0, hw = 0;
        var reader = new NetlinkAttributeReader(nested);
        while (reader.TryRead(out var type, out var value))
        {
            switch (type)
            {
                case NetlinkRoute.IFLA_XDP_ATTACHED: mode = (LinkXdpMode)NetlinkValue.U8(value); break;
                case NetlinkRoute.IFLA_XDP_PROG_ID: prog = NetlinkValue.U32(value); break;
                case NetlinkRoute.IFLA_XDP_DRV_PROG_ID: drv = NetlinkValue.U32(value); break;
                case NetlinkRoute.IFLA_XDP_SKB_PROG_ID: skb = NetlinkValue.U32(value); break;
                case NetlinkRoute.IFLA_XDP_HW_PROG_ID: hw = NetlinkValue.U32(value); break;
            }
        }
        return mode == LinkXdpMode.None ? None : new LinkXdpState(mode, prog, drv, skb, hw);
    }
}
