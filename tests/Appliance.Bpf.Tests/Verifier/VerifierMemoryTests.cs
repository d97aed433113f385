using Appliance.Bpf.Helpers;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Verifier;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Bpf.Tests.Verifier;

/// <summary>A program at the instruction limit (1M, BPF_COMPLEXITY_LIMIT_INSNS) must load on a board with 512 MB:
/// the verifier's passes may keep a few bytes per instruction, not a state of every register for each one.</summary>
public sealed class VerifierMemoryTests(ITestOutputHelper output)
{
    [Fact]
    public void AProgramAtTheInstructionLimitVerifiesInBoundedMemory()
    {
        const int count = 1_000_000;
        var code = new ulong[count];
        code[0] = 0xb7;                             // r0 = 0
        for (int i = 1; i < count - 1; i++)
            code[i] = i % 1000 == 0
                ? 0x15 | 1UL << 16 | 7UL << 32      // if r0 == 7 goto +1 (a block boundary now and then)
                : 0x07 | 1UL << 32;                 // r0 += 1
        code[count - 1] = 0x95;                     // exit
        var image = new BpfProgramImage("big", "tc", code);

        long before = GC.GetAllocatedBytesForCurrentThread();
        BpfVerifier.Verify(image, 0, LinuxHelperTable.Instance);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"verifying {count} instructions allocated {allocated / (1 << 20)} MiB");
        // 128 bytes an instruction: the per-instruction facts and masks the passes share fit; 11 registers' constants
        // (9 bytes each) per instruction on top of them do not.
        Assert.True(allocated < 128L * count, $"verifying {count} instructions allocated {allocated / (1 << 20)} MiB");
    }

    /// <summary>Near the instruction limit, 300,000 sub-programs each calling the next: the passes stay linear in the
    /// program (finding the callers of each sub-program that returns a value scanned the whole program: this took hours,
    /// 60,000 of them 12 s; found by fuzzing), up to the refusal of the chain, which passes the kernel's 8 call frames.</summary>
    [Fact]
    public void AChainOfManySubprogramsIsCheckedInLinearTime()
    {
        const int functions = 300_000;
        var code = new ulong[3 * functions];
        for (int f = 0; f < functions; f++)
        {
            code[3 * f] = 0xb7;                                                  // r0 = 0
            code[3 * f + 1] = f < functions - 1 ? 0x85 | 0x10UL << 8 | 1UL << 32 // call the next function (pc + 1 + 1)
                                                : 0xb7;                          // r0 = 0
            code[3 * f + 2] = 0x95;                                              // exit
        }
        var refused = Assert.Throws<BpfVerifierException>(() => BpfVerifier.Verify(new BpfProgramImage("chain", "tc", code), 0, LinuxHelperTable.Instance));
        Assert.Contains("the call stack of 9 frames is too deep", refused.Message);
    }
}
