namespace Appliance.Bpf.Jit;

/// <summary>AArch64 machine code (AAPCS64, ARMv8.0: exclusive-pair atomics, no LSE needed). Scratch registers:
/// T0 = x9, T1 = x10, T2 = x11, T3 = x12; the state pointer lives in x19; x15–x17 are the emitter's own
/// temporaries. eBPF r0–r8 live in x20–x28, r9 and r10 in x13 and x14 for the whole run: they are written to the
/// state's register file before every runtime call and every exit, and read back after the call, so helpers and
/// the VM see the same registers as with the interpreter. x3 and x4 hold the stack's and the packet's deltas (fixed
/// while the code runs) and x5 the host address r10 names (x14 + x3), so an access through r10 is one instruction. The native stack is not touched after the prologue
/// (bpf-to-bpf calls keep their frames in the state), so runtime calls see it 16-byte aligned.</summary>
internal sealed class Arm64Emitter : JitEmitter
{
    private const int StackDelta = 3, PacketDelta = 4, FramePointer = 5, X15 = 15, X16 = 16, X17 = 17, State = 19, Zr = 31;
    private readonly List<uint> _code = new(1024);
    private readonly List<(int Index, int Label, FixupKind Kind)> _fixups = [];

    private enum FixupKind : byte { Branch26, Branch19, Adr21 }

    public override int Position => _code.Count * 4;

    private static int H(JReg r) => 9 + (int)r;

    /// <summary>The host register of each eBPF register.</summary>
    private static int Cached(int r) => r <= 8 ? 20 + r : 4 + r;

    private static uint Pair(uint opcode, int offset, int t2, int n, int t) =>
        opcode | ((uint)(offset / 8) & 0x7F) << 15 | (uint)t2 << 10 | (uint)n << 5 | (uint)t;

    private void I(uint instruction) => _code.Add(instruction);

    private static uint Sf(bool is64) => is64 ? 0x80000000u : 0u;

    private const int Sp = 31, Fp = 29, Lr = 30;

    public override void Prologue()
    {
        I(Pair(0xA9800000u, -96, Lr, Sp, Fp));      // stp x29, x30, [sp, #-96]!
        I(0x910003FD);                              // mov x29, sp
        for (int k = 0; k < 5; k++)
            I(Pair(0xA9000000u, 16 + 16 * k, 20 + 2 * k, Sp, 19 + 2 * k)); // stp x19+2k, x20+2k, [sp, #16+16k]
        I(0xAA0003F3);                              // mov x19, x0
        ReloadRegisters();
    }

    public override void Epilogue(bool resultOnly = false)
    {
        FlushRegisters(resultOnly ? UsedRegisters & 1 : UsedRegisters);
        for (int k = 0; k < 5; k++)
            I(Pair(0xA9400000u, 16 + 16 * k, 20 + 2 * k, Sp, 19 + 2 * k)); // ldp
        I(Pair(0xA8C00000u, 96, Lr, Sp, Fp));       // ldp x29, x30, [sp], #96
        I(0xD65F03C0);                              // ret
    }

    private void FlushRegisters(int registers)
    {
        for (int r = 0; r <= 10; r++)
            if ((registers & 1 << r) != 0) Mem(3, 0, Cached(r), State, JitState.RegsOffset + 8 * r);
    }

    private void ReloadRegisters()
    {
        for (int r = 0; r <= 10; r++)
            if ((UsedRegisters & 1 << r) != 0) Mem(3, 1, Cached(r), State, JitState.RegsOffset + 8 * r);
        Mem(3, 1, StackDelta, State, JitState.StackDeltaOffset);
        Mem(3, 1, PacketDelta, State, JitState.PacketDeltaOffset);
        Add3(FramePointer, Cached(10), StackDelta);
    }

    /// <summary>d = n + m (64-bit).</summary>
    private void Add3(int d, int n, int m) => I(0x8B000000u | (uint)m << 16 | (uint)n << 5 | (uint)d);

    /// <summary>LDR/STR of 1 &lt;&lt; <paramref name="size"/> bytes; <paramref name="opc"/>: 0 store, 1 load, 2 load sign-extended to 64.</summary>
    private void Mem(int size, uint opc, int t, int n, int disp)
    {
        int scale = 1 << size;
        uint common = (uint)size << 30 | opc << 22 | (uint)n << 5 | (uint)t;
        if (disp >= 0 && disp % scale == 0 && disp / scale < 4096) I(0x39000000u | common | (uint)(disp / scale) << 10);
        else if (disp >= -256 && disp < 256) I(0x38000000u | common | ((uint)disp & 0x1FF) << 12);
        else
        {
            MovImmRaw(X16, disp);
            I(0x38206800u | common | (uint)X16 << 16);  // [xn, x16] (LSL #0)
        }
    }

    public override void LoadBpf(JReg d, int r) => MovRaw(true, H(d), Cached(r));
    public override void StoreBpf(int r, JReg s)
    {
        MovRaw(true, Cached(r), H(s));
        if (r == 10) Add3(FramePointer, Cached(10), StackDelta);
    }
    public override void LoadState(JReg d, int offset) => Mem(3, 1, H(d), State, offset);
    public override void StoreState(int offset, JReg s) => Mem(3, 0, H(s), State, offset);

    public override void StoreStateImm32(int offset, int value)
    {
        MovImmRaw(X16, value);
        Mem(2, 0, X16, State, offset);
    }

    public override void LoadStateSized(JReg d, int offset, int size) => Mem(Log2(size), 1, H(d), State, offset);

    public override void StoreStateSized(int offset, JReg s, int size) => Mem(Log2(size), 0, H(s), State, offset);

    public override void StateAddress(JReg d, int offset) => AddImm(true, H(d), State, offset);

    private void AddImm(bool is64, int d, int n, int imm)
    {
        if (imm >= 0 && imm < 4096) I(Sf(is64) | 0x11000000u | (uint)imm << 10 | (uint)n << 5 | (uint)d);
        else if (imm < 0 && imm > -4096) I(Sf(is64) | 0x51000000u | (uint)(-imm) << 10 | (uint)n << 5 | (uint)d);
        else
        {
            MovImmRaw(X16, imm);
            I(Sf(is64) | 0x0B000000u | (uint)X16 << 16 | (uint)n << 5 | (uint)d);
        }
    }

    public override void MovImm(JReg d, long value) => MovImmRaw(H(d), value);

    private void MovImmRaw(int d, long value)
    {
        ulong u = (ulong)value;
        if (u >> 16 == 0xFFFF_FFFF_FFFFUL)
        {
            I(0x92800000u | (uint)(~u & 0xFFFF) << 5 | (uint)d);               // movn
            return;
        }
        I(0xD2800000u | (uint)(u & 0xFFFF) << 5 | (uint)d);                    // movz
        for (int hw = 1; hw < 4; hw++)
        {
            uint chunk = (uint)(u >> (16 * hw)) & 0xFFFF;
            if (chunk != 0) I(0xF2800000u | (uint)hw << 21 | chunk << 5 | (uint)d); // movk
        }
    }

    private void MovRaw(bool is64, int d, int s) => I(Sf(is64) | 0x2A0003E0u | (uint)s << 16 | (uint)d);

    public override void Mov(JReg d, JReg s) => MovRaw(true, H(d), H(s));

    public override void Alu(JAlu op, bool is64, JReg d, JReg s) => AluRaw(op, is64, H(d), H(s));

    private void AluRaw(JAlu op, bool is64, int d, int s)
    {
        uint rr = Sf(is64) | (uint)s << 16 | (uint)d << 5 | (uint)d;
        I(rr | op switch
        {
            JAlu.Add => 0x0B000000u,
            JAlu.Sub => 0x4B000000u,
            JAlu.Or => 0x2A000000u,
            JAlu.And => 0x0A000000u,
            JAlu.Xor => 0x4A000000u,
            JAlu.Mul => 0x1B007C00u,
            JAlu.Lsh => 0x1AC02000u,
            JAlu.Rsh => 0x1AC02400u,
            _ => 0x1AC02800u,
        });
    }

    public override void AluImm(JAlu op, bool is64, JReg d, int imm) => AluImmRaw(op, is64, H(d), imm);

    // Direct forms: every eBPF register lives in a host register here, so ALU operations, moves and compares work
    // on them in place instead of going through the scratch registers (two moves fewer each).

    public override bool AluBpf(JAlu op, bool is64, int dst, int src)
    {
        if (op is JAlu.Lsh or JAlu.Rsh or JAlu.Arsh) return false;
        AluRaw(op, is64, Cached(dst), Cached(src));
        return true;
    }

    public override bool AluImmBpf(JAlu op, bool is64, int dst, int imm)
    {
        AluImmRaw(op, is64, Cached(dst), imm);
        return true;
    }

    public override bool MovBpf(bool is64, int dst, int src)
    {
        MovRaw(is64, Cached(dst), Cached(src));
        return true;
    }

    public override bool MovImmBpf(int dst, long value)
    {
        MovImmRaw(Cached(dst), value);
        return true;
    }

    public override bool CompareBpf(bool is64, bool test, int a, int b)
    {
        I(Sf(is64) | (test ? 0x6A00001Fu : 0x6B00001Fu) | (uint)Cached(b) << 16 | (uint)Cached(a) << 5);
        return true;
    }

    public override bool CompareImmBpf(bool is64, bool test, int a, int imm)
    {
        if (test) TestImmRaw(is64, Cached(a), imm);
        else CompareImmRaw(is64, Cached(a), imm);
        return true;
    }

    private void AluImmRaw(JAlu op, bool is64, int r, int imm)
    {
        uint sf = Sf(is64);
        int bits = is64 ? 64 : 32;
        switch (op)
        {
            case JAlu.Add: AddImm(is64, r, r, imm); break;
            case JAlu.Sub when imm != int.MinValue: AddImm(is64, r, r, -imm); break;
            case JAlu.Lsh: // ubfm rd, rn, #(-s mod bits), #(bits - 1 - s)
                I(sf | (is64 ? 0x53400000u : 0x53000000u) | (uint)((bits - imm) % bits) << 16 | (uint)(bits - 1 - imm) << 10 | (uint)r << 5 | (uint)r);
                break;
            case JAlu.Rsh: // ubfm rd, rn, #s, #(bits - 1)
                I(sf | (is64 ? 0x53400000u : 0x53000000u) | (uint)imm << 16 | (uint)(bits - 1) << 10 | (uint)r << 5 | (uint)r);
                break;
            case JAlu.Arsh: // sbfm rd, rn, #s, #(bits - 1)
                I(sf | (is64 ? 0x13400000u : 0x13000000u) | (uint)imm << 16 | (uint)(bits - 1) << 10 | (uint)r << 5 | (uint)r);
                break;
            default:
                MovImmRaw(X16, imm);
                AluRaw(op, is64, r, X16);
                break;
        }
    }

    public override void Neg(bool is64, JReg d) => I(Sf(is64) | 0x4B0003E0u | (uint)H(d) << 16 | (uint)H(d));

    public override void Divide(bool is64, bool signed, bool modulo)
    {
        int t0 = H(JReg.T0), t1 = H(JReg.T1);
        I(Sf(is64) | (signed ? 0x1AC00C00u : 0x1AC00800u) | (uint)t1 << 16 | (uint)t0 << 5 | X16);   // x16 = t0 / t1
        if (modulo) I(Sf(is64) | 0x1B008000u | (uint)t1 << 16 | (uint)t0 << 10 | X16 << 5 | (uint)t0); // t0 = t0 - x16 * t1
        else MovRaw(is64, t0, X16);
    }

    public override void SignExtend(JReg d, int fromBits, bool to64)
    {
        int r = H(d);
        uint imms = (uint)(fromBits - 1);
        I((to64 ? 0x93400000u : 0x13000000u) | imms << 10 | (uint)r << 5 | (uint)r);   // sbfm rd, rn, #0, #(bits-1)
    }

    public override void ZeroExtend(JReg d, int fromBits)
    {
        int r = H(d);
        if (fromBits == 16) I(0x53003C00u | (uint)r << 5 | (uint)r);  // uxth (ubfm wd, wn, #0, #15)
        else MovRaw(false, r, r);                                   // mov wd, wn
    }

    public override void HighestBit(JReg d)
    {
        int r = H(d);
        I(0xDAC01000u | (uint)r << 5 | (uint)r);                        // clz xd, xd
        I(0xD2401400u | (uint)r << 5 | (uint)r);                        // eor xd, xd, #63 (63 - clz)
    }

    public override void ByteSwap(JReg d, int bits) => ByteSwapRaw(H(d), bits);

    public override bool ByteSwapBpf(int r, int bits)
    {
        ByteSwapRaw(Cached(r), bits);
        return true;
    }

    private void ByteSwapRaw(int r, int bits)
    {
        switch (bits)
        {
            case 16:
                I(0x5AC00400u | (uint)r << 5 | (uint)r);                // rev16 wd, wn
                I(0x53003C00u | (uint)r << 5 | (uint)r);                // uxth
                break;
            case 32: I(0x5AC00800u | (uint)r << 5 | (uint)r); break;    // rev wd, wn
            default: I(0xDAC00C00u | (uint)r << 5 | (uint)r); break;    // rev xd, xn
        }
    }

    private static int Log2(int size) => size switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };

    public override void Load(JReg d, JMem m, int size, bool signExtend) => Access(Log2(size), signExtend && size < 8 ? 2u : 1u, H(d), m);

    public override void Store(JMem m, JReg value, int size) => Access(Log2(size), 0, H(value), m);

    public override void Lea(JReg d, JMem m)
    {
        if (m.Delta == JDelta.None) AddImm(true, H(d), H(m.Base), m.Displacement);
        else
        {
            Add3(H(d), Cached(m.Index), DeltaRegister(m));
            AddImm(true, H(d), H(d), m.Displacement);
        }
    }

    public override bool LoadBpfFrom(int dst, JMem m, int size, bool signExtend)
    {
        Access(Log2(size), signExtend && size < 8 ? 2u : 1u, Cached(dst), m);
        return true;
    }

    public override bool StoreBpfTo(JMem m, int src, int size)
    {
        Access(Log2(size), 0, Cached(src), m);
        return true;
    }

    private static int DeltaRegister(JMem m) => m.Delta switch { JDelta.Stack => StackDelta, JDelta.Packet => PacketDelta, _ => H(m.Base) };

    /// <summary><see cref="Mem"/> at <paramref name="m"/>: through r10 the frame pointer + its offset; else a stack or
    /// packet access is the delta register + the eBPF register (register offset, or their sum in x17 + the offset).</summary>
    private void Access(int size, uint opc, int t, JMem m)
    {
        if (m.Delta == JDelta.None)
        {
            Mem(size, opc, t, H(m.Base), m.Displacement);
            return;
        }
        if (m.Delta == JDelta.Stack && m.Index == 10)
        {
            Mem(size, opc, t, FramePointer, m.Displacement);
            return;
        }
        int delta = DeltaRegister(m);
        if (m.Displacement == 0)
        {
            I(0x38206800u | (uint)size << 30 | opc << 22 | (uint)Cached(m.Index) << 16 | (uint)delta << 5 | (uint)t); // [delta, xm]
            return;
        }
        Add3(X17, delta, Cached(m.Index));
        Mem(size, opc, t, X17, m.Displacement);
    }

    public override void LoadFence() => I(0xD50339BFu);                 // dmb ishld

    public override void Atomic(JAtomic op, bool is64)
    {
        int a = H(JReg.T3), v = H(JReg.T1), t0 = H(JReg.T0);
        uint ldaxr = (is64 ? 0xC85FFC00u : 0x885FFC00u) | (uint)a << 5;
        uint stlxr = (is64 ? 0xC800FC00u : 0x8800FC00u) | X15 << 16 | (uint)a << 5;
        int loop = _code.Count;
        I(ldaxr | X17);                                                 // x17 = [a]
        if (op == JAtomic.CmpXchg)
        {
            I(Sf(is64) | 0x6B00001Fu | (uint)t0 << 16 | X17 << 5);    // cmp x17, t0
            I(0x54000000u | 3u << 5 | 0x1);                             // b.ne +3 instructions (to clrex)
            I(stlxr | (uint)v);                                         // [a] = v
            I(0x35000000u | ((uint)(loop - _code.Count) & 0x7FFFF) << 5 | X15); // cbnz w15, loop
            I(0xD5033F5Fu);                                             // clrex
            MovRaw(is64, t0, X17);
            return;
        }
        switch (op)
        {
            case JAtomic.Add or JAtomic.FetchAdd: I(Sf(is64) | 0x0B000000u | (uint)v << 16 | X17 << 5 | X16); break;
            case JAtomic.Or or JAtomic.FetchOr: I(Sf(is64) | 0x2A000000u | (uint)v << 16 | X17 << 5 | X16); break;
            case JAtomic.And or JAtomic.FetchAnd: I(Sf(is64) | 0x0A000000u | (uint)v << 16 | X17 << 5 | X16); break;
            case JAtomic.Xor or JAtomic.FetchXor: I(Sf(is64) | 0x4A000000u | (uint)v << 16 | X17 << 5 | X16); break;
            default: MovRaw(true, X16, v); break;                       // xchg
        }
        I(stlxr | X16);
        I(0x35000000u | ((uint)(loop - _code.Count) & 0x7FFFF) << 5 | X15);
        if (op >= JAtomic.FetchAdd) MovRaw(is64, v, X17);
    }

    public override void Compare(bool is64, JReg a, JReg b) => I(Sf(is64) | 0x6B00001Fu | (uint)H(b) << 16 | (uint)H(a) << 5);

    public override void CompareImm(bool is64, JReg a, int imm) => CompareImmRaw(is64, H(a), imm);

    private void CompareImmRaw(bool is64, int a, int imm)
    {
        if (imm >= 0 && imm < 4096) I(Sf(is64) | 0x7100001Fu | (uint)imm << 10 | (uint)a << 5);
        else
        {
            MovImmRaw(X16, imm);
            I(Sf(is64) | 0x6B00001Fu | X16 << 16 | (uint)a << 5);
        }
    }

    public override void Test(bool is64, JReg a, JReg b) => I(Sf(is64) | 0x6A00001Fu | (uint)H(b) << 16 | (uint)H(a) << 5);

    public override void TestImm(bool is64, JReg a, int imm) => TestImmRaw(is64, H(a), imm);

    private void TestImmRaw(bool is64, int a, int imm)
    {
        MovImmRaw(X16, imm);
        I(Sf(is64) | 0x6A00001Fu | X16 << 16 | (uint)a << 5);
    }

    public override void Jump(int label)
    {
        _fixups.Add((_code.Count, label, FixupKind.Branch26));
        I(0x14000000u);
    }

    public override void JumpIf(JCond cond, int label)
    {
        _fixups.Add((_code.Count, label, FixupKind.Branch19));
        I(0x54000000u | cond switch
        {
            JCond.Eq => 0x0u, JCond.Ne or JCond.Set => 0x1u, JCond.UGe => 0x2u, JCond.ULt => 0x3u, JCond.UGt => 0x8u,
            JCond.ULe => 0x9u, JCond.SGe => 0xAu, JCond.SLt => 0xBu, JCond.SGt => 0xCu, _ => 0xDu,
        });
    }

    public override void JumpRegister(JReg target) => I(0xD61F0000u | (uint)H(target) << 5);

    public override void LabelAddress(JReg d, int label)
    {
        _fixups.Add((_code.Count, label, FixupKind.Adr21));
        I(0x10000000u | (uint)H(d));
    }

    public override byte[] Finish()
    {
        foreach (var (index, label, kind) in _fixups)
        {
            long delta = (LabelPosition(label) - index * 4L) / 4;
            switch (kind)
            {
                case FixupKind.Branch26:
                    if (delta is < -(1 << 25) or >= 1 << 25) throw new NotSupportedException("the program is too large for arm64 branches");
                    _code[index] |= (uint)delta & 0x3FFFFFF;
                    break;
                case FixupKind.Branch19:
                    if (delta is < -(1 << 18) or >= 1 << 18) throw new NotSupportedException("the program is too large for arm64 conditional branches (1 MiB)");
                    _code[index] |= ((uint)delta & 0x7FFFF) << 5;
                    break;
                default:
                    long bytes = delta * 4;
                    if (bytes is < -(1 << 20) or >= 1 << 20) throw new NotSupportedException("the program is too large for arm64 adr (1 MiB)");
                    _code[index] |= ((uint)bytes & 3) << 29 | ((uint)(bytes >> 2) & 0x7FFFF) << 5;
                    break;
            }
        }
        var bytesOut = new byte[_code.Count * 4];
        for (int i = 0; i < _code.Count; i++) BitConverter.TryWriteBytes(bytesOut.AsSpan(i * 4), _code[i]);
        return bytesOut;
    }
}
