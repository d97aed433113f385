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
    public void TheKernelAndTheEngineRefuseIt(string testObject, string program, string kernelSays, string engineSays)
    {
        var obj = TestObjects.LoadTestProgram(testObject);
        var image = obj.Programs.Single(p => p.Name == program);
        var kernel = Assert.Throws<PlatformException>(() => KernelObject.Load(new BpfObject(obj.Path, [image], obj.Maps, obj.License)).Dispose());
        Assert.Contains(kernelSays, kernel.Message);
        var engine = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(image, [.. obj.Maps.Select(d => BpfMap.Create(d))], Bpf.Helpers.LinuxHelperTable.Instance));
        Assert.Contains(engineSays, engine.Message);
    }
}
