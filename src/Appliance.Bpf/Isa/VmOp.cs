namespace Appliance.Bpf.Isa;

/// <summary>The interpreter's operation codes: one value per distinct behaviour, so that the opcode byte,
/// the offset (sdiv/smod/movsx), the source bit and the atomic imm are resolved once at load time and the
/// run loop dispatches on a dense switch.</summary>
public enum VmOp : byte
{
    Invalid = 0,

    // ALU64
    Add64Imm, Add64Reg, Sub64Imm, Sub64Reg, Mul64Imm, Mul64Reg, Div64Imm, Div64Reg, SDiv64Imm, SDiv64Reg,
    Or64Imm, Or64Reg, And64Imm, And64Reg, Lsh64Imm, Lsh64Reg, Rsh64Imm, Rsh64Reg, Neg64,
    Mod64Imm, Mod64Reg, SMod64Imm, SMod64Reg, Xor64Imm, Xor64Reg, Mov64Imm, Mov64Reg,
    MovSx8To64, MovSx16To64, MovSx32To64, Arsh64Imm, Arsh64Reg, Bswap16, Bswap32, Bswap64,

    // ALU (32-bit, zero-extending)
    Add32Imm, Add32Reg, Sub32Imm, Sub32Reg, Mul32Imm, Mul32Reg, Div32Imm, Div32Reg, SDiv32Imm, SDiv32Reg,
    Or32Imm, Or32Reg, And32Imm, And32Reg, Lsh32Imm, Lsh32Reg, Rsh32Imm, Rsh32Reg, Neg32,
    Mod32Imm, Mod32Reg, SMod32Imm, SMod32Reg, Xor32Imm, Xor32Reg, Mov32Imm, Mov32Reg,
    MovSx8To32, MovSx16To32, Arsh32Imm, Arsh32Reg, Le16, Le32, Le64, Be16, Be32, Be64,

    // JMP (64-bit compare) and JMP32
    Ja,
    Jeq64Imm, Jeq64Reg, Jgt64Imm, Jgt64Reg, Jge64Imm, Jge64Reg, Jset64Imm, Jset64Reg, Jne64Imm, Jne64Reg,
    Jsgt64Imm, Jsgt64Reg, Jsge64Imm, Jsge64Reg, Jlt64Imm, Jlt64Reg, Jle64Imm, Jle64Reg,
    Jslt64Imm, Jslt64Reg, Jsle64Imm, Jsle64Reg,
    Jeq32Imm, Jeq32Reg, Jgt32Imm, Jgt32Reg, Jge32Imm, Jge32Reg, Jset32Imm, Jset32Reg, Jne32Imm, Jne32Reg,
    Jsgt32Imm, Jsgt32Reg, Jsge32Imm, Jsge32Reg, Jlt32Imm, Jlt32Reg, Jle32Imm, Jle32Reg,
    Jslt32Imm, Jslt32Reg, Jsle32Imm, Jsle32Reg,
    CallHelper, CallLocal, CallReg, Exit,

    // Loads and stores
    LoadImm64,
    Ldx8, Ldx16, Ldx32, Ldx64, Ldxs8, Ldxs16, Ldxs32,
    St8, St16, St32, St64, Stx8, Stx16, Stx32, Stx64,

    // Atomics (W = 32-bit, DW = 64-bit)
    AtomicAdd32, AtomicOr32, AtomicAnd32, AtomicXor32,
    AtomicFetchAdd32, AtomicFetchOr32, AtomicFetchAnd32, AtomicFetchXor32, AtomicXchg32, AtomicCmpXchg32,
    AtomicAdd64, AtomicOr64, AtomicAnd64, AtomicXor64,
    AtomicFetchAdd64, AtomicFetchOr64, AtomicFetchAnd64, AtomicFetchXor64, AtomicXchg64, AtomicCmpXchg64,

    /// <summary>The second slot of an lddw: never executed (the lddw skips it).</summary>
    WideTail,

    // Context accesses the verifier proved (ContextAccessAnalysis): the loader turns Ldx/St/Stx through the
    // context register into these, so the kernel's __sk_buff rules are not checked again at run time. Offset is
    // the shadow offset; Dst, Src and Imm are the original instruction's. Loads of the 16-bit writable fields
    // (tc_index, tc_classid, queue_mapping) stay ordinary loads; stores to them are CtxStNarrow/CtxStxNarrow.
    CtxLdx8, CtxLdx16, CtxLdx32, CtxLdx64,
    CtxSt32, CtxSt64, CtxStx32, CtxStx64, CtxStNarrow, CtxStxNarrow,

    // Legacy packet loads (BPF_LD | BPF_ABS / BPF_IND, tc programs only): r0 = the 1, 2 or 4 bytes at
    // imm (ABS) or src + imm (IND) from the packet start (or, at SKF_LL_OFF / SKF_NET_OFF, the MAC or network
    // header), big-endian; r6 holds the context. A load outside the packet ends the current function with
    // r0 = 0, as the kernel's rewrite of them does. r1–r5 are clobbered (a helper call in the kernel).
    LdAbs8, LdAbs16, LdAbs32, LdInd8, LdInd16, LdInd32,
}
