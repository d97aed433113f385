using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Vm;

/// <summary>Code the verifier leaves unchecked because only a branch on constants reaches it (as the kernel never
/// visits it) is never run: both engines run the rest and would fault there.</summary>
public sealed class DeadBranchTests
{
    public static TheoryData<bool> Engines => [false, true];

    [Theory]
    [MemberData(nameof(Engines))]
    public void AProgramWithDeadCodeRunsItsLivePath(bool jit)
    {
        // The dead side calls bpf_probe_read_kernel (tc has none here) and reads an unset register.
        var program = VmTestSupport.LoadFor("""
            mov %r1, 0
            jeq %r1, 0, +3
            call 113
            mov %r0, %r7
            exit
            mov %r0, 5
            exit
            """, jit);
        var packet = VmTestSupport.Packet(new byte[64]);
        var result = VmTestSupport.Run(program, ref packet, new BpfVmOptions { UseJit = jit });
        Assert.Equal(BpfFault.None, result.Fault);
        Assert.Equal(5UL, result.R0);
    }
}
