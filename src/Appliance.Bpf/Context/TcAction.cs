namespace Appliance.Bpf.Context;

/// <summary>tc / tcx / netkit return codes (pkt_cls.h, enum tcx_action_base, enum netkit_action). A program's
/// verdict is <c>(int)(uint)r0</c>.</summary>
public static class TcAction
{
    public const int Unspec = -1, Ok = 0, Reclassify = 1, Shot = 2, Pipe = 3, Stolen = 4, Queued = 5, Repeat = 6,
        Redirect = 7, Trap = 8;
}
