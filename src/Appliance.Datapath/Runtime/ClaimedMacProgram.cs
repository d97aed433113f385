using static Appliance.Datapath.Xdp.XdpSteeringProgram;

namespace Appliance.Datapath.Runtime;

/// <summary>The XDP program on a port, assembled at run time like <see cref="Xdp.XdpSteeringProgram"/>, that
/// leaves the board's own traffic to the kernel:
/// <code>
/// if (frame shorter than 14 bytes || dst MAC is a group address) return XDP_PASS;   // kernel (+ flood copy)
/// if (bpf_map_lookup_elem(&amp;claimed, dst MAC padded to 8 bytes))
///     return bpf_redirect_map(&amp;xsks, ctx->rx_queue_index, XDP_PASS);                // a tenant's frame
/// return UNCLAIMED;                                                                   // XDP_PASS or XDP_DROP
/// </code>
/// Only frames to a tenant's MAC reach AF_XDP; management traffic to the port's own address (ARP, SSH, ping)
/// stays in the kernel. Group frames go to the kernel and the flooder copies them to the port's L2 pairs.</summary>
public static class ClaimedMacProgram
{
    private const byte MovReg = 0xbf, MovImm = 0xb7, AddImm = 0x07, AndImm = 0x57, JgtReg = 0x2d, JneImm = 0x55,
        JeqImm = 0x15, LdxW = 0x61, LdxH = 0x69, LdxB = 0x71, StxH = 0x6b, StH = 0x6a, LdDw = 0x18, Call = 0x85, Exit = 0x95;
    private const int PseudoMapFd = 1, HelperMapLookup = 1, HelperRedirectMap = 51, XdpMdRxQueueIndex = 16;
    public const int XdpDrop = 1, XdpPass = 2;

    /// <summary>Key size of the claimed-MAC hash map: the six address bytes, then two zero bytes.</summary>
    public const int KeySize = 8;

    public static ulong[] Build(int claimedMapFd, int xskMapFd, bool dropUnclaimed) =>
    [
        Insn(MovReg, 6, 1, 0, 0),                     //  0 r6 = ctx
        Insn(LdxW, 2, 1, 0, 0),                       //  1 r2 = ctx->data
        Insn(LdxW, 3, 1, 4, 0),                       //  2 r3 = ctx->data_end
        Insn(MovReg, 4, 2, 0, 0),                     //  3 r4 = r2
        Insn(AddImm, 4, 0, 0, 14),                    //  4 r4 += 14
        Insn(JgtReg, 4, 3, 24, 0),                    //  5 runt -> 30 (pass)
        Insn(LdxB, 5, 2, 0, 0),                       //  6 r5 = dst[0]
        Insn(AndImm, 5, 0, 0, 1),                     //  7 r5 &= 1 (I/G bit)
        Insn(JneImm, 5, 0, 21, 0),                    //  8 group -> 30 (pass)
        Insn(LdxH, 5, 2, 0, 0),                       //  9 key = dst[0..6], 0, 0
        Insn(StxH, 10, 5, -8, 0),                     // 10
        Insn(LdxH, 5, 2, 2, 0),                       // 11
        Insn(StxH, 10, 5, -6, 0),                     // 12
        Insn(LdxH, 5, 2, 4, 0),                       // 13
        Insn(StxH, 10, 5, -4, 0),                     // 14
        Insn(StH, 10, 0, -2, 0),                      // 15
        Insn(LdDw, 1, PseudoMapFd, 0, claimedMapFd),  // 16 r1 = &claimed
        0,                                            // 17
        Insn(MovReg, 2, 10, 0, 0),                    // 18 r2 = fp
        Insn(AddImm, 2, 0, 0, -8),                    // 19 r2 -= 8
        Insn(Call, 0, 0, 0, HelperMapLookup),         // 20 r0 = lookup
        Insn(JeqImm, 0, 0, 6, 0),                     // 21 miss -> 28 (unclaimed)
        Insn(LdxW, 2, 6, XdpMdRxQueueIndex, 0),       // 22 r2 = ctx->rx_queue_index
        Insn(LdDw, 1, PseudoMapFd, 0, xskMapFd),      // 23 r1 = &xsks
        0,                                            // 24
        Insn(MovImm, 3, 0, 0, XdpPass),               // 25 r3 = XDP_PASS (no socket on that queue)
        Insn(Call, 0, 0, 0, HelperRedirectMap),       // 26
        Insn(Exit, 0, 0, 0, 0),                       // 27
        Insn(MovImm, 0, 0, 0, dropUnclaimed ? XdpDrop : XdpPass), // 28 unclaimed unicast
        Insn(Exit, 0, 0, 0, 0),                       // 29
        Insn(MovImm, 0, 0, 0, XdpPass),               // 30 group or runt: the kernel
        Insn(Exit, 0, 0, 0, 0),                       // 31
    ];
}
