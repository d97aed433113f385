using Appliance.Bpf.Isa;

namespace Appliance.Datapath.Xdp;

/// <summary>A jump target in an <see cref="XdpProgramBuilder"/>: made with <see cref="XdpProgramBuilder.NewLabel"/>,
/// placed once with <see cref="XdpProgramBuilder.Mark"/>.</summary>
public readonly record struct XdpLabel(int Id);

/// <summary>What a steering program does with a frame: give it to the AF_XDP socket of its receive queue (the
/// kernel stack when no socket is registered for that queue), leave it to the kernel stack, or drop it.</summary>
public enum XdpVerdict
{
    ToSocket,
    ToKernel,
    Drop,
}

/// <summary>The one way to write an XDP program at run time (no clang on the board): instructions are encoded with
/// <c>Appliance.Bpf</c>'s <see cref="BpfInstruction"/> and <see cref="BpfOpcodes"/>, jumps go to labels resolved by
/// <see cref="Build"/>, and every verdict has a label that <see cref="XdpSteeringProgram"/> places once at the end.
/// Register convention for rules (set up by the steering program's prologue): <see cref="Ctx"/> holds the
/// <c>xdp_md</c>, <see cref="Data"/> and <see cref="DataEnd"/> the frame bounds; r0–r5 are scratch (clobbered by
/// calls), r9 is free; the stack is scratch for each rule.</summary>
public sealed class XdpProgramBuilder
{
    public const int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, Ctx = 6, Data = 7, DataEnd = 8, R9 = 9, Fp = 10;

    /// <summary>Offsets in struct xdp_md.</summary>
    public const short XdpMdData = 0, XdpMdDataEnd = 4, XdpMdRxQueueIndex = 16;

    /// <summary>Helper ids (include/uapi/linux/bpf.h).</summary>
    public const int HelperMapLookupElem = 1, HelperRedirectMap = 51;

    private readonly List<ulong> _slots = [];
    private readonly List<int> _marks = [];
    private readonly List<bool> _used = [];
    private readonly List<(int Slot, XdpLabel Label)> _fixups = [];
    private readonly XdpLabel[] _verdicts;

    public XdpProgramBuilder()
    {
        _verdicts = [NewLabel(), NewLabel(), NewLabel()];
    }

    /// <summary>Instruction slots emitted so far (an lddw takes two).</summary>
    public int Count => _slots.Count;

    /// <summary>The label of a verdict; jump there to end the program with it.</summary>
    public XdpLabel Verdict(XdpVerdict verdict) => _verdicts[(int)verdict];

    public XdpLabel NewLabel()
    {
        _marks.Add(-1);
        _used.Add(false);
        return new XdpLabel(_marks.Count - 1);
    }

    /// <summary>Places <paramref name="label"/> at the next instruction.</summary>
    public XdpProgramBuilder Mark(XdpLabel label)
    {
        if (_marks[label.Id] >= 0) throw new InvalidOperationException($"label {label.Id} is placed twice");
        _marks[label.Id] = _slots.Count;
        return this;
    }

    public bool IsMarked(XdpLabel label) => _marks[label.Id] >= 0;

    /// <summary>Whether some jump goes to <paramref name="label"/>.</summary>
    public bool IsUsed(XdpLabel label) => _used[label.Id];

    public XdpProgramBuilder MovReg(int dst, int src) => Emit(BpfOpcodes.ClassAlu64 | BpfOpcodes.AluMov | BpfOpcodes.SourceReg, dst, src);
    public XdpProgramBuilder MovImm(int dst, int imm) => Emit(BpfOpcodes.ClassAlu64 | BpfOpcodes.AluMov, dst, imm: imm);
    public XdpProgramBuilder AddImm(int dst, int imm) => Emit(BpfOpcodes.ClassAlu64 | BpfOpcodes.AluAdd, dst, imm: imm);
    public XdpProgramBuilder AndImm(int dst, int imm) => Emit(BpfOpcodes.ClassAlu64 | BpfOpcodes.AluAnd, dst, imm: imm);

    /// <summary><c>dst = *(size *)(src + off)</c>; <paramref name="size"/> is <see cref="BpfOpcodes.SizeB"/>,
    /// <see cref="BpfOpcodes.SizeH"/>, <see cref="BpfOpcodes.SizeW"/> or <see cref="BpfOpcodes.SizeDw"/>.</summary>
    public XdpProgramBuilder Load(byte size, int dst, int src, short off) =>
        Emit(BpfOpcodes.ClassLdx | BpfOpcodes.ModeMem | size, dst, src, off);

    /// <summary><c>*(size *)(dst + off) = src</c>.</summary>
    public XdpProgramBuilder Store(byte size, int dst, short off, int src) =>
        Emit(BpfOpcodes.ClassStx | BpfOpcodes.ModeMem | size, dst, src, off);

    /// <summary><c>*(size *)(dst + off) = imm</c>.</summary>
    public XdpProgramBuilder StoreImm(byte size, int dst, short off, int imm) =>
        Emit(BpfOpcodes.ClassSt | BpfOpcodes.ModeMem | size, dst, off: off, imm: imm);

    /// <summary><c>dst = &amp;map</c> (lddw with the pseudo map-fd source: the kernel resolves the fd at load).</summary>
    public XdpProgramBuilder LoadMap(int dst, int mapFd)
    {
        _slots.Add(new BpfInstruction(BpfOpcodes.Lddw, (byte)dst, BpfOpcodes.PseudoMapFd, 0, mapFd).Encode());
        _slots.Add(0);
        return this;
    }

    /// <summary><c>r0 = helper(r1, …, r5)</c>.</summary>
    public XdpProgramBuilder Call(int helper) => Emit(BpfOpcodes.Call, imm: helper);

    public XdpProgramBuilder Exit() => Emit(BpfOpcodes.Exit);

    /// <summary><c>if (dst op imm) goto label</c>; <paramref name="op"/> is a jump operation such as <see cref="BpfOpcodes.JmpJeq"/>.</summary>
    public XdpProgramBuilder JumpIf(byte op, int dst, int imm, XdpLabel label) =>
        Jump(BpfOpcodes.ClassJmp | op, dst, 0, imm, label);

    /// <summary><c>if (dst op src) goto label</c>.</summary>
    public XdpProgramBuilder JumpIfReg(byte op, int dst, int src, XdpLabel label) =>
        Jump(BpfOpcodes.ClassJmp | op | BpfOpcodes.SourceReg, dst, src, 0, label);

    public XdpProgramBuilder Goto(XdpLabel label) => Jump(BpfOpcodes.Ja, 0, 0, 0, label);

    /// <summary>Goes to <paramref name="label"/> when the frame is shorter than <paramref name="bytes"/> (the bounds
    /// check the verifier needs before reading the first <paramref name="bytes"/> bytes through <see cref="Data"/>).
    /// Uses r4.</summary>
    public XdpProgramBuilder IfShorterThan(int bytes, XdpLabel label) =>
        MovReg(R4, Data).AddImm(R4, bytes).JumpIfReg(BpfOpcodes.JmpJgt, R4, DataEnd, label);

    /// <summary>The slots with every jump resolved. Throws when a used label was never placed.</summary>
    public ulong[] Build()
    {
        var slots = _slots.ToArray();
        foreach (var (slot, label) in _fixups)
        {
            int target = _marks[label.Id];
            if (target < 0) throw new InvalidOperationException($"label {label.Id} is jumped to but never placed");
            var ins = BpfInstruction.Decode(slots[slot]);
            slots[slot] = (ins with { Offset = checked((short)(target - slot - 1)) }).Encode();
        }
        return slots;
    }

    private XdpProgramBuilder Jump(int opcode, int dst, int src, int imm, XdpLabel label)
    {
        _used[label.Id] = true;
        _fixups.Add((_slots.Count, label));
        return Emit(opcode, dst, src, 0, imm);
    }

    private XdpProgramBuilder Emit(int opcode, int dst = 0, int src = 0, short off = 0, int imm = 0)
    {
        _slots.Add(new BpfInstruction((byte)opcode, (byte)dst, (byte)src, off, imm).Encode());
        return this;
    }
}
