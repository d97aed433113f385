using Appliance.Bpf.Helpers;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Externs libbpf takes from the running kernel: kfuncs and __ksym variables, which the appliance does not
/// have: the object loads, the programs that use one are refused naming it, the others load (test:extern_mixed
/// compares two with the kernel, which loads all four); __kconfig values, which it has (<see cref="KconfigTests"/>).</summary>
public sealed class ExternTests
{
    [Theory]
    [InlineData("uses_kfunc", "it calls 'bpf_dynptr_from_skb', which the object does not define: a kernel function (kfunc)")]
    [InlineData("uses_ksym", "it reads 'bpf_prog_put', an extern the object does not define (a __ksym kernel symbol")]
    public void AProgramUsingAnExternIsRefusedNamingIt(string program, string reason)
    {
        var obj = TestObjects.LoadTestProgram("extern_mixed");
        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(p => p.Name == program), Maps(obj), LinuxHelperTable.Instance));
        Assert.Contains(reason, e.Message);
    }

    /// <summary>The others load: the one reading a __kconfig value too (test:kconfig_values compares such values with libbpf's).</summary>
    [Theory]
    [InlineData("plain_len")]
    [InlineData("uses_kconfig")]
    public void TheObjectsOtherProgramsLoad(string program)
    {
        var obj = TestObjects.LoadTestProgram("extern_mixed");
        var loaded = LoadedProgram.Load(obj.Programs.Single(p => p.Name == program), Maps(obj), LinuxHelperTable.Instance);
        Assert.Null(obj.Programs.Single(p => p.Name == program).Refusal);
        Assert.True(loaded.InstructionCount > 0);
    }

    private static Bpf.Maps.BpfMap[] Maps(Objects.BpfObject obj) => [.. obj.Maps.Select(d => Bpf.Maps.BpfMap.Create(d))];

    [Fact]
    public void AMapDeclaredExternRefusesTheObjectNamingIt()
    {
        var e = Assert.Throws<Objects.BpfLoadException>(() => TestObjects.LoadTestProgram("extern_map"));
        Assert.Contains("map 'shared_counts'", e.Message);
        Assert.Contains("the map is declared extern (defined in another object file)", e.Message);
    }

    [Fact]
    public void AWeakKfuncHasAddressZeroAndItsCallIsRefusedOnlyWhereAPathReachesIt()
    {
        var guarded = TestObjects.LoadTestProgram("weak_kfunc").Programs.Single();
        Assert.Null(guarded.Refusal);
        Assert.Single(guarded.Poisoned); // the call, behind if (bpf_ksym_exists(…)), which is 0 here
        var loaded = LoadedProgram.Load(guarded, [], LinuxHelperTable.Instance);
        using var vm = new BpfVm();
        var packet = Vm.VmTestSupport.Packet(new byte[70]);
        Assert.Equal(70UL + 7, vm.Run(loaded, ref packet).R0);

        // Called without the guard: the kernel refuses it too (libbpf poisons the call, EACCES).
        var unguarded = TestObjects.LoadTestProgram("weak_kfunc_unguarded").Programs.Single();
        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(unguarded, [], LinuxHelperTable.Instance));
        Assert.Contains("it calls 'bpf_appliance_made_up_kfunc', a kernel function (kfunc) declared __weak, which the appliance does not have", e.Message);
    }
}
