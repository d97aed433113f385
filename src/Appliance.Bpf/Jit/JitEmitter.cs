namespace Appliance.Bpf.Jit;

/// <summary>The lowering's scratch registers; each emitter maps them to host registers (eBPF registers have host
/// registers of their own, reached through <see cref="JitEmitter.LoadBpf"/>, <see cref="JitEmitter.StoreBpf"/> and
/// the direct forms). Scratch registers are live only within one instruction.</summary>
internal enum JReg : byte { T0, T1, T2, T3 }

/// <summary>Branch conditions after <see cref="JitEmitter.Compare"/> (unsigned U*, signed S*) or
/// <see cref="JitEmitter.Test"/> (<see cref="Set"/>: some bit in common).</summary>
internal enum JCond : byte { Eq, Ne, UGt, UGe, ULt, ULe, SGt, SGe, SLt, SLe, Set }

internal enum JAlu : byte { Add, Sub, Mul, Or, And, Xor, Lsh, Rsh, Arsh }

internal enum JAtomic : byte { Add, Or, And, Xor, FetchAdd, FetchOr, FetchAnd, FetchXor, Xchg, CmpXchg }

/// <summary>A region whose host address is its virtual one plus a delta that stays the same while the code runs
/// (the VM sets it before each entry): the stack (<see cref="JitState.StackDelta"/>) and the packet
/// (<see cref="JitState.PacketDelta"/>); or <see cref="InBase"/>: the delta is in the operand's base register.</summary>
internal enum JDelta : byte { None, Stack, Packet, InBase }

/// <summary>A memory operand: host address = the scratch register <see cref="Base"/> + <see cref="Displacement"/>; or,
/// with a <see cref="Delta"/>, eBPF register <see cref="Index"/> + that region's delta + <see cref="Displacement"/>
/// (<see cref="Base"/> unused unless the delta is <see cref="JDelta.InBase"/>), which each emitter forms in the fewest
/// instructions it can, clobbering T0 at most (and the base register for <see cref="JDelta.InBase"/>).</summary>
internal readonly record struct JMem(JReg Base, int Displacement, JDelta Delta = JDelta.None, int Index = 0)
{
    public static JMem InRegion(JDelta delta, int bpfRegister, int displacement) => new(JReg.T0, displacement, delta, bpfRegister);
}

/// <summary>One architecture's machine code for the small set of operations <see cref="JitLowering"/> is
/// written in. Contracts the lowering keeps: two-operand ALU forms write <c>d</c>; shifts and divisions take
/// the count/divisor in <see cref="JReg.T1"/> and the value in <see cref="JReg.T0"/>; 32-bit operations
/// zero-extend their result into 64 bits; atomics take the host address in <see cref="JReg.T3"/>, the operand in
/// <see cref="JReg.T1"/> (fetch forms return the old value there) and the compare-exchange expectation in
/// <see cref="JReg.T0"/> (which receives the old value).</summary>
internal abstract class JitEmitter
{
    private readonly List<int> _labels = [];

    public int NewLabel()
    {
        _labels.Add(-1);
        return _labels.Count - 1;
    }

    public void Bind(int label) => _labels[label] = LastBound = Position;

    /// <summary>Binds <paramref name="label"/> where only the code before it continues: no jump may name it (the
    /// finished code refuses one), so what the emitter knows about its registers there still holds.</summary>
    public void BindFallThrough(int label)
    {
        _labels[label] = Position;
        _fallThrough.Add(label);
    }

    private readonly HashSet<int> _fallThrough = [];

    /// <summary>The position the last label was bound at: code there may be reached by a jump.</summary>
    protected int LastBound { get; private set; } = -1;

    protected int LabelPosition(int label) =>
        _fallThrough.Contains(label) ? throw new InvalidOperationException($"label {label} is reached only from the code before it")
        : _labels[label] >= 0 ? _labels[label] : throw new InvalidOperationException($"label {label} never bound");

    public abstract int Position { get; }

    /// <summary>Bit mask of the eBPF registers the program uses (set before <see cref="Prologue"/>): only these
    /// move between host registers and the state's register file at entry, runtime calls and exit.</summary>
    public int UsedRegisters { get; set; } = 0x7FF;

    /// <summary>How often the program names each eBPF register (set before <see cref="Prologue"/>, or null): an emitter
    /// with fewer host registers than eBPF registers keeps the least named ones in the state.</summary>
    public int[]? RegisterUses { get; set; }

    public abstract void Prologue();

    /// <summary>Returns to the caller of the compiled code (the status is already in the state). The eBPF registers go
    /// to the state's register file first: all of them, or with <paramref name="resultOnly"/> r0 alone (a finished run,
    /// after which the VM reads nothing else, and the next run clears them).</summary>
    public abstract void Epilogue(bool resultOnly = false);

    public abstract void LoadBpf(JReg d, int bpfRegister);
    public abstract void StoreBpf(int bpfRegister, JReg s);
    // Direct forms on eBPF registers an emitter keeps in host registers: one instruction instead of going through
    // the scratch registers. Each returns false when this emitter has no such form for its operands (the
    // lowering then uses the scratch path); 32-bit forms zero-extend into 64 bits like the scratch path.

    /// <summary>r<paramref name="dst"/> = r<paramref name="dst"/> op r<paramref name="src"/> (no shifts by register).</summary>
    public virtual bool AluBpf(JAlu op, bool is64, int dst, int src) => false;

    /// <summary>r<paramref name="dst"/> = r<paramref name="dst"/> op imm (shift counts already masked).</summary>
    public virtual bool AluImmBpf(JAlu op, bool is64, int dst, int imm) => false;

    /// <summary>r<paramref name="dst"/> = r<paramref name="src"/> (32-bit: zero-extended low half).</summary>
    public virtual bool MovBpf(bool is64, int dst, int src) => false;

    public virtual bool MovImmBpf(int dst, long value) => false;

    /// <summary>r<paramref name="r"/> = its low <paramref name="bits"/>/8 bytes reversed, the rest zeroed (see <see cref="ByteSwap"/>).</summary>
    public virtual bool ByteSwapBpf(int r, int bits) => false;

    /// <summary>Flags for a branch on r<paramref name="a"/> against r<paramref name="b"/> (compare, or test for <see cref="JCond.Set"/>).</summary>
    public virtual bool CompareBpf(bool is64, bool test, int a, int b) => false;

    /// <summary>Flags for a branch on r<paramref name="a"/> against imm (compare, or test for <see cref="JCond.Set"/>).</summary>
    public virtual bool CompareImmBpf(bool is64, bool test, int a, int imm) => false;

    public abstract void LoadState(JReg d, int offset);
    public abstract void StoreState(int offset, JReg s);
    public abstract void StoreStateImm32(int offset, int value);

    /// <summary>d = the <paramref name="size"/>-byte field at state + <paramref name="offset"/>, zero-extended.</summary>
    public abstract void LoadStateSized(JReg d, int offset, int size);

    /// <summary>The low <paramref name="size"/> bytes of s to state + <paramref name="offset"/>.</summary>
    public abstract void StoreStateSized(int offset, JReg s, int size);

    /// <summary>d = address of the state + offset.</summary>
    public abstract void StateAddress(JReg d, int offset);

    public abstract void MovImm(JReg d, long value);
    public abstract void Mov(JReg d, JReg s);
    public abstract void Alu(JAlu op, bool is64, JReg d, JReg s);

    /// <summary>d = d op imm (imm sign-extended to the operation's width; shift counts already masked).</summary>
    public abstract void AluImm(JAlu op, bool is64, JReg d, int imm);

    public abstract void Neg(bool is64, JReg d);

    /// <summary>T0 = T0 / T1 or T0 % T1; the lowering rules out 0 and signed -1 divisors first.</summary>
    public abstract void Divide(bool is64, bool signed, bool modulo);

    public abstract void SignExtend(JReg d, int fromBits, bool to64);
    public abstract void ZeroExtend(JReg d, int fromBits);

    /// <summary>d = the index (0–63) of the highest set bit of d, which is not 0.</summary>
    public abstract void HighestBit(JReg d);

    /// <summary>Reverses the low <paramref name="bits"/>/8 bytes and zeroes the rest.</summary>
    public abstract void ByteSwap(JReg d, int bits);

    /// <summary>d = the <paramref name="size"/> bytes at <paramref name="m"/>, zero- or sign-extended into 64 bits.</summary>
    public abstract void Load(JReg d, JMem m, int size, bool signExtend);

    /// <summary>The low <paramref name="size"/> bytes of <paramref name="value"/> to <paramref name="m"/>.</summary>
    public abstract void Store(JMem m, JReg value, int size);

    /// <summary>d = the host address <paramref name="m"/> names.</summary>
    public abstract void Lea(JReg d, JMem m);

    public void Load(JReg d, JReg address, int displacement, int size, bool signExtend) => Load(d, new JMem(address, displacement), size, signExtend);
    public void Store(JReg address, int displacement, JReg value, int size) => Store(new JMem(address, displacement), value, size);

    // Direct forms of memory accesses on eBPF registers in host registers (false: the lowering goes through the
    // scratch registers). Loads zero- or sign-extend into all 64 bits like Load.

    /// <summary>r<paramref name="dst"/> = the <paramref name="size"/> bytes at <paramref name="m"/>.</summary>
    public virtual bool LoadBpfFrom(int dst, JMem m, int size, bool signExtend) => false;

    /// <summary>The low <paramref name="size"/> bytes of r<paramref name="src"/> to <paramref name="m"/>.</summary>
    public virtual bool StoreBpfTo(JMem m, int src, int size) => false;
    public abstract void Atomic(JAtomic op, bool is64);

    /// <summary>Orders the loads before it before the loads after it (a seqlock reader's read barrier).</summary>
    public abstract void LoadFence();

    public abstract void Compare(bool is64, JReg a, JReg b);
    public abstract void CompareImm(bool is64, JReg a, int imm);
    public abstract void Test(bool is64, JReg a, JReg b);
    public abstract void TestImm(bool is64, JReg a, int imm);

    public abstract void Jump(int label);
    public abstract void JumpIf(JCond cond, int label);
    public abstract void JumpRegister(JReg target);

    /// <summary>d = the host address of <paramref name="label"/>.</summary>
    public abstract void LabelAddress(JReg d, int label);

    /// <summary>The finished code with every label reference resolved.</summary>
    public abstract byte[] Finish();
}
