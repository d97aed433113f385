using Appliance.Bpf.Assembly;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Xunit;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>The kernel's load-time rules for callbacks (bpf_loop, bpf_for_each_map_elem): the callback reads
/// only the arguments its helper passes, returns a value in [0, 1], and its address goes nowhere else. What they accept
/// the JIT compiles.</summary>
public sealed class CallbackVerifierTests
{
    /// <summary>Verifies <paramref name="assembly"/>; accepted, it loads and the JIT compiles it (callbacks included).</summary>
    private static void Verify(string assembly, int mapCount = 0)
    {
        var image = new BpfProgramImage("p", "tc", BpfAssembler.Assemble(assembly));
        BpfVerifier.Verify(image, mapCount, LinuxHelperTable.Instance);
        var maps = Enumerable.Range(0, mapCount).Select(_ => BpfMap.Create(new BpfMapDefinition("m", BpfMapType.Array, 4, 8, 4))).ToArray();
        var program = Bpf.Vm.LoadedProgram.Load(image, maps, LinuxHelperTable.Instance);
        Assert.True(program.IsJitCompiled || !Bpf.Jit.BpfJit.IsSupported, program.JitUnavailableReason);
    }

    private static string Loop(string callbackBody, int helper = 181, string r1 = "mov %r1, 4") => $"""
        stdw [%r10-8], 0
        {r1}
        lddw %r2, func cb
        mov %r3, %r10
        add %r3, -8
        mov %r4, 0
        call {helper}
        exit
        cb:
        {callbackBody}
        """;

    [Fact]
    public void ALoopCallbackReadingItsTwoArgumentsLoads() =>
        Verify(Loop("ldxdw %r0, [%r2+0]\nadd %r0, %r1\nstxdw [%r2+0], %r0\nmov %r0, 0\nexit"));

    [Fact]
    public void ALoopCallbackMayNotReadR3WhichBpfLoopDoesNotPass()
    {
        var e = Assert.Throws<BpfVerifierException>(() => Verify(Loop("mov %r0, %r3\nand %r0, 1\nexit")));
        Assert.Contains("r3 is read but no path to here writes it", e.Message);
    }

    [Fact]
    public void AForEachCallbackReadsMapKeyValueAndContext() =>
        Verify(Loop("ldxw %r0, [%r2+0]\nldxw %r5, [%r3+0]\nmov %r1, %r4\nmov %r0, 0\nexit", helper: 164, r1: "lddw %r1, map[0]"), mapCount: 1);

    [Fact]
    public void ACallbackReturningAConstantOutsideZeroOneIsRefused()
    {
        var e = Assert.Throws<BpfVerifierException>(() => Verify(Loop("mov %r0, 2\nexit")));
        Assert.Contains("At callback return the register R0 has value 2, which should have been in [0, 1]", e.Message);
        Verify(Loop("mov %r0, 1\nexit"));
    }

    [Fact]
    public void ACallbackAddressMayNotBeStoredOrReturned()
    {
        Assert.Contains("may not be stored", Assert.Throws<BpfVerifierException>(() =>
            Verify("lddw %r2, func cb\nstxdw [%r10-8], %r2\nmov %r0, 0\nexit\ncb:\nmov %r0, 0\nexit")).Message);
        Assert.Contains("may not be returned", Assert.Throws<BpfVerifierException>(() =>
            Verify("lddw %r0, func cb\nexit\ncb:\nmov %r0, 0\nexit")).Message);
    }

    [Fact]
    public void AFunctionAddressOutsideTheProgramIsRefused()
    {
        var e = Assert.Throws<BpfVerifierException>(() => Verify("lddw %r2, func +40\nmov %r0, 0\nexit"));
        Assert.Contains("outside the program", e.Message);
    }
}
