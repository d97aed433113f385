using Appliance.Interop;

namespace Appliance.Datapath.Xdp;

/// <summary>The XDP steering programs, built at run time with <see cref="XdpProgramBuilder"/> (no clang on the board;
/// afxdp.md §10): a prologue (ctx, data, data_end into r6–r8), the rules in order (each may end the program with a
/// verdict or fall through), then the verdict for frames no rule decided, then the code of every other verdict a
/// rule jumped to. <see cref="XdpVerdict.ToSocket"/> is
/// <c>return bpf_redirect_map(&amp;xsks, ctx-&gt;rx_queue_index, XDP_PASS);</c> — the AF_XDP socket of the frame's
/// receive queue, or the kernel stack (the management path) when no socket is registered for it.</summary>
public static class XdpSteeringProgram
{
    /// <summary>Every frame to its queue's socket: the six-slot reference program (no rules, no prologue).</summary>
    public static ulong[] Build(int xskMapFd) => Build(xskMapFd, [], XdpVerdict.ToSocket);

    public static ulong[] Build(int xskMapFd, IReadOnlyList<IXdpSteeringRule> rules, XdpVerdict otherwise)
    {
        var code = new XdpProgramBuilder();
        int ctx = XdpProgramBuilder.R1;
        if (rules.Count > 0)
        {
            ctx = XdpProgramBuilder.Ctx;
            code.MovReg(XdpProgramBuilder.Ctx, XdpProgramBuilder.R1)
                .Load(Bpf.Isa.BpfOpcodes.SizeW, XdpProgramBuilder.Data, XdpProgramBuilder.Ctx, XdpProgramBuilder.XdpMdData)
                .Load(Bpf.Isa.BpfOpcodes.SizeW, XdpProgramBuilder.DataEnd, XdpProgramBuilder.Ctx, XdpProgramBuilder.XdpMdDataEnd);
        }
        foreach (var rule in rules) rule.Emit(code);
        EmitVerdict(code, otherwise, xskMapFd, ctx);
        foreach (var verdict in (ReadOnlySpan<XdpVerdict>)[XdpVerdict.ToSocket, XdpVerdict.ToKernel, XdpVerdict.Drop])
            if (code.IsUsed(code.Verdict(verdict)) && !code.IsMarked(code.Verdict(verdict)))
                EmitVerdict(code, verdict, xskMapFd, ctx);
        return code.Build();
    }

    private static void EmitVerdict(XdpProgramBuilder code, XdpVerdict verdict, int xskMapFd, int ctx)
    {
        code.Mark(code.Verdict(verdict));
        switch (verdict)
        {
            case XdpVerdict.ToSocket:
                code.Load(Bpf.Isa.BpfOpcodes.SizeW, XdpProgramBuilder.R2, ctx, XdpProgramBuilder.XdpMdRxQueueIndex)
                    .LoadMap(XdpProgramBuilder.R1, xskMapFd)
                    .MovImm(XdpProgramBuilder.R3, XdpFlags.Pass) // no socket on that queue: the kernel
                    .Call(XdpProgramBuilder.HelperRedirectMap)
                    .Exit();
                break;
            case XdpVerdict.ToKernel:
                code.MovImm(XdpProgramBuilder.R0, XdpFlags.Pass).Exit();
                break;
            default:
                code.MovImm(XdpProgramBuilder.R0, XdpFlags.Drop).Exit();
                break;
        }
    }
}
