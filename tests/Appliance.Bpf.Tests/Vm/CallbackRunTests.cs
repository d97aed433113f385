using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>bpf_loop and bpf_for_each_map_elem on both engines (the interpreter's callback driver, the JIT's
/// compiled loops; each run asserts which engine ran it): the callback runs in its own frame as often as the kernel's
/// helpers call it, the helper returns the number of calls, and bad arguments get the kernel's errors. The engines
/// are compared on the edge cases in CallbackJitTests.</summary>
public sealed class CallbackRunTests
{
    private static BpfRunResult Run(bool jit, string assembly, params BpfMap[] maps)
    {
        var program = VmTestSupport.LoadFor(assembly, jit, maps);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(jit ? "jit" : "interpreter", program.EngineName(vm.Options.UseJit));
        return vm.Run(program, ref packet);
    }

    private const string SumLoop = """
        stdw [%r10-8], 0
        mov %r1, {0}
        lddw %r2, func cb
        mov %r3, %r10
        add %r3, -8
        mov %r4, {1}
        call 181
        stxdw [%r10-16], %r0
        ldxdw %r0, [%r10-8]
        lsh %r0, 32
        ldxdw %r1, [%r10-16]
        or %r0, %r1
        exit
        cb:
        stdw [%r10-8], 7
        ldxdw %r0, [%r2+0]
        add %r0, %r1
        stxdw [%r2+0], %r0
        mov %r0, 0
        jne %r1, {2}, +1
        mov %r0, 1
        exit
        """;

    private static ulong RunLoop(bool jit, long count, long flags = 0, long stopAt = -1) =>
        Run(jit, string.Format(SumLoop, count, flags, stopAt)).R0;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BpfLoopCallsTheCallbackWithEachIndexAndReturnsTheCallCount(bool jit)
    {
        Assert.Equal((10UL << 32) | 5, RunLoop(jit, 5));            // 0+1+2+3+4, 5 calls
        Assert.Equal((6UL << 32) | 4, RunLoop(jit, 10, stopAt: 3)); // stops after index 3 returned 1
        Assert.Equal(0UL, RunLoop(jit, 0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BpfLoopRefusesFlagsAndMoreThanTheKernelsLimit(bool jit)
    {
        Assert.Equal(unchecked((ulong)(uint)-22), RunLoop(jit, 5, flags: 1) & 0xffffffff);
        Assert.Equal(unchecked((ulong)(uint)-7), RunLoop(jit, BpfVm.MaxLoops + 1) & 0xffffffff);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACallbackReturningMoreThanOneFaultsTheRun(bool jit)
    {
        var r = Run(jit, "stdw [%r10-8], 5\nmov %r1, 1\nlddw %r2, func cb\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\ncall 181\nexit\ncb:\nldxdw %r0, [%r2+0]\nexit");
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForEachVisitsEveryHashElementOnceEvenWhenTheCallbackDeletesThem(bool jit)
    {
        var map = new HashMap(new BpfMapDefinition("h", BpfMapType.Hash, 4, 8, 16));
        for (uint k = 1; k <= 6; k++) Assert.Equal(0, map.Update(BitConverter.GetBytes(k), BitConverter.GetBytes((ulong)k * 10), 0));
        // The callback adds each value to ctx and deletes the element; the program returns calls << 32 | sum.
        var r = Run(jit, Jit.CallbackJitTests.SumMapText("stdw [%r3+0], 0\nlddw %r1, map[0]\ncall 3"), map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal((6UL << 32) | 210, r.R0);
        Assert.False(map.TryGetNextKey([], new byte[4]));
    }

    /// <summary>A walk takes the keys there are, not room for the map's capacity: walking a hash with room for 2^20
    /// 64-byte keys (64 MiB of keys) that holds 3 allocates far less than that (it allocated the 64 MiB before).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AWalkOfABigNearlyEmptyHashTakesRoomForItsKeysOnly(bool jit)
    {
        var map = new HashMap(new BpfMapDefinition("h", BpfMapType.Hash, 64, 8, 1 << 20));
        for (uint k = 1; k <= 3; k++)
        {
            var key = new byte[64];
            BitConverter.GetBytes(k).CopyTo(key, 0);
            Assert.Equal(0, map.Update(key, BitConverter.GetBytes((ulong)k * 10), 0));
        }
        var program = VmTestSupport.LoadFor(Jit.CallbackJitTests.SumMapText(), jit, map);
        var packet = VmTestSupport.Packet(new byte[64]);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        long before = GC.GetAllocatedBytesForCurrentThread();
        var r = vm.Run(program, ref packet);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal((3UL << 32) | 60, r.R0);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated by a walk of 3 keys");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForEachOnAnArrayHandsOutWritableValuesAndAReadOnlyKey(bool jit)
    {
        var map = new ArrayMap(new BpfMapDefinition("a", BpfMapType.Array, 4, 4, 3));
        // Each value becomes its key * 3; then the callback tries to write the key, which faults.
        var ok = Run(jit, "lddw %r1, map[0]\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\ncb:\nldxw %r0, [%r2+0]\nmul %r0, 3\nstxw [%r3+0], %r0\nmov %r0, 0\nexit", map);
        Assert.Equal(3UL, ok.R0);
        for (uint k = 0; k < 3; k++)
        {
            Assert.True(map.TryLookup(BitConverter.GetBytes(k), out var v));
            Assert.Equal(k * 3, BitConverter.ToUInt32(v));
        }
        var bad = Run(jit, "lddw %r1, map[0]\nlddw %r2, func cb\nmov %r3, 0\nmov %r4, 0\ncall 164\nexit\ncb:\nstw [%r2+0], 1\nmov %r0, 0\nexit", map);
        Assert.Equal(BpfFault.ReadOnlyWrite, bad.Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CallxNamesTheCallbackHelpersToo(bool jit)
    {
        // The helper's id in a register: bpf_loop, then bpf_for_each_map_elem; another value is any helper's call.
        Assert.Equal((3UL << 32) | 3, Run(jit, string.Format(SumLoop, 3, 0, -1).Replace("call 181", "mov %r5, 181\ncall %r5")).R0);
        var map = new ArrayMap(new BpfMapDefinition("a", BpfMapType.Array, 4, 8, 3));
        Assert.Equal(3UL << 32, Run(jit, Jit.CallbackJitTests.SumMapText().Replace("call 164", "lddw %r5, 164\ncall %r5"), map).R0);
        var other = Run(jit, string.Format(SumLoop, 3, 0, -1).Replace("call 181", "lddw %r5, 0x100000000b5\ncall %r5"));
        Assert.Equal(BpfFault.UnknownHelper, other.Fault);
    }

    /// <summary>A walk over 1024-byte keys whose callback walks 4096-byte keys (taking more snapshot room than the outer
    /// walk left, so the snapshot grows under the outer one): every callback reads its own key's first and last byte,
    /// the outer one after the inner walk returned. r0 = outer calls &lt;&lt; 32 | the sum of what they read.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NestedWalksHandOutKeysLargerThanTheStack(bool jit)
    {
        var outer = new HashMap(new BpfMapDefinition("outer", BpfMapType.Hash, 1024, 8, 4));
        var inner = new HashMap(new BpfMapDefinition("inner", BpfMapType.Hash, 4096, 8, 8));
        ulong expected = 0;
        for (int n = 1; n <= 3; n++)
        {
            var key = new byte[1024];
            key[0] = (byte)n;
            key[^1] = (byte)(10 * n);
            Assert.Equal(0, outer.Update(key, new byte[8], 0));
            expected += (ulong)n + (ulong)(10 * n << 8);
        }
        ulong innerSum = 0;
        for (int n = 1; n <= 4; n++)
        {
            var key = new byte[4096];
            key[0] = (byte)(n + 100);
            key[^1] = (byte)n;
            Assert.Equal(0, inner.Update(key, new byte[8], 0));
            innerSum += (ulong)(n + 100) + (ulong)(n << 16);
        }
        expected += 3 * innerSum;
        var r = Run(jit, """
            stdw [%r10-8], 0
            lddw %r1, map[0]
            lddw %r2, func outer_cb
            mov %r3, %r10
            add %r3, -8
            mov %r4, 0
            call 164
            lsh %r0, 32
            ldxdw %r1, [%r10-8]
            or %r0, %r1
            exit
            outer_cb:
            mov %r6, %r2
            mov %r7, %r4
            lddw %r1, map[1]
            lddw %r2, func inner_cb
            mov %r3, %r7
            mov %r4, 0
            call 164
            ldxdw %r1, [%r7+0]
            ldxb %r2, [%r6+0]
            add %r1, %r2
            ldxb %r2, [%r6+1023]
            lsh %r2, 8
            add %r1, %r2
            stxdw [%r7+0], %r1
            mov %r0, 0
            exit
            inner_cb:
            ldxdw %r1, [%r4+0]
            ldxb %r0, [%r2+0]
            add %r1, %r0
            ldxb %r0, [%r2+4095]
            lsh %r0, 16
            add %r1, %r0
            stxdw [%r4+0], %r1
            mov %r0, 0
            exit
            """, outer, inner);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(3UL << 32 | expected, r.R0);
    }
}
