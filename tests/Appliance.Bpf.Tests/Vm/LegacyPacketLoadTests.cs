using System.Buffers.Binary;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>Legacy packet loads (LD_ABS / LD_IND): big-endian reads from the packet start, the MAC header
/// (SKF_LL_OFF) or the network header (SKF_NET_OFF); a read outside the packet ends the current function with 0.
/// The kernel comparison is in DifferentialTests (test:legacy_loads); here, chosen frames and the edges
/// (the JIT's own cases: LegacyPacketLoadJitTests).</summary>
public sealed class LegacyPacketLoadTests
{
    private const int SkfLlOff = -0x200000, SkfNetOff = -0x100000;

    private static byte[] Frame(int length)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++) frame[i] = (byte)(i * 7 + 3);
        frame[14] = 0x46; // IPv4 header with one option word: IHL 6
        return frame;
    }

    private static ulong RunObjectProgram(string name, byte[] frame, bool jit)
    {
        var obj = TestObjects.LoadTestProgram("legacy_loads");
        var maps = obj.Maps.Select(def => BpfMap.Create(def)).ToArray();
        var program = LoadedProgram.LoadAll(obj, maps, LinuxHelperTable.Instance).Single(p => p.Name == name);
        var packet = VmTestSupport.Packet(frame);
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var result = VmTestSupport.Run(program, ref packet, new BpfVmOptions { UseJit = jit });
        Assert.False(result.Faulted, result.Fault.ToString());
        return result.R0;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AbsoluteLoadsReadBigEndianAndAShortFrameEndsTheProgramWithZero(bool jit)
    {
        var frame = Frame(100);
        uint expected = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) ^ BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(6))
            ^ (uint)frame[14 + 8] << 8 ^ BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(30)) ^ (uint)frame[90] << 16 | 1;
        Assert.Equal(expected, RunObjectProgram("absolute_loads", frame, jit));
        Assert.Equal(0UL, RunObjectProgram("absolute_loads", Frame(90), jit)); // byte 90 is past the end
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFailedLoadInASubProgramEndsOnlyTheSubProgram(bool jit)
    {
        foreach (int length in new[] { 64, 69 })
        {
            var frame = Frame(length);
            uint l4 = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 24 + 2));
            // word_at(len - (len & 7)): at 64 the word starts at the end (the sub-program returns 0); at 69, 5 bytes before it.
            uint tail = length % 8 == 0 ? 0 : (BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(length - length % 8)) & 0xffff) + 1;
            Assert.Equal(l4 + (tail << 16) + (uint)(length & 0xff), RunObjectProgram("indirect_loads", frame, jit));
        }
    }

    [Theory]
    [InlineData(SkfLlOff + 12, 0x0c0d)]              // the MAC header is the packet start
    [InlineData(SkfNetOff + 2, 0x1011)]              // the network header is 14 bytes in
    [InlineData(SkfNetOff - 2, 0)]                   // below SKF_NET_OFF is MAC-relative: far past the end
    [InlineData(SkfLlOff - 1, 0)]                    // below SKF_LL_OFF: nothing
    [InlineData(62, 0x3e3f)]
    [InlineData(63, 0)]                              // one byte of two inside
    [InlineData(-1, 0)]
    public void OffsetsFollowTheKernelsNegativeOffsetRules(int offset, int expected)
    {
        var frame = new byte[64];
        for (int i = 0; i < frame.Length; i++) frame[i] = (byte)i;
        // r0 = 0xbad unless the load ends the program; an IND load adds r7 (0) to the same offset.
        foreach (string load in new[] { $"ldabsh {offset}", $"ldindh %r7, {offset}" })
        {
            var r = VmTestSupport.Run($"mov %r6, %r1\nmov %r7, 0\n{load}\nexit", frame);
            Assert.False(r.Faulted);
            Assert.Equal((ulong)expected, r.R0);
        }
    }

    [Fact]
    public void TheContextMustBeInR6AndRegistersR1ToR5AreClobbered()
    {
        var notContext = VmTestSupport.Run("mov %r6, 0\nldabsb 0\nexit");
        Assert.Equal(BpfFault.HelperMisuse, notContext.Fault);
        var e = Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load("mov %r6, %r1\nmov %r2, 1\nldabsb 0\nmov %r0, %r2\nexit"));
        Assert.Contains("r2 is read but no path to here writes it", e.Message, StringComparison.Ordinal);
        var conformance = Assert.Throws<BpfVerifierException>(() => BpfVerifier.Verify(
            new BpfProgramImage("p", "conformance", Bpf.Assembly.BpfAssembler.Assemble("mov %r6, %r1\nldabsb 0\nexit")), 0,
            LinuxHelperTable.Instance, BpfVerifierOptions.Conformance));
        Assert.Contains("needs a tc program's __sk_buff in r6", conformance.Message, StringComparison.Ordinal);
    }
}
