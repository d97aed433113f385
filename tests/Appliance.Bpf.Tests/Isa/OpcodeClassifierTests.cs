using Appliance.Bpf.Assembly;
using Appliance.Bpf.Isa;
using Xunit;

namespace Appliance.Bpf.Tests.Isa;

/// <summary>Every opcode byte with typical field values: each valid encoding disassembles to text that
/// assembles back to the same slot, and every interpreter operation is reachable from some encoding.</summary>
public sealed class OpcodeClassifierTests
{
    [Fact]
    public void ValidEncodingsRoundTripAndCoverEveryOperation()
    {
        var seen = new HashSet<VmOp>();
        short[] offsets = [0, 1, 8, 16, 32, -4];
        int[] imms = [0, 16, 32, 64, 1, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1, -7];
        byte[] srcs = [0, 1, 3];
        for (int opcode = 0; opcode < 256; opcode++)
        foreach (byte dst in (byte[])[0, 2])
            foreach (short off in offsets)
                foreach (int imm in imms)
                    foreach (byte src in srcs)
                    {
                        var ins = new BpfInstruction((byte)opcode, dst, src, off, imm);
                        VmOp op = OpcodeClassifier.Classify(ins, out string? reason);
                        if (op == VmOp.Invalid)
                        {
                            Assert.False(string.IsNullOrEmpty(reason));
                            continue;
                        }
                        seen.Add(op);
                        ulong[] slots = ins.IsWide ? [ins.Encode(), 0] : [ins.Encode()];
                        string text = BpfDisassembler.Disassemble(slots, 0);
                        Assert.Equal(slots, BpfAssembler.Assemble(text));
                    }
        // The context operations (CtxLdx8…) come from the loader for verified context accesses, never from an encoding.
        var missing = Enum.GetValues<VmOp>().Where(v => v is not (VmOp.Invalid or VmOp.WideTail) && v < VmOp.CtxLdx8 && !seen.Contains(v)).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void DistinctEncodingsGetDistinctOperations()
    {
        Assert.Equal(VmOp.Arsh32Imm, OpcodeClassifier.Classify(new BpfInstruction(0xc4, 0, 0, 0, 1), out _));
        Assert.Equal(VmOp.Arsh64Reg, OpcodeClassifier.Classify(new BpfInstruction(0xcf, 0, 1, 0, 0), out _));
        Assert.Equal(VmOp.SDiv32Reg, OpcodeClassifier.Classify(new BpfInstruction(0x3c, 0, 1, 1, 0), out _));
        Assert.Equal(VmOp.MovSx16To32, OpcodeClassifier.Classify(new BpfInstruction(0xbc, 0, 1, 16, 0), out _));
        Assert.Equal(VmOp.Invalid, OpcodeClassifier.Classify(new BpfInstruction(0xbc, 0, 1, 32, 0), out _));
        Assert.Equal(VmOp.Jsle32Reg, OpcodeClassifier.Classify(new BpfInstruction(0xde, 0, 1, 0, 0), out _));
        Assert.Equal(VmOp.Invalid, OpcodeClassifier.Classify(new BpfInstruction(0x87, 0, 0, 0, 5), out _)); // neg with imm
    }
}
