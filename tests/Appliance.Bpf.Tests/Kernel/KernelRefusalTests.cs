using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Clang-built programs the kernel verifier refuses are refused by ours at load too, each with a reason
/// that says what the kernel's says: the same linked instructions and maps are loaded into the kernel
/// (BPF_PROG_LOAD, SCHED_CLS), whose log must hold the kernel's words, and into the engine.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelRefusalTests
{
    [PrivilegedTheory]
    [InlineData("void_result", "reads_void_result", "R0 !read_ok",
        "r0 is read but no path to here writes it: r0 is the result of the static function called at instruction 2, which returns no value")]
    [InlineData("percpu_plain_map", "percpu_on_plain", "cannot pass map_type 2 into func bpf_map_lookup_percpu_elem#195",
        "bpf_map_lookup_percpu_elem: map 'plain' (array) cannot be passed to it: it takes a per-CPU map")]
    [InlineData("call_limits", "nine_frames", "the call stack of 9 frames is too deep",
        "the call stack of 9 frames is too deep (the entry → instruction")]
    [InlineData("call_limits", "stack_528", "combined stack size of 3 calls is 528. Too large",
        "the combined stack of 3 calls is 528 bytes (the entry → instruction")]
    public void TheKernelAndTheEngineRefuseIt(string testObject, string program, string kernelSays, string engineSays)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var image = obj.Programs.Single(p => p.Name == program);
        var kernel = Assert.Throws<PlatformException>(() => KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose());
        Assert.Contains(kernelSays, kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(image, [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains(engineSays, engine.Message);
    }

    /// <summary>Just inside each limit the refusals above test: both load it.</summary>
    [PrivilegedTheory]
    [InlineData("call_limits", "eight_frames")]
    [InlineData("call_limits", "stack_512")]
    public void TheKernelAndTheEngineAcceptIt(string testObject, string program)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var image = obj.Programs.Single(p => p.Name == program);
        KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose();
        LoadedProgram.Load(image, [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance);
    }

    /// <summary>A tail call in a called function: the kernel takes it only with the object's BTF, so libbpf loads the
    /// object (one program each) into the kernel.</summary>
    [PrivilegedFact]
    public void ATailCallBelowCallersHolding256BytesIsRefusedByBoth()
    {
        var obj = TestObjects.LoadTestProgram("tail_call_stack_256");
        var kernel = Assert.Throws<InvalidOperationException>(() => KernelObject.LoadWithLibbpf(obj).Dispose());
        Assert.Contains("tail_calls are not allowed when call stack of previous frames is 256 bytes. Too large", kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(), [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains("a tail call in the function at instruction", engine.Message);
        Assert.Contains("whose callers hold 256 bytes of stack", engine.Message);

        var inside = TestObjects.LoadTestProgram("tail_call_stack_240");
        KernelObject.LoadWithLibbpf(inside).Dispose();
        LoadedProgram.Load(inside.Programs.Single(), [.. inside.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance);
    }
}
