namespace Appliance.Bpf.Jit;

/// <summary>x86-64 machine code (System V). Scratch registers: T0 = rax, T1 = rcx (shift counts), T2 = rdx,
/// T3 = r8; the state pointer lives in rbx. eBPF r0–r8 live in host registers for the whole run
/// (r12, r13, r14, r15, rbp, r9, r11, rsi, rdi; r9 stays in the state): they are written to the state's
/// register file before every runtime call and every exit, and read back after the call, so helpers and the
/// VM see the same registers as with the interpreter. r10 stays in the state too (the code reads it as a value
/// rarely and writes it only at bpf-to-bpf calls and returns); host r10 holds the host address it names
/// (r10 + the stack's delta), so an access through r10 is one instruction, like the kernel JIT's frame pointer. The native stack stays 16-byte aligned through the
/// whole body (bpf-to-bpf calls do not use it), so runtime calls need no fix-up.</summary>
internal sealed class X64Emitter : JitEmitter
{
    private const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rbp = 5, Rsi = 6, Rdi = 7, R8 = 8, FramePointer = 10;

    /// <summary>The host register of each eBPF register, or -1 for one kept in the state: r0–r8 as listed, r9 and r10
    /// in the state; a program that names r9 more often than one of r0–r8 (<see cref="JitEmitter.RegisterUses"/>) has
    /// r9 in that one's host register instead, and that one in the state (see <see cref="Prologue"/>).</summary>
    private readonly int[] Cached = [12, 13, 14, 15, 5, 9, 11, 6, 7, -1, -1];

    /// <summary>The callee-saved host registers the body uses besides rbx, in push order.</summary>
    private int[] _saved = [];

    /// <summary>Where rax holds a region's delta (<see cref="JitState.StackDelta"/> or <see cref="JitState.PacketDelta"/>)
    /// after an access that loaded it: the position right after that access and every instruction since that keeps
    /// rax (see <see cref="KeepsDelta"/>), and which delta. A later access of the same region at that position, with no
    /// label bound there (no jump lands in between), uses rax as it is instead of loading the delta again.</summary>
    private int _deltaAt = -1;
    private JDelta _deltaKind;

    /// <summary>True when rax still holds <see cref="_deltaKind"/>'s delta here (see <see cref="_deltaAt"/>).</summary>
    private bool DeltaHere => _deltaAt == Position && LastBound != Position;
    private readonly List<byte> _code = new(4096);
    private readonly List<(int Field, int Label)> _fixups = [];

    public override int Position => _code.Count;

    private static int H(JReg r) => r switch { JReg.T0 => Rax, JReg.T1 => Rcx, JReg.T2 => Rdx, _ => R8 };

    private void B(int b) => _code.Add((byte)b);

    private void D32(int v)
    {
        for (int i = 0; i < 4; i++) B(v >> (8 * i));
    }

    private void Q64(long v)
    {
        for (int i = 0; i < 8; i++) B((int)(v >> (8 * i)));
    }

    private void Rex(bool w, int reg, int rm, bool force = false)
    {
        int rex = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1);
        if (rex != 0x40 || force) B(rex);
    }

    /// <summary>opcode with reg, r/m = register.</summary>
    private void RR(bool w, int reg, int rm, int op1, int op2 = -1, int prefix = -1, bool forceRex = false)
    {
        if (prefix >= 0) B(prefix);
        Rex(w, reg, rm, forceRex);
        B(op1);
        if (op2 >= 0) B(op2);
        B(0xC0 | (reg & 7) << 3 | (rm & 7));
    }

    /// <summary>opcode with reg, r/m = [base + disp32].</summary>
    private void RM(bool w, int reg, int baseReg, int disp, int op1, int op2 = -1, int prefix = -1, bool forceRex = false, bool locked = false) =>
        RM(w, reg, (baseReg, -1, disp), op1, op2, prefix, forceRex, locked);

    /// <summary>opcode with reg, r/m = [base + index + disp32] (no index when it is -1).</summary>
    private void RM(bool w, int reg, (int Base, int Index, int Disp) m, int op1, int op2 = -1, int prefix = -1, bool forceRex = false, bool locked = false)
    {
        if (locked) B(0xF0);
        if (prefix >= 0) B(prefix);
        int rex = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | (m.Index >= 0 ? ((m.Index >> 3) & 1) << 1 : 0) | ((m.Base >> 3) & 1);
        if (rex != 0x40 || forceRex) B(rex);
        B(op1);
        if (op2 >= 0) B(op2);
        if (m.Index >= 0)
        {
            B(0x84 | (reg & 7) << 3);                               // [sib + disp32]
            B((m.Index & 7) << 3 | (m.Base & 7));                   // scale 1
        }
        else
        {
            B(0x80 | (reg & 7) << 3 | (m.Base & 7));
            if ((m.Base & 7) == 4) B(0x24);
        }
        D32(m.Disp);
    }

    /// <summary>The host form of <paramref name="m"/>: base, index (-1: none) and displacement. A stack access through
    /// r10 is the frame pointer + its offset; another stack or packet access the delta (in T0) + the eBPF register.</summary>
    /// <summary><paramref name="keepsDelta"/>: whether rax holds the region's delta after the access (an access that
    /// does not write rax then leaves it for the next one: <see cref="DeltaAfter"/>).</summary>
    private (int Base, int Index, int Disp) Operand(JMem m, out bool keepsDelta)
    {
        keepsDelta = false;
        if (m.Delta == JDelta.None) return (H(m.Base), -1, m.Displacement);
        if (m.Delta == JDelta.Stack && m.Index == 10)
        {
            keepsDelta = DeltaHere;                                      // the frame pointer: rax untouched
            return (FramePointer, -1, m.Displacement);
        }
        int delta = Rax;
        if (m.Delta == JDelta.InBase) delta = H(m.Base);
        else if (!(DeltaHere && _deltaKind == m.Delta))
        {
            RM(true, Rax, Rbx, m.Delta == JDelta.Stack ? JitState.StackDeltaOffset : JitState.PacketDeltaOffset, 0x8B);
            _deltaKind = m.Delta;
        }
        if (InHost(m.Index))
        {
            keepsDelta = m.Delta != JDelta.InBase;
            return (delta, Cached[m.Index], m.Displacement);
        }
        RM(true, delta, Rbx, JitState.RegsOffset + 8 * m.Index, 0x03);  // add delta, [the register in the state]
        return (delta, -1, m.Displacement);
    }

    /// <summary>After an instruction that did not write rax (an access through <see cref="Operand(JMem, out bool)"/>, or
    /// an operation on eBPF registers in host registers): rax's delta is still held when <paramref name="held"/>.</summary>
    private void DeltaAfter(bool held)
    {
        if (held) _deltaAt = Position;
    }

    /// <summary>Saves rbx and the callee-saved host registers of the eBPF registers the program uses (the code calls
    /// nothing, so the native stack's alignment does not matter), and loads the eBPF registers.</summary>
    public override void Prologue()
    {
        if (RegisterUses is { } uses)
        {
            // r9 takes the host register of the least named of r0–r8 when it is named more often.
            int least = 0;
            for (int r = 1; r <= 8; r++)
                if (uses[r] < uses[least]) least = r;
            if (uses[9] > uses[least])
            {
                Cached[9] = Cached[least];
                Cached[least] = -1;
            }
        }
        var saved = new List<int>();
        foreach (int host in new[] { Rbp, 12, 13, 14, 15 })
            for (int r = 0; r <= 9; r++)
                if (Cached[r] == host && (UsedRegisters & 1 << r) != 0) saved.Add(host);
        _saved = [.. saved];
        B(0x53);                    // push rbx
        foreach (int host in _saved)
        {
            Rex(false, 0, host);
            B(0x50 + (host & 7));   // push
        }
        RR(true, Rdi, Rbx, 0x89);   // mov rbx, rdi
        ReloadRegisters();
    }

    public override void Epilogue(bool resultOnly = false)
    {
        FlushRegisters(resultOnly ? UsedRegisters & 1 : UsedRegisters);
        for (int k = _saved.Length - 1; k >= 0; k--)
        {
            Rex(false, 0, _saved[k]);
            B(0x58 + (_saved[k] & 7)); // pop
        }
        B(0x5B);                    // pop rbx
        B(0xC3);                    // ret
    }

    /// <summary>The cached eBPF registers into the state's register file (r10 is always there).</summary>
    private void FlushRegisters(int registers)
    {
        for (int r = 0; r < Cached.Length; r++)
            if (Cached[r] >= 0 && (registers & 1 << r) != 0) RM(true, Cached[r], Rbx, JitState.RegsOffset + 8 * r, 0x89);
    }

    /// <summary>The cached eBPF registers from the state's register file, and the frame pointer from r10.</summary>
    private void ReloadRegisters()
    {
        for (int r = 0; r < Cached.Length; r++)
            if (Cached[r] >= 0 && (UsedRegisters & 1 << r) != 0) RM(true, Cached[r], Rbx, JitState.RegsOffset + 8 * r, 0x8B);
        SetFramePointer();
    }

    /// <summary>Frame pointer = r10 (in the state) + the stack's delta.</summary>
    private void SetFramePointer()
    {
        RM(true, FramePointer, Rbx, JitState.RegsOffset + 8 * 10, 0x8B);
        RM(true, FramePointer, Rbx, JitState.StackDeltaOffset, 0x03);
    }

    public override void LoadBpf(JReg d, int r)
    {
        bool held = DeltaHere && d != JReg.T0;
        if (Cached[r] >= 0) RR(true, Cached[r], H(d), 0x89);
        else RM(true, H(d), Rbx, JitState.RegsOffset + 8 * r, 0x8B);
        DeltaAfter(held);
    }

    public override void StoreBpf(int r, JReg s)
    {
        bool held = DeltaHere;
        if (Cached[r] >= 0) RR(true, H(s), Cached[r], 0x89);
        else RM(true, H(s), Rbx, JitState.RegsOffset + 8 * r, 0x89);
        if (r == 10) SetFramePointer();
        DeltaAfter(held);
    }
    private bool InHost(int r) => Cached[r] >= 0;

    private static int AluOpcode(JAlu op) => op switch
    {
        JAlu.Add => 0x01, JAlu.Sub => 0x29, JAlu.Or => 0x09, JAlu.And => 0x21, JAlu.Xor => 0x31, _ => -1,
    };

    public override bool AluBpf(JAlu op, bool is64, int dst, int src)
    {
        if (!InHost(dst) || !InHost(src)) return false;
        bool held = DeltaHere;
        if (op == JAlu.Mul) RR(is64, Cached[dst], Cached[src], 0x0F, 0xAF);   // imul dst, src
        else if (AluOpcode(op) is var code and >= 0) RR(is64, Cached[src], Cached[dst], code);
        else return false;
        DeltaAfter(held);
        return true;
    }

    public override bool AluImmBpf(JAlu op, bool is64, int dst, int imm)
    {
        if (!InHost(dst)) return false;
        int rd = Cached[dst];
        bool held = DeltaHere;
        switch (op)
        {
            case JAlu.Lsh or JAlu.Rsh or JAlu.Arsh:
                RR(is64, op == JAlu.Lsh ? 4 : op == JAlu.Rsh ? 5 : 7, rd, 0xC1);
                B(imm);
                DeltaAfter(held);
                return true;
            case JAlu.Mul:
                RR(is64, rd, rd, 0x69);
                break;
            case JAlu.Add or JAlu.Sub or JAlu.Or or JAlu.And or JAlu.Xor:
                RR(is64, op switch { JAlu.Add => 0, JAlu.Or => 1, JAlu.And => 4, JAlu.Sub => 5, _ => 6 }, rd, 0x81);
                break;
            default:
                return false;
        }
        D32(imm);
        DeltaAfter(held);
        return true;
    }

    public override bool MovBpf(bool is64, int dst, int src)
    {
        bool held = DeltaHere;
        if (is64 && src == 10 && InHost(dst)) RM(true, Cached[dst], Rbx, JitState.RegsOffset + 8 * 10, 0x8B); // r10 lives in the state
        else if (InHost(dst) && InHost(src)) RR(is64, Cached[src], Cached[dst], 0x89);
        else return false;
        DeltaAfter(held);
        return true;
    }

    public override bool MovImmBpf(int dst, long value)
    {
        if (!InHost(dst)) return false;
        bool held = DeltaHere;
        MovImmRaw(Cached[dst], value);
        DeltaAfter(held);
        return true;
    }

    public override bool CompareBpf(bool is64, bool test, int a, int b)
    {
        if (!InHost(a) || !InHost(b)) return false;
        bool held = DeltaHere;
        RR(is64, Cached[b], Cached[a], test ? 0x85 : 0x39);
        DeltaAfter(held);
        return true;
    }

    public override bool CompareImmBpf(bool is64, bool test, int a, int imm)
    {
        if (!InHost(a)) return false;
        bool held = DeltaHere;
        RR(is64, test ? 0 : 7, Cached[a], test ? 0xF7 : 0x81);
        D32(imm);
        DeltaAfter(held);
        return true;
    }

    public override void LoadState(JReg d, int offset) => RM(true, H(d), Rbx, offset, 0x8B);
    public override void StoreState(int offset, JReg s) => RM(true, H(s), Rbx, offset, 0x89);

    public override void StoreStateImm32(int offset, int value)
    {
        RM(false, 0, Rbx, offset, 0xC7);
        D32(value);
    }

    public override void LoadStateSized(JReg d, int offset, int size) => LoadRaw(H(d), (Rbx, -1, offset), size, false);

    public override void StoreStateSized(int offset, JReg s, int size) => StoreRaw((Rbx, -1, offset), H(s), size);

    public override void StateAddress(JReg d, int offset) => RM(true, H(d), Rbx, offset, 0x8D);

    public override void MovImm(JReg d, long value) => MovImmRaw(H(d), value);

    private void MovImmRaw(int d, long value)
    {
        if (value == (int)value)
        {
            RR(true, 0, d, 0xC7);
            D32((int)value);
        }
        else if ((ulong)value <= uint.MaxValue)
        {
            Rex(false, 0, d);
            B(0xB8 + (d & 7));
            D32((int)value);
        }
        else
        {
            Rex(true, 0, d);
            B(0xB8 + (d & 7));
            Q64(value);
        }
    }

    public override void Mov(JReg d, JReg s) => RR(true, H(s), H(d), 0x89);

    public override void Alu(JAlu op, bool is64, JReg d, JReg s)
    {
        switch (op)
        {
            case JAlu.Add: RR(is64, H(s), H(d), 0x01); break;
            case JAlu.Sub: RR(is64, H(s), H(d), 0x29); break;
            case JAlu.Or: RR(is64, H(s), H(d), 0x09); break;
            case JAlu.And: RR(is64, H(s), H(d), 0x21); break;
            case JAlu.Xor: RR(is64, H(s), H(d), 0x31); break;
            case JAlu.Mul: RR(is64, H(d), H(s), 0x0F, 0xAF); break;
            default:
                if (s != JReg.T1) throw new InvalidOperationException("shift count must be in T1");
                RR(is64, op == JAlu.Lsh ? 4 : op == JAlu.Rsh ? 5 : 7, H(d), 0xD3);
                break;
        }
    }

    public override void AluImm(JAlu op, bool is64, JReg d, int imm)
    {
        int rd = H(d);
        switch (op)
        {
            case JAlu.Lsh or JAlu.Rsh or JAlu.Arsh:
                RR(is64, op == JAlu.Lsh ? 4 : op == JAlu.Rsh ? 5 : 7, rd, 0xC1);
                B(imm);
                return;
            case JAlu.Mul:
                RR(is64, rd, rd, 0x69);
                break;
            default:
                RR(is64, op switch { JAlu.Add => 0, JAlu.Or => 1, JAlu.And => 4, JAlu.Sub => 5, _ => 6 }, rd, 0x81);
                break;
        }
        D32(imm);
    }

    public override void Neg(bool is64, JReg d) => RR(is64, 3, H(d), 0xF7);

    public override void Divide(bool is64, bool signed, bool modulo)
    {
        if (signed)
        {
            if (is64) B(0x48);
            B(0x99);                              // cqo / cdq
            RR(is64, 7, Rcx, 0xF7);               // idiv rcx
        }
        else
        {
            RR(false, Rdx, Rdx, 0x31);            // xor edx, edx
            RR(is64, 6, Rcx, 0xF7);               // div rcx
        }
        if (modulo) RR(is64, Rdx, Rax, 0x89);     // mov rax, rdx
    }

    public override void SignExtend(JReg d, int fromBits, bool to64)
    {
        int r = H(d);
        switch (fromBits)
        {
            case 8: RR(to64, r, r, 0x0F, 0xBE, forceRex: true); break;
            case 16: RR(to64, r, r, 0x0F, 0xBF); break;
            default: RR(true, r, r, 0x63); break;
        }
    }

    public override void ZeroExtend(JReg d, int fromBits)
    {
        int r = H(d);
        if (fromBits == 16) RR(false, r, r, 0x0F, 0xB7);
        else RR(false, r, r, 0x89);
    }

    public override void HighestBit(JReg d) => RR(true, H(d), H(d), 0x0F, 0xBD); // bsr d, d

    public override void ByteSwap(JReg d, int bits) => ByteSwapRaw(H(d), bits);

    public override bool ByteSwapBpf(int r, int bits)
    {
        if (!InHost(r)) return false;
        bool held = DeltaHere;
        ByteSwapRaw(Cached[r], bits);
        DeltaAfter(held);
        return true;
    }

    private void ByteSwapRaw(int r, int bits)
    {
        if (bits == 16)
        {
            RR(false, 0, r, 0xC1, prefix: 0x66);  // rol r16, 8
            B(8);
            RR(false, r, r, 0x0F, 0xB7);          // movzx r32, r16
            return;
        }
        Rex(bits == 64, 0, r);
        B(0x0F);
        B(0xC8 + (r & 7));
    }

    public override void Load(JReg d, JMem m, int size, bool signExtend)
    {
        LoadRaw(H(d), Operand(m, out bool keeps), size, signExtend);
        DeltaAfter(keeps && d != JReg.T0);
    }

    private void LoadRaw(int r, (int, int, int) m, int size, bool signExtend)
    {
        switch (size)
        {
            case 1: RM(signExtend, r, m, 0x0F, signExtend ? 0xBE : 0xB6); break;
            case 2: RM(signExtend, r, m, 0x0F, signExtend ? 0xBF : 0xB7); break;
            case 4: RM(signExtend, r, m, signExtend ? 0x63 : 0x8B); break;
            default: RM(true, r, m, 0x8B); break;
        }
    }

    public override void Store(JMem m, JReg value, int size)
    {
        if (value == JReg.T0 && m.Delta != JDelta.None) throw new InvalidOperationException("a region operand clobbers T0");
        StoreRaw(Operand(m, out bool keeps), H(value), size);
        DeltaAfter(keeps);
    }

    public override void Lea(JReg d, JMem m)
    {
        RM(true, H(d), Operand(m, out bool keeps), 0x8D);
        DeltaAfter(keeps && d != JReg.T0);
    }

    public override bool LoadBpfFrom(int dst, JMem m, int size, bool signExtend)
    {
        if (!InHost(dst)) return false;
        LoadRaw(Cached[dst], Operand(m, out bool keeps), size, signExtend);
        DeltaAfter(keeps);
        return true;
    }

    public override bool StoreBpfTo(JMem m, int src, int size)
    {
        if (!InHost(src)) return false;
        StoreRaw(Operand(m, out bool keeps), Cached[src], size);
        DeltaAfter(keeps);
        return true;
    }

    private void StoreRaw((int, int, int) m, int v, int size)
    {
        switch (size)
        {
            case 1: RM(false, v, m, 0x88, forceRex: true); break;
            case 2: RM(false, v, m, 0x89, prefix: 0x66); break;
            case 4: RM(false, v, m, 0x89); break;
            default: RM(true, v, m, 0x89); break;
        }
    }

    /// <summary>Nothing to emit: x86-64 never reorders a load with an earlier load (TSO).</summary>
    public override void LoadFence() { }

    public override void Atomic(JAtomic op, bool is64)
    {
        switch (op)
        {
            case JAtomic.Add: RM(is64, Rcx, R8, 0, 0x01, locked: true); break;
            case JAtomic.Or: RM(is64, Rcx, R8, 0, 0x09, locked: true); break;
            case JAtomic.And: RM(is64, Rcx, R8, 0, 0x21, locked: true); break;
            case JAtomic.Xor: RM(is64, Rcx, R8, 0, 0x31, locked: true); break;
            case JAtomic.FetchAdd: RM(is64, Rcx, R8, 0, 0x0F, 0xC1, locked: true); break; // lock xadd
            case JAtomic.Xchg: RM(is64, Rcx, R8, 0, 0x87); break;
            case JAtomic.CmpXchg:
                RM(is64, Rcx, R8, 0, 0x0F, 0xB1, locked: true);                           // lock cmpxchg [r8], rcx
                if (!is64) RR(false, Rax, Rax, 0x89);                                     // mov eax, eax
                break;
            default:
                {
                    RM(is64, Rax, R8, 0, 0x8B);                                           // mov rax, [r8]
                    int loop = Position;
                    RR(is64, Rax, Rdx, 0x89);                                             // mov rdx, rax
                    RR(is64, Rcx, Rdx, op == JAtomic.FetchOr ? 0x09 : op == JAtomic.FetchAnd ? 0x21 : 0x31);
                    RM(is64, Rdx, R8, 0, 0x0F, 0xB1, locked: true);                        // lock cmpxchg [r8], rdx
                    B(0x75);                                                              // jne loop
                    B(loop - (Position + 1));
                    RR(is64, Rax, Rcx, 0x89);                                             // mov rcx, rax
                    break;
                }
        }
    }

    public override void Compare(bool is64, JReg a, JReg b) => RR(is64, H(b), H(a), 0x39);

    public override void CompareImm(bool is64, JReg a, int imm)
    {
        RR(is64, 7, H(a), 0x81);
        D32(imm);
    }

    public override void Test(bool is64, JReg a, JReg b) => RR(is64, H(b), H(a), 0x85);

    public override void TestImm(bool is64, JReg a, int imm)
    {
        RR(is64, 0, H(a), 0xF7);
        D32(imm);
    }

    public override void Jump(int label)
    {
        B(0xE9);
        Fixup(label);
    }

    public override void JumpIf(JCond cond, int label)
    {
        bool held = DeltaHere;                                      // the next instruction, when the jump is not taken
        B(0x0F);
        B(0x80 + cond switch
        {
            JCond.Eq => 0x4, JCond.Ne or JCond.Set => 0x5, JCond.UGt => 0x7, JCond.UGe => 0x3, JCond.ULt => 0x2,
            JCond.ULe => 0x6, JCond.SGt => 0xF, JCond.SGe => 0xD, JCond.SLt => 0xC, _ => 0xE,
        });
        Fixup(label);
        DeltaAfter(held);
    }

    public override void JumpRegister(JReg target) => RR(false, 4, H(target), 0xFF);

    public override void LabelAddress(JReg d, int label)
    {
        int r = H(d);
        Rex(true, r, 0);
        B(0x8D);
        B((r & 7) << 3 | 5);   // [rip + disp32]
        Fixup(label);
    }

    private void Fixup(int label)
    {
        _fixups.Add((Position, label));
        D32(0);
    }

    public override byte[] Finish()
    {
        var code = _code.ToArray();
        foreach (var (field, label) in _fixups)
            BitConverter.TryWriteBytes(code.AsSpan(field, 4), LabelPosition(label) - (field + 4));
        return code;
    }
}
