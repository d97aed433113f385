namespace Appliance.Datapath.Xdp;

/// <summary>The XDP steering program, assembled at run time (no clang on the board; afxdp.md §10):
/// <c>return bpf_redirect_map(&amp;xsks, ctx-&gt;rx_queue_index, XDP_PASS);</c> — frames go to the AF_XDP
/// socket of their receive queue, and to the kernel stack (the management path) when no socket claims it.</summary>
public static class XdpSteeringProgram
{
    private const byte LdxW = 0x61, LdDw = 0x18, MovImm = 0xb7, Call = 0x85, Exit = 0x95;
    private const int PseudoMapFd = 1, HelperRedirectMap = 51, XdpMdRxQueueIndex = 16, XdpPass = 2;

    /// <summary>The six instruction slots with <paramref name="xskMapFd"/> in the map load.</summary>
    public static ulong[] Build(int xskMapFd) =>
    [
        Insn(LdxW, dst: 2, src: 1, off: XdpMdRxQueueIndex, imm: 0), // r2 = ctx->rx_queue_index
        Insn(LdDw, dst: 1, src: PseudoMapFd, off: 0, imm: xskMapFd), // r1 = &xsks (two slots)
        0,
        Insn(MovImm, dst: 3, src: 0, off: 0, imm: XdpPass),         // r3 = XDP_PASS (fallback action)
        Insn(Call, dst: 0, src: 0, off: 0, imm: HelperRedirectMap), // r0 = bpf_redirect_map(r1, r2, r3)
        Insn(Exit, dst: 0, src: 0, off: 0, imm: 0),
    ];

    /// <summary>struct bpf_insn, little-endian: code, dst:4|src:4, s16 off, s32 imm.</summary>
    public static ulong Insn(byte code, int dst, int src, short off, int imm) =>
        code | (ulong)(byte)((src << 4) | dst) << 8 | (ulong)(ushort)off << 16 | (ulong)(uint)imm << 32;
}
