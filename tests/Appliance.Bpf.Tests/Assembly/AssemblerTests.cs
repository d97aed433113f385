using Appliance.Bpf.Assembly;
using Appliance.Bpf.Isa;
using Appliance.Bpf.Tests.Conformance;
using Xunit;

namespace Appliance.Bpf.Tests.Assembly;

/// <summary>The assembler accepts the conformance syntax, and disassembly round-trips to identical slots.</summary>
public sealed class AssemblerTests
{
    [Fact]
    public void EveryConformanceVectorRoundTripsThroughTheDisassembler()
    {
        int checkedCount = 0;
        foreach (string path in ConformanceVectors.All())
        {
            var vector = ConformanceVector.Parse(path);
            ulong[] code = vector.Raw ?? BpfAssembler.Assemble(vector.Assembly);
            string text = BpfDisassembler.DisassembleAll(code);
            Assert.True(code.SequenceEqual(BpfAssembler.Assemble(text)), $"{vector.Name} does not round-trip:\n{text}");
            checkedCount++;
        }
        Assert.Equal(313, checkedCount);
    }

    [Fact]
    public void ImmediatesFollowTheConformanceRules()
    {
        // Hex imm32 is raw 32 bits: 0x80000000 is -2^31 once sign-extended.
        Assert.Equal(int.MinValue, BpfInstruction.Decode(BpfAssembler.Assemble("mov %r0, 0x80000000")[0]).Imm);
        Assert.Equal(-10, BpfInstruction.Decode(BpfAssembler.Assemble("mov %r0, -10")[0]).Imm);
        ulong[] lddw = BpfAssembler.Assemble("lddw %r1, -2");
        Assert.Equal(2, lddw.Length);
        Assert.Equal(-2, BpfInstruction.Decode(lddw[0]).Imm);
        Assert.Equal(-1, BpfInstruction.Decode(lddw[1]).Imm);
    }

    [Fact]
    public void EncodesTheExpectedBytes()
    {
        Assert.Equal(0x00000000_0004_2161UL, BpfAssembler.Assemble("ldxw %r1, [%r2+4]")[0]);
        Assert.Equal(0x0000_0000_fff8_1a7bUL, BpfAssembler.Assemble("stxdw [%r10-8], %r1")[0]);
        Assert.Equal(0x00000005_0000_0085UL, BpfAssembler.Assemble("call 5")[0]);
        Assert.Equal(0x00000000_0000_0095UL, BpfAssembler.Assemble("exit")[0]);
        Assert.Equal(0x00000001_0000_1085UL, BpfAssembler.Assemble("call local +1\nexit\nexit")[0]);
        Assert.Equal(0x000000f1_fff8_1adbUL, BpfAssembler.Assemble("lock cmpxchg [%r10-8], %r1")[0]);
    }

    [Fact]
    public void MapReferencesUseThePseudoSources()
    {
        ulong[] map = BpfAssembler.Assemble("lddw %r1, map[3]");
        Assert.Equal(BpfOpcodes.PseudoMapFd, BpfInstruction.Decode(map[0]).Src);
        Assert.Equal(3, BpfInstruction.Decode(map[0]).Imm);
        ulong[] value = BpfAssembler.Assemble("lddw %r1, map_value[2]+16");
        Assert.Equal(BpfOpcodes.PseudoMapValue, BpfInstruction.Decode(value[0]).Src);
        Assert.Equal(16, BpfInstruction.Decode(value[1]).Imm);
        Assert.Equal("lddw %r1, map_value[2]+16", BpfDisassembler.Disassemble(value, 0));
    }

    [Fact]
    public void ErrorsNameTheLine()
    {
        var e = Assert.Throws<BpfAssemblyException>(() => BpfAssembler.Assemble("mov %r0, 0\nfrob %r0\nexit"));
        Assert.StartsWith("line 2: unknown mnemonic 'frob'", e.Message, StringComparison.Ordinal);
        Assert.Throws<BpfAssemblyException>(() => BpfAssembler.Assemble("ja nowhere"));
        Assert.Throws<BpfAssemblyException>(() => BpfAssembler.Assemble("a:\na:\nexit"));
        Assert.Throws<BpfAssemblyException>(() => BpfAssembler.Assemble("mov %r11, 0"));
    }
}
