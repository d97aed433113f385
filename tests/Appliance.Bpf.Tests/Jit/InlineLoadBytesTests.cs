using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Helpers;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_skb_load_bytes (26), which the JIT does in the code when the copy succeeds (see
/// JitLowering.InlinePacketCopy) and leaves to the helper otherwise: copies of every length class into a map
/// value and the stack, offsets whose upper 32 bits are ignored, ranges past the packet's end (-EFAULT, the
/// destination zeroed), destinations too short, read-only or not memory, a context that is not r1's, a copy
/// inside the packet itself (overlapping), and a pending narrow context store. Each case runs on both engines
/// with the expected result worked out from the frame.</summary>
public sealed class InlineLoadBytesTests
{
    private const int ValueSize = 64;
    private const byte Fill = 0xAA;

    private static readonly byte[] Frame = Enumerable.Range(0, 64).Select(i => (byte)(i * 7 + 3)).ToArray();

    private static ArrayMap Values(bool readOnly = false)
    {
        var map = (ArrayMap)BpfMap.Create(new BpfMapDefinition("values", BpfMapType.Array, 4, ValueSize, 1, readOnly ? BpfMapFlags.ReadOnlyProg : 0));
        Assert.Equal(0, map.UpdateFromUser(new byte[4], Enumerable.Repeat(Fill, ValueSize).ToArray(), 0));
        return map;
    }

    private static byte[] Value(BpfMap map)
    {
        var value = new byte[ValueSize];
        Assert.True(map.TryLookupFromUser(new byte[4], value));
        return value;
    }

    /// <summary>Copies packet bytes [<paramref name="offset"/>, +<paramref name="length"/>) into the map value at
    /// <paramref name="at"/>; r0 = the helper's result (0x99 when the lookup found nothing). <paramref name="unknown"/>:
    /// the length and the destination pass through an <c>or</c>, after which the verifier knows neither (it refuses a
    /// constant length the kernel refuses, and a read-only destination it places), so the run's checks meet them.</summary>
    private static string IntoValue(string offset, long length, int at, bool unknown = false) => $"""
        mov %r6, %r1
        stw [%r10-4], 0
        lddw %r1, map[0]
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, none
        mov %r3, %r0
        add %r3, {at}
        mov %r1, %r6
        {offset}
        lddw %r4, {length}
        {(unknown ? "or %r4, 0\n    or %r3, 0" : "")}
        call 26
        exit
        none:
        mov %r0, 0x99
        exit
        """;

    private static (BpfRunResult Run, byte[] Frame) Run(string text, bool jit, BpfMap map)
    {
        var program = VmTestSupport.Load(text, map);
        if (jit) Assert.True(program.IsJitCompiled, program.JitUnavailableReason);
        var packet = VmTestSupport.Packet(Frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(program, ref packet);
        return (r, packet.Data.ToArray());
    }

    [Theory]
    [InlineData(false, 0, 1, 0)]
    [InlineData(true, 0, 1, 0)]
    [InlineData(false, 3, 7, 1)]
    [InlineData(true, 3, 7, 1)]
    [InlineData(false, 14, 8, 0)]
    [InlineData(true, 14, 8, 0)]
    [InlineData(false, 5, 13, 51)]
    [InlineData(true, 5, 13, 51)]
    [InlineData(false, 0, 64, 0)]
    [InlineData(true, 0, 64, 0)]
    [InlineData(false, 60, 4, 60)]
    [InlineData(true, 60, 4, 60)]
    public void BytesInsideThePacketAreCopiedAndNothingElseChanges(bool jit, int offset, int length, int at)
    {
        var map = Values();
        var (r, frame) = Run(IntoValue($"mov %r2, {offset}", length, at), jit, map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        var expected = Enumerable.Repeat(Fill, ValueSize).ToArray();
        Frame.AsSpan(offset, length).CopyTo(expected.AsSpan(at));
        Assert.Equal(expected, Value(map));
        Assert.Equal(Frame, frame);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnlyTheLow32BitsOfTheOffsetAndLengthCount(bool jit)
    {
        var map = Values();
        var (r, _) = Run(IntoValue("lddw %r2, 0x700000002", 0x500000006, 0, unknown: true), jit, map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(Frame.AsSpan(2, 6).ToArray(), Value(map)[..6]);
        Assert.Equal(Fill, Value(map)[6]);
    }

    [Theory]
    [InlineData(false, "mov %r2, 60", 8)]
    [InlineData(true, "mov %r2, 60", 8)]
    [InlineData(false, "mov %r2, 1", 64)]
    [InlineData(true, "mov %r2, 1", 64)]
    [InlineData(false, "lddw %r2, 0xFFFFFFFF", 1)]
    [InlineData(true, "lddw %r2, 0xFFFFFFFF", 1)]
    public void ARangePastThePacketsEndFailsAndZeroesTheDestination(bool jit, string offset, int length)
    {
        var map = Values();
        var (r, _) = Run(IntoValue(offset, length, 0), jit, map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(unchecked((ulong)-14L), r.R0); // -EFAULT
        var expected = Enumerable.Repeat(Fill, ValueSize).ToArray();
        Array.Clear(expected, 0, length);
        Assert.Equal(expected, Value(map));
    }

    /// <summary>A constant length into r10 + a constant (the JIT copies unrolled, without the region check): the
    /// bytes land exactly there in a frame area filled with 0xFF, which bpf_skb_store_bytes then writes back to the
    /// packet's last 24 bytes for the comparison.</summary>
    [Theory]
    [InlineData(false, 0, 1, 24)]
    [InlineData(true, 0, 1, 24)]
    [InlineData(false, 5, 3, 9)]
    [InlineData(true, 5, 3, 9)]
    [InlineData(false, 12, 8, 16)]
    [InlineData(true, 12, 8, 16)]
    [InlineData(false, 7, 13, 20)]
    [InlineData(true, 7, 13, 20)]
    [InlineData(false, 30, 24, 24)]
    [InlineData(true, 30, 24, 24)]
    [InlineData(false, 50, 16, 16)] // past the packet's end: -EFAULT, the frame area zeroed there, nothing written back
    [InlineData(true, 50, 16, 16)]
    public void AConstantLengthIntoTheFrameLandsExactlyThere(bool jit, int offset, int length, int below)
    {
        var (r, frame) = Run($"""
            mov %r6, %r1
            stdw [%r10-8], -1
            stdw [%r10-16], -1
            stdw [%r10-24], -1
            mov %r2, {offset}
            mov %r3, %r10
            add %r3, -{below}
            mov %r4, {length}
            call 26
            jne %r0, 0, out
            mov %r1, %r6
            mov %r2, 40
            mov %r3, %r10
            add %r3, -24
            mov %r4, 24
            mov %r5, 0
            call 9
            out:
            exit
            """, jit, Values());
        var expected = Frame.ToArray();
        if (offset + length > Frame.Length)
        {
            Assert.Equal(unchecked((ulong)-14L), r.R0); // -EFAULT
            Assert.Equal(Frame, frame);
            return;
        }
        Assert.Equal(0UL, r.R0);
        var area = Enumerable.Repeat((byte)0xFF, 24).ToArray();
        Frame.AsSpan(offset, length).CopyTo(area.AsSpan(24 - below));
        area.CopyTo(expected, 40);
        Assert.Equal(expected, frame);
    }

    /// <summary>The length is a constant on one path only: the call is a jump target, so the code must take r4 as it
    /// comes (16 bytes on the taken branch), not as the instruction just before the target left it (2).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALengthSetOnlyOnOnePathIsTakenAsItComes(bool jit)
    {
        var (r, _) = Run("""
            mov %r6, %r1
            stdw [%r10-8], -1
            stdw [%r10-16], -1
            ldxw %r7, [%r6+0]
            mov %r4, 16
            jgt %r7, 10, copy
            mov %r4, 2
            copy:
            mov %r2, 0
            mov %r3, %r10
            add %r3, -16
            call 26
            jne %r0, 0, out
            ldxdw %r0, [%r10-8]
            out:
            exit
            """, jit, Values());
        Assert.Equal(BitConverter.ToUInt64(Frame, 8), r.R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALengthOfZeroCopiesNothing(bool jit)
    {
        var map = Values();
        var (r, _) = Run(IntoValue("mov %r2, 10", 0, 0, unknown: true), jit, map);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        Assert.Equal(Enumerable.Repeat(Fill, ValueSize).ToArray(), Value(map));
    }

    [Theory]
    [InlineData(false, -1L, BpfFault.HelperMisuse)]
    [InlineData(true, -1L, BpfFault.HelperMisuse)]
    [InlineData(false, 0x80000000L, BpfFault.HelperMisuse)]
    [InlineData(true, 0x80000000L, BpfFault.HelperMisuse)]
    [InlineData(false, 0x7FFFFFFFL, BpfFault.OutOfBounds)]
    [InlineData(true, 0x7FFFFFFFL, BpfFault.OutOfBounds)]
    public void ANegativeOrHugeLengthFaultsAndWritesNothing(bool jit, long length, BpfFault fault)
    {
        var map = Values();
        var (r, frame) = Run(IntoValue("mov %r2, 0", length, 0, unknown: true), jit, map);
        Assert.Equal(fault, r.Fault);
        Assert.Equal(Enumerable.Repeat(Fill, ValueSize).ToArray(), Value(map));
        Assert.Equal(Frame, frame);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheContextAsTheDestinationFaults(bool jit)
    {
        // r3 = the __sk_buff itself: read-only memory to a helper.
        var (r, _) = Run("""
            mov %r2, 0
            mov %r3, %r1
            mov %r4, 16
            call 26
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ATailCallTargetCopiesFromThePacketItsCallerMoved(bool jit)
    {
        // The caller pushes 4 bytes (bpf_skb_change_head: the packet moves) and tail-calls a program whose copy of
        // packet bytes [0, 8) must see the moved packet: 4 zero bytes, then the frame's first 4.
        var jmp = new TestProgArray();
        jmp.Slots[0] = 0;
        var target = VmTestSupport.Load("""
            mov %r2, 0
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            call 26
            jne %r0, 0, out
            ldxdw %r0, [%r10-8]
            out:
            exit
            """);
        var caller = VmTestSupport.Load("""
            mov %r6, %r1
            mov %r2, 4
            mov %r3, 0
            call 43
            jne %r0, 0, out
            mov %r1, %r6
            lddw %r2, map[0]
            mov %r3, 0
            call 12
            out:
            mov %r0, 0x99
            exit
            """, jmp);
        caller.TailCallTargets = [target];
        if (jit) Assert.True(target.IsJitCompiled && caller.IsJitCompiled, target.JitUnavailableReason ?? caller.JitUnavailableReason);
        var packet = VmTestSupport.Packet(Frame);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = vm.Run(caller, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(BitConverter.ToUInt64([0, 0, 0, 0, .. Frame.AsSpan(0, 4)]), r.R0);
        Assert.Equal(jit ? "jit" : "interpreter", target.EngineName(vm.Options.UseJit));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADestinationRunningPastItsRegionFaults(bool jit)
    {
        var map = Values();
        var (r, _) = Run(IntoValue("mov %r2, 0", 8, 60), jit, map);
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
        Assert.Equal(Enumerable.Repeat(Fill, ValueSize).ToArray(), Value(map));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadOnlyDestinationFaults(bool jit)
    {
        var map = Values(readOnly: true);
        var (r, _) = Run(IntoValue("mov %r2, 0", 8, 0, unknown: true), jit, map);
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
        Assert.Equal(Enumerable.Repeat(Fill, ValueSize).ToArray(), Value(map));
    }

    [Theory]
    [InlineData(false, "mov %r3, 0")]
    [InlineData(true, "mov %r3, 0")]
    [InlineData(false, "lddw %r3, map[0]")]
    [InlineData(true, "lddw %r3, map[0]")]
    public void ADestinationThatIsNoMemoryFaults(bool jit, string destination)
    {
        var (r, _) = Run($"""
            mov %r2, 0
            {destination}
            or %r3, 0
            mov %r4, 4
            call 26
            exit
            """, jit, Values());
        Assert.True(r.Faulted);
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AContextOtherThanTheRunsIsMisuse(bool jit)
    {
        var (r, _) = Run("""
            mov %r1, %r10
            mov %r2, 0
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            call 26
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.HelperMisuse, r.Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BytesCopiedToTheStackReadBack(bool jit)
    {
        var (r, _) = Run("""
            mov %r2, 9
            mov %r3, %r10
            add %r3, -16
            mov %r4, 11
            call 26
            jne %r0, 0, out
            ldxdw %r0, [%r10-16]
            ldxb %r1, [%r10-6]
            xor %r0, %r1
            out:
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(BitConverter.ToUInt64(Frame, 9) ^ Frame[19], r.R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACopyInsideThePacketMovesTheBytesAsMemmoveDoes(bool jit)
    {
        // Source [0, 12) and destination [4, 16) overlap: the destination gets the source as it was.
        var (r, frame) = Run("""
            ldxw %r3, [%r1+76]
            add %r3, 4
            mov %r2, 0
            mov %r4, 12
            call 26
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0UL, r.R0);
        var expected = (byte[])Frame.Clone();
        Array.Copy(Frame, 0, expected, 4, 12);
        Assert.Equal(expected, frame);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ACopyWhileANarrowContextStoreIsPendingKeepsTheStore(bool jit)
    {
        // A 4-byte store to tc_index (offset 44) keeps the low 16 bits; the copy between the store and the load
        // must not change that.
        var (r, _) = Run("""
            mov %r6, %r1
            mov %r7, 0x12345
            stxw [%r6+44], %r7
            mov %r1, %r6
            mov %r2, 2
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            call 26
            jne %r0, 0, out
            ldxdw %r0, [%r10-8]
            ldxw %r1, [%r6+44]
            xor %r0, %r1
            out:
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(BitConverter.ToUInt64(Frame, 2) ^ 0x2345UL, r.R0);
    }

    /// <summary>The JIT reads what straight-line code set a length, a buffer or a key to by following its moves and
    /// adds back; a chain of 30,000 `add r, 0` in front of a map lookup's key and of bpf_skb_load_bytes' length (a
    /// verifier-valid program) once overflowed the compiling thread's stack (a recursion per link) and took the
    /// process down while it loaded the program. Now it compiles, the lookup and the copy work on both engines, and
    /// a value set further back than the JIT looks (JitLowering.KnownValueReach) keeps its run-time checks.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALongChainOfAddsInFrontOfAHelperCompilesAndRuns(bool jit)
    {
        const int Links = 30_000;
        string chain(string register) => string.Concat(Enumerable.Repeat($"add %{register}, 0\n", Links));
        var (r, _) = Run($"""
            mov %r6, %r1
            stw [%r10-16], 0
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -16
            {chain("r2")}
            call 1
            jne %r0, 0, found
            mov %r0, 0x99
            exit
            found:
            mov %r1, %r6
            mov %r2, 2
            mov %r3, %r10
            add %r3, -8
            mov %r4, 8
            {chain("r4")}
            call 26
            jeq %r0, 0, copied
            mov %r0, 0x98
            exit
            copied:
            ldxdw %r0, [%r10-8]
            exit
            """, jit, Values());
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(BitConverter.ToUInt64(Frame, 2), r.R0);
    }
}
