using System.Text;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Helpers;

/// <summary>The error returns and load-time refusals of bpf_map_lookup_percpu_elem (195), bpf_strncmp (182),
/// bpf_snprintf (165), bpf_ringbuf_query (134) and bpf_ktime_get_tai_ns (208), on both engines (the kernel
/// comparison of their results is test:newer_helpers in the differential tests).</summary>
public sealed class NewerHelperTests
{
    public static TheoryData<bool> Engines => [false, true];

    private static BpfMap Rodata(string text) => BpfMap.Create(new BpfMapDefinition(".rodata", BpfMapType.Array, 4, text.Length, 1, 0x80)
    {
        Frozen = true,
        InitialValue = Encoding.ASCII.GetBytes(text),
    });

    private static BpfRunResult Run(string assembly, bool jit, byte[]? frame = null, params BpfMap[] maps)
    {
        var program = VmTestSupport.LoadFor(assembly, jit, maps);
        var packet = VmTestSupport.Packet(frame ?? new byte[64]);
        var result = VmTestSupport.Run(program, ref packet, new BpfVmOptions { UseJit = jit });
        Assert.Equal(BpfFault.None, result.Fault);
        return result;
    }

    private static string Refusal(string assembly, params BpfMap[] maps) =>
        Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load(assembly, maps)).Message;

    /// <summary>strncmp(stack string of <paramref name="s1"/> (8 bytes, zero-padded), <paramref name="size"/>, rodata+off).</summary>
    private static string Strncmp(string s1, int size, string s2 = "map_value[0]+0") => $"""
        lddw %r1, 0x{BitConverter.ToUInt64(Encoding.Latin1.GetBytes(s1.PadRight(8, '\0'))):x}
        stxdw [%r10-8], %r1
        mov %r1, %r10
        add %r1, -8
        mov %r2, {size}
        {(s2.StartsWith("map", StringComparison.Ordinal) ? $"lddw %r3, {s2}" : s2)}
        call 182
        exit
        """;

    [Theory]
    [MemberData(nameof(Engines))]
    public void StrncmpComparesUnsignedBytesUpToTheSizeOrTheNul(bool jit)
    {
        var rodata = Rodata("xx\0tenant\0");
        long Compare(string s1, int size) => (long)Run(Strncmp(s1, size, "map_value[0]+3"), jit, null, rodata).R0;
        Assert.Equal(0, Compare("tenant", 8));
        Assert.Equal(-1, Compare("tenan", 8));      // NUL < 't'
        Assert.Equal(1, Compare("tenantX", 8));     // 'X' > NUL
        Assert.Equal(0, Compare("tenantX", 6));     // only six bytes compared
        Assert.Equal(-1, Compare("tenaaa", 8));
        Assert.Equal(1, Compare("ten\u00f0", 8));   // 0xf0 > 'a': unsigned, as the kernel
    }

    [Fact]
    public void StrncmpNeedsAConstantNulTerminatedStringInAReadOnlyMap()
    {
        Assert.Contains("r3 is not a constant address in a map value", Refusal(Strncmp("a", 8, "mov %r3, %r10\nadd %r3, -8")));
        var data = BpfMap.Create(new BpfMapDefinition(".data", BpfMapType.Array, 4, 8, 1) { InitialValue = new byte[8] });
        Assert.Contains("r3 does not point to a read-only map", Refusal(Strncmp("a", 8), data));
        Assert.Contains("the string at r3 is not zero-terminated", Refusal(Strncmp("a", 8, "map_value[0]+3"), Rodata("ab\0cd")));
        Assert.Contains("outside it", Refusal(Strncmp("a", 8, "map_value[0]+5"), Rodata("ab\0cd")));
        Assert.Contains("the size r2 is 0", Refusal(Strncmp("a", 0), Rodata("ab\0")));
    }

    [Fact]
    public void AStringArgumentIsCheckedInCallbacksToo()
    {
        // strncmp with a stack string as its constant, inside a bpf_loop callback: the kernel refuses it, and so do we.
        string program = """
            mov %r1, 1
            lddw %r2, func cb
            mov %r3, 0
            mov %r4, 0
            call 181
            exit
            cb:
            stdw [%r10-8], 0
            mov %r1, %r10
            add %r1, -8
            mov %r2, 8
            mov %r3, %r10
            add %r3, -8
            call 182
            mov %r0, 0
            exit
            """;
        Assert.Contains("r3 is not a constant address in a map value", Refusal(program));
    }

    /// <summary>main compares the stack strings "tenant" and "tenanz" with r3 = <paramref name="first"/>, then
    /// <paramref name="second"/>, through a static function calling strncmp: r0 = first result &lt;&lt; 8 | second (each &amp; 0xff).</summary>
    private static string CompareThrough(string first, string second) => $"""
        lddw %r1, 0x{BitConverter.ToUInt64(Encoding.Latin1.GetBytes("tenant\0\0")):x}
        stxdw [%r10-8], %r1
        mov %r1, %r10
        add %r1, -8
        {first}
        call local compare
        mov %r6, %r0
        lddw %r1, 0x{BitConverter.ToUInt64(Encoding.Latin1.GetBytes("tenanz\0\0")):x}
        stxdw [%r10-8], %r1
        mov %r1, %r10
        add %r1, -8
        {second}
        call local compare
        lsh %r6, 8
        or %r0, %r6
        exit
        compare:
        mov %r2, 8
        call 182
        and %r0, 0xff
        exit
        """;

    [Theory]
    [MemberData(nameof(Engines))]
    public void AConstantStringMayBePassedToAStaticFunction(bool jit)
    {
        // What every call passes in r1-r5 holds in the function, as the kernel sees it: .rodata+3 is a constant string.
        var rodata = Rodata("xx\0tenant\0");
        var r = Run(CompareThrough("lddw %r3, map_value[0]+3", "lddw %r3, map_value[0]+3"), jit, null, rodata);
        Assert.Equal(0x00_01UL, r.R0); // "tenant" = "tenant" (0), then 'z' > 't' (1)
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void AStaticFunctionMayBeHandedADifferentConstantStringAtEachCall(bool jit)
    {
        // The kernel verifies the function at each call with that call's string; here it sees both and judges each.
        var rodata = Rodata("xx\0tenant\0");
        var r = Run(CompareThrough("lddw %r3, map_value[0]+3", "lddw %r3, map_value[0]+0"), jit, null, rodata);
        Assert.Equal(0x00_ffUL, r.R0); // "tenant" = "tenant" (0), then 't' < 'x' (-1)
        // Each must be a constant string: one without its NUL refuses the program.
        Assert.Contains("the string at r3 is not zero-terminated",
            Refusal(CompareThrough("lddw %r3, map_value[0]+0", "lddw %r3, map_value[0]+7"), Rodata("tenant\0ab")));
    }

    [Fact]
    public void AStaticFunctionCalledWithAStackStringAnywhereIsRefused()
    {
        Assert.Contains("r3 is not a constant address in a map value",
            Refusal(CompareThrough("lddw %r3, map_value[0]+3", "mov %r3, %r10\nadd %r3, -16"), Rodata("xx\0tenant\0")));
    }

    /// <summary>snprintf(fp-64 (<paramref name="size"/> bytes, pre-filled with 'Z'), rodata, r4 (fp-128: 42, -7, 255),
    /// r5) with r5 set by <paramref name="length"/>; r0 = the helper's return, or with <paramref name="output"/> the
    /// first eight bytes of the buffer.</summary>
    private static string Snprintf(int size, string length, string args = "mov %r4, %r10\nadd %r4, -128", bool output = false) => $"""
        stdw [%r10-128], 42
        stdw [%r10-120], -7
        stdw [%r10-112], 255
        lddw %r1, 0x5a5a5a5a5a5a5a5a
        stxdw [%r10-64], %r1
        mov %r1, %r10
        add %r1, -64
        mov %r2, {size}
        lddw %r3, map_value[0]+0
        {args}
        {length}
        call 165
        {(output ? "ldxdw %r0, [%r10-64]" : "")}
        exit
        """;

    private static string Text(ulong word) => Encoding.ASCII.GetString(BitConverter.GetBytes(word));

    [Theory]
    [MemberData(nameof(Engines))]
    public void SnprintfWritesATruncatedNulTerminatedStringAndReturnsTheWholeLengthPlusOne(bool jit)
    {
        var fmt = Rodata("%d|%-4u|%05x\0");
        const string expected = "42|4294967289|000ff"; // -7 as %u is its low 32 bits
        Assert.Equal((ulong)expected.Length + 1, Run(Snprintf(64, "mov %r5, 24"), jit, null, fmt).R0);
        Assert.Equal("42|42949", Text(Run(Snprintf(64, "mov %r5, 24", output: true), jit, null, fmt).R0));
        // Six bytes: five characters and the NUL; the length is still the whole text's.
        Assert.Equal((ulong)expected.Length + 1, Run(Snprintf(6, "mov %r5, 24"), jit, null, fmt).R0);
        Assert.Equal("42|42\0ZZ", Text(Run(Snprintf(6, "mov %r5, 24", output: true), jit, null, fmt).R0));
        // No buffer at all (NULL, 0): only the length.
        Assert.Equal((ulong)expected.Length + 1, Run(Snprintf(0, "mov %r5, 24", "mov %r4, %r10\nadd %r4, -128\nmov %r1, 0"), jit, null, fmt).R0);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void SnprintfWithHugeWidthsCountsThePaddingItCannotWriteAndAllocatesNothing(bool jit)
    {
        // Three conversions at the kernel's widest field (2^23 - 1) into eight bytes: the return is the whole length,
        // the buffer holds what fits; the padding that does not fit is counted, never produced.
        var fmt = Rodata("%8388607d%-8388607u%08388607x\0");
        var program = VmTestSupport.LoadFor(Snprintf(8, "mov %r5, 24", output: true), jit, fmt);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var first = vm.Run(program, ref packet);
        Assert.Equal(BpfFault.None, first.Fault);
        Assert.Equal("       \0", Text(first.R0));
        var length = VmTestSupport.Run(VmTestSupport.LoadFor(Snprintf(8, "mov %r5, 24"), jit, fmt), ref packet, new BpfVmOptions { UseJit = jit });
        Assert.Equal(3UL * 8388607 + 1, length.R0);

        for (int i = 0; i < 100; i++) vm.Run(program, ref packet); // warm up (tiering, the JIT's first calls)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) vm.Run(program, ref packet);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TracePrintkRunsOutOfItsArgumentBufferBeforeItMeetsALaterBadConversion()
    {
        // "%s%d%q": a string of 600 bytes fills the kernel's 512-byte argument buffer, so the %d after it has no room
        // (-ENOSPC) before the loop reaches the bad %q; a short string leaves room, and %q is -EINVAL.
        const string program = """
            lddw %r2, 0x0000712564257325
            stxdw [%r10-8], %r2
            ldxw %r3, [%r1+76]
            mov %r1, %r10
            add %r1, -8
            mov %r2, 8
            call 6
            exit
            """;
        long Printk(int frameLength)
        {
            var frame = new byte[frameLength];
            Array.Fill(frame, (byte)'a');
            return (long)VmTestSupport.Run(program, frame).R0;
        }
        Assert.Equal(-28, Printk(600));
        Assert.Equal(-22, Printk(100));
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void SnprintfArgumentErrorsAreEinvalAtRunTime(bool jit)
    {
        var fmt = Rodata("%d %d\0");
        // r5 = the frame's length (skb->len), unknown at load: the kernel then checks only its known bits.
        string fromFrame = "ldxw %r5, [%r6+0]";
        ulong Returned(int frameLength, string args = "mov %r4, %r10\nadd %r4, -128") =>
            Run("mov %r6, %r1\n" + Snprintf(64, fromFrame, args), jit, new byte[frameLength], fmt).R0;
        ulong einval = unchecked((ulong)-Errno.EINVAL);
        Assert.Equal(6UL, Returned(16));                                   // "42 -7" and the NUL
        Assert.Equal(6UL, Returned(24));                                   // more arguments than conversions: fine
        Assert.Equal(einval, Returned(20));                                // not whole u64s
        Assert.Equal(einval, Returned(104));                               // 13 arguments
        Assert.Equal(einval, Returned(8));                                 // fewer arguments than conversions
        Assert.Equal(einval, Returned(16, "mov %r4, 0"));                  // NULL array with a length
    }

    [Fact]
    public void SnprintfFormatsTheKernelRefusesAreRefusedAtLoad()
    {
        string Refused(string fmt, string length = "mov %r5, 24") => Refusal(Snprintf(64, length), Rodata(fmt + "\0"));
        Assert.Contains("invalid format string \"%d %d %d %d\" for 3 arguments", Refused("%d %d %d %d"));
        Assert.Contains("invalid format string", Refused("%hd"));          // no h, z, # or precision, as the kernel
        Assert.Contains("invalid format string", Refused("%.3d"));
        Assert.Contains("invalid format string", Refused("%sx"));          // %s must end at a space or punctuation
        Assert.Contains("invalid format string", Refused("%pZ"));
        Assert.Contains("invalid format string", Refused("tab\u0001"));   // a control character
        Assert.Contains("is not a multiple of 8", Refused("%d", "mov %r5, 12"));
        VmTestSupport.Load(Snprintf(64, "mov %r5, 32"), Rodata("%-3lld %5s, %pI4 %pKx 100%%\0")); // four conversions, four arguments
    }

    /// <summary>lookup_percpu_elem(map 0, key r10-4 = <paramref name="key"/>, cpu <paramref name="cpu"/>): r0 = the
    /// value's first u32, or 0xdead when NULL.</summary>
    private static string PercpuLookup(uint key, string cpu) => $"""
        stw [%r10-4], {key}
        lddw %r1, map[0]
        mov %r2, %r10
        add %r2, -4
        {cpu}
        call 195
        jne %r0, 0, found
        mov %r0, 0xdead
        exit
        found:
        ldxw %r0, [%r0+0]
        exit
        """;

    [Theory]
    [MemberData(nameof(Engines))]
    public void LookupPercpuElemReadsTheNamedSlotAndIsNullPastTheSlots(bool jit)
    {
        // Two CPU slots holding 5 and 9 for key 1, on each per-CPU map type.
        foreach (var type in new[] { BpfMapType.PercpuArray, BpfMapType.PercpuHash, BpfMapType.LruPercpuHash })
        {
            var map = BpfMap.Create(new BpfMapDefinition("m", type, 4, 4, 4), cpuCount: 2);
            var value = new byte[16];
            value[0] = 5;
            value[8] = 9;
            Assert.Equal(0, map.UpdateFromUser(BitConverter.GetBytes(1u), value, 0));
            Assert.Equal(5UL, Run(PercpuLookup(1, "mov %r3, 0"), jit, null, map).R0);
            Assert.Equal(9UL, Run(PercpuLookup(1, "mov %r3, 1"), jit, null, map).R0);
            Assert.Equal(0xdeadUL, Run(PercpuLookup(1, "mov %r3, 2"), jit, null, map).R0);          // cpu >= slots
            Assert.Equal(0xdeadUL, Run(PercpuLookup(1, "mov32 %r3, -1"), jit, null, map).R0);
            Assert.Equal(5UL, Run(PercpuLookup(1, "lddw %r3, 0x100000000"), jit, null, map).R0);   // the cpu is a u32
            Assert.Equal(0xdeadUL, Run(PercpuLookup(7, "mov %r3, 0"), jit, null, map).R0);         // no such key
        }
        // Any other map is misuse: refused at load where the map is known (as the kernel, MapHelperTests); where it
        // is not (map[1], the array, only when the frame is not empty; else map[0]), the run faults.
        var array = BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 4, 4));
        var perCpu = BpfMap.Create(new BpfMapDefinition("p", BpfMapType.PercpuArray, 4, 4, 4));
        Assert.Throws<BpfVerifierException>(() => VmTestSupport.Load(PercpuLookup(1, "mov %r3, 0"), array));
        var program = VmTestSupport.LoadFor(PercpuLookup(1, "mov %r3, 0").Replace("lddw %r1, map[0]",
            "ldxw %r6, [%r1+0]\nlddw %r1, map[0]\njeq %r6, 0, +2\nlddw %r1, map[1]"), jit, perCpu, array);
        var packet = VmTestSupport.Packet(new byte[64]);
        Assert.Equal(BpfFault.HelperMisuse, VmTestSupport.Run(program, ref packet, new BpfVmOptions { UseJit = jit }).Fault);
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void RingbufQueryReportsThePositionsAndSize(bool jit)
    {
        var ring = BpfMap.Create(new BpfMapDefinition("rb", BpfMapType.RingBuf, 0, 0, 4096));
        string Query(int flags, bool output) => $"""
            {(output ? "stdw [%r10-8], 7\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 5\nmov %r4, 0\ncall 130" : "")}
            lddw %r1, map[0]
            mov %r2, {flags}
            call 134
            exit
            """;
        Assert.Equal(4096UL, Run(Query(1, false), jit, null, ring).R0);
        Assert.Equal(0UL, Run(Query(3, false), jit, null, ring).R0);
        Assert.Equal(16UL, Run(Query(3, true), jit, null, ring).R0);   // 8-byte header + 5 bytes rounded up to 8
        Assert.Equal(32UL, Run(Query(0, true), jit, null, ring).R0);   // nothing consumed: two records pending
        Assert.Equal(0UL, Run(Query(2, false), jit, null, ring).R0);
        Assert.Equal(0UL, Run(Query(99, false), jit, null, ring).R0);  // unknown flags: 0, as the kernel
    }

    [Theory]
    [MemberData(nameof(Engines))]
    public void KtimeGetTaiNsIsTheWallClockPlusTheTaiOffset(bool jit)
    {
        ulong before = (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        ulong tai = Run("call 208\nexit", jit).R0;
        // CLOCK_TAI is CLOCK_REALTIME plus the kernel's TAI offset: 0 until NTP sets it, 37 s since 2017.
        Assert.InRange(tai, before - 1_000_000_000UL, before + 60_000_000_000UL);
    }
}
