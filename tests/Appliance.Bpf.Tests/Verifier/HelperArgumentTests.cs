using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>The load-time checks of bpf_fib_lookup's and bpf_redirect_neigh's arguments: the struct on the stack
/// inside the frame, no NULL with a size, no zero or negative size for fib_lookup, and the constant flags the
/// appliance refuses (BPF_FIB_LOOKUP_MARK); what only the run knows is left to the run.</summary>
public sealed class HelperArgumentTests
{
    private static void Verify(string assembly) =>
        BpfVerifier.Verify(new BpfProgramImage("p", "tc", BpfAssembler.Assemble(assembly)), 0, LinuxHelperTable.Instance);

    private static string Reject(string assembly) => Assert.Throws<BpfVerifierException>(() => Verify(assembly)).Message;

    private static string FibLookup(int offset, string plen, string flags) => $"""
        mov %r2, %r10
        add %r2, {offset}
        mov %r3, {plen}
        mov %r4, {flags}
        call 69
        exit
        """;

    [Fact]
    public void AStructInsideTheFrameWithSupportedFlagsLoads()
    {
        Verify(FibLookup(-64, "64", "0"));
        Verify(FibLookup(-80, "80", "0x17")); // DIRECT | OUTPUT | SKIP_NEIGH | SRC
        Verify(FibLookup(-64, "40", "0x40")); // too short, unknown flag: -EINVAL at run time, as the kernel
    }

    [Fact]
    public void MarkIsRefusedWhenTheFlagsAreAConstant()
    {
        var message = Reject(FibLookup(-64, "64", "0x21"));
        Assert.Contains("instruction 4 (call 69): bpf_fib_lookup: flag BPF_FIB_LOOKUP_MARK is not supported", message);
        // Flags only known at run time load; the helper answers -EINVAL then.
        Verify("""
            mov %r2, %r10
            add %r2, -64
            mov %r3, 64
            ldxw %r4, [%r1+8]
            call 69
            exit
            """);
    }

    [Fact]
    public void MemoryOutsideTheFrameOrNullOrNoSizeIsRefused()
    {
        Assert.Contains("points to 64 bytes at fp-32, outside the 512-byte stack frame", Reject(FibLookup(-32, "64", "0")));
        Assert.Contains("points to 64 bytes at fp-520", Reject(FibLookup(-520, "64", "0")));
        Assert.Contains("the size r3 is 0", Reject(FibLookup(-64, "0", "0")));
        Assert.Contains("the size r3 is negative", Reject(FibLookup(-64, "-1", "0")));
        Assert.Contains("r2 is NULL but the size r3 is 20", Reject("""
            mov %r1, 3
            mov %r2, 0
            mov %r3, 20
            mov %r4, 0
            call 152
            exit
            """));
        Verify("""
            mov %r1, 3
            mov %r2, 0
            mov %r3, 0
            mov %r4, 0
            call 152
            exit
            """);
    }

    [Fact]
    public void WhatDiffersBetweenPathsIsLeftToTheRun()
    {
        // r3 is 64 on one path and 128 on the other (beyond the frame from fp-64): not a constant, so not refused.
        Verify("""
            mov %r2, %r10
            add %r2, -64
            mov %r3, 64
            ldxw %r5, [%r1+0]
            jeq %r5, 0, call
            mov %r3, 128
            call:
            mov %r4, 0
            call 69
            exit
            """);
    }
}
