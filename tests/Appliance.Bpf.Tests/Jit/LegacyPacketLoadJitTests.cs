using System.Buffers.Binary;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>Legacy packet loads (LD_ABS / LD_IND) under the JIT, which loads inside the packet in the code and leaves
/// everything else to the VM's routine the interpreter uses (see JitLowering.LegacyPacketLoad): every width, both
/// forms, loads inside, partly and fully past the end, negative and huge register values, the SKF_LL_OFF /
/// SKF_NET_OFF bases, r6 not the context, a packet a helper moved, a pending narrow context store. Each case runs
/// on both engines; the expected r0 is worked out from the frame's bytes at the offset written by hand in the case.
/// The clang-built programs (test:legacy_loads) run on both engines in LegacyPacketLoadTests and against the kernel
/// in DifferentialTests.</summary>
public sealed class LegacyPacketLoadJitTests
{
    private const int SkfLlOff = -0x200000, SkfNetOff = -0x100000;

    /// <summary>Added to r0 after the load: a load that ends the program (r0 = 0) never gets it.</summary>
    private const ulong Continued = 0x10_0000_0000;

    private static readonly byte[] Frame = Enumerable.Range(0, 64).Select(i => (byte)(i * 7 + 3)).ToArray();

    private const int Outside = int.MinValue;

    /// <summary>(form, r7, imm, the effective offset by hand — or <see cref="Outside"/>: no byte of it is read — for
    /// sizes 1, 2 and 4). IND adds r7's low 32 bits to imm in 32 bits.</summary>
    private static readonly (string Form, long R7, int Imm, int[] Effective)[] Cases =
    [
        ("abs", 0, 10, [10, 10, 10]),                                  // inside
        ("abs", 0, 0, [0, 0, 0]),
        ("abs", 0, 63, [63, Outside, Outside]),                         // the last byte; partly past the end
        ("abs", 0, 62, [62, 62, Outside]),
        ("abs", 0, 60, [60, 60, 60]),                                   // ends exactly at the end
        ("abs", 0, 61, [61, 61, Outside]),                              // 4 bytes: 3 inside
        ("abs", 0, 64, [Outside, Outside, Outside]),                    // fully past the end
        ("abs", 0, int.MaxValue, [Outside, Outside, Outside]),
        ("abs", 0, -1, [Outside, Outside, Outside]),                    // negative, above SKF_NET_OFF: MAC-relative, far past the end
        ("abs", 0, SkfLlOff + 12, [12, 12, 12]),                        // the MAC header is the packet start
        ("abs", 0, SkfNetOff + 2, [16, 16, 16]),                        // the network header is 14 bytes in
        ("abs", 0, SkfLlOff - 1, [Outside, Outside, Outside]),          // below SKF_LL_OFF
        ("ind", 6, 4, [10, 10, 10]),                                    // inside
        ("ind", 60, 3, [63, Outside, Outside]),                         // partly past the end
        ("ind", 64, 0, [Outside, Outside, Outside]),                    // fully past the end
        ("ind", -1, 5, [4, 4, 4]),                                      // a negative register: -1 + 5 = 4
        ("ind", -20, 5, [Outside, Outside, Outside]),                   // -15
        ("ind", 0x1_0000_0004, 2, [6, 6, 6]),                           // huge: only the low 32 bits count
        ("ind", unchecked((long)0xFFFF_FFFF_0000_0030), 1, [49, 49, 49]),
        ("ind", int.MaxValue, 1, [Outside, Outside, Outside]),          // wraps to int.MinValue: below SKF_LL_OFF
        ("ind", unchecked((long)0x8000_0000_0000_0000), 0, [0, 0, 0]),  // low half 0
        ("ind", SkfNetOff, 40, [54, 54, 54]),                           // SKF_NET_OFF in the register
        ("ind", SkfLlOff + 70, -10, [60, 60, 60]),
    ];

    public static TheoryData<bool, int, int> Loads()
    {
        var data = new TheoryData<bool, int, int>();
        foreach (bool jit in new[] { false, true })
            foreach (int size in new[] { 1, 2, 4 })
                for (int c = 0; c < Cases.Length; c++)
                    data.Add(jit, size, c);
        return data;
    }

    private static string Suffix(int size) => size switch { 1 => "b", 2 => "h", _ => "w" };

    private static BpfRunResult Run(string text, bool jit, byte[]? frame = null)
    {
        var program = VmTestSupport.LoadFor(text, jit);
        var packet = VmTestSupport.Packet(frame ?? Frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(jit ? "jit" : "interpreter", program.EngineName(vm.Options.UseJit));
        return vm.Run(program, ref packet);
    }

    [Theory]
    [MemberData(nameof(Loads))]
    public void EachWidthAndFormLoadsTheBigEndianBytesOrEndsTheProgramWithZero(bool jit, int size, int @case)
    {
        var (form, r7, imm, effective) = Cases[@case];
        int offset = effective[size == 4 ? 2 : size - 1];
        string load = form == "abs" ? $"ldabs{Suffix(size)} {imm}" : $"ldind{Suffix(size)} %r7, {imm}";
        string text = $"""
            mov %r6, %r1
            lddw %r7, {r7}
            mov %r0, 0x55
            {load}
            lddw %r1, {Continued}
            add %r0, %r1
            exit
            """;
        ulong expected = offset == Outside ? 0 : Continued + size switch
        {
            1 => Frame[offset],
            2 => BinaryPrimitives.ReadUInt16BigEndian(Frame.AsSpan(offset)),
            _ => BinaryPrimitives.ReadUInt32BigEndian(Frame.AsSpan(offset)),
        };
        var r = Run(text, jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(expected, r.R0);
        var other = Run(text, !jit);
        Assert.Equal((other.R0, other.Fault), (r.R0, r.Fault));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void R6NotTheContextFaultsAtTheLoad(bool jit)
    {
        foreach (string r6 in new[] { "mov %r6, 0", "mov %r6, %r10", $"lddw %r6, {VirtualAddress.RegionBase(VirtualAddress.ContextRegion) + 4}" })
        {
            var r = Run($"{r6}\nmov %r7, 1\nldindh %r7, 2\nexit", jit);
            Assert.Equal(BpfFault.HelperMisuse, r.Fault);
            Assert.Equal(r6.StartsWith("lddw", StringComparison.Ordinal) ? 3 : 2, r.FaultInstruction);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheContextsAddressInAMemoryRunIsNoContext(bool jit)
    {
        // A memory run has no __sk_buff: r6 holding the context region's address is no context there.
        var program = VmTestSupport.LoadFor($"lddw %r6, {VirtualAddress.RegionBase(VirtualAddress.ContextRegion)}\nldabsb 0\nexit", jit);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.RunWithMemory(program, (byte[])Frame.Clone());
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
        Assert.Equal(2, r.FaultInstruction);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LoadsFollowThePacketAfterAHelperMovesIt(bool jit)
    {
        // bpf_skb_change_head(ctx, 8, 0): 8 bytes in front, so the frame's bytes 0..3 are at 8..11 afterwards, and
        // the packet is 72 bytes (offset 70 inside, 72 not).
        string text = """
            mov %r6, %r1
            mov %r2, 8
            mov %r3, 0
            call 43
            jne %r0, 0, fail
            ldabsw 8
            mov %r7, %r0
            ldabsh 70
            lsh %r0, 32
            or %r7, %r0
            ldabsb 72
            mov %r0, %r7
            exit
            fail:
            mov %r0, 1
            exit
            """;
        var r = Run(text.Replace("ldabsb 72", "ldabsb 71"), jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal((ulong)BinaryPrimitives.ReadUInt16BigEndian(Frame.AsSpan(62)) << 32 | BinaryPrimitives.ReadUInt32BigEndian(Frame), r.R0);
        var past = Run(text, jit);
        Assert.Equal(BpfFault.None, past.Fault);
        Assert.Equal(0UL, past.R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALoadWhileANarrowContextStoreIsPendingReadsThePacket(bool jit)
    {
        // The 4-byte store to tc_index (a 16-bit field) leaves the context region at length 0 until it settles:
        // the compiled load goes to the VM then.
        var r = Run("mov %r6, %r1\nstw [%r1+44], 0x12345\nldabsh 20\nldxw %r1, [%r6+44]\nlsh %r1, 16\nor %r0, %r1\nexit", jit);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0x2345UL << 16 | BinaryPrimitives.ReadUInt16BigEndian(Frame.AsSpan(20)), r.R0);
    }

    [Fact]
    public void TheJitCompilesProgramsWithLegacyLoads()
    {
        var program = VmTestSupport.Load("mov %r6, %r1\nldabsh 12\nldindw %r6, 0\nexit");
        Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        Assert.Null(program.JitUnavailableReason);
    }
}
