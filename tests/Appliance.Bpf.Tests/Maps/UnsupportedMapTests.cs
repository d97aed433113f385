using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Elf;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>Maps of types the kernel has and the appliance does not (DEVMAP, XSKMAP …): an object declaring one loads,
/// only its programs that use one are refused, naming the map (test:devmap_mixed compares the rest with the kernel).</summary>
public sealed class UnsupportedMapTests
{
    [Fact]
    public void AProgramUsingADevmapIsRefusedNamingItAndTheObjectLoads()
    {
        var obj = TestObjects.LoadTestProgram("devmap_lookup");
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        Assert.IsType<UnsupportedMap>(Assert.Single(maps));
        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(), maps, LinuxHelperTable.Instance));
        Assert.Contains("it uses map 'tx_port': map type 14 (BPF_MAP_TYPE_DEVMAP) is not supported (an XDP redirect target", e.Message);
    }

    [Fact]
    public void TheObjectsOtherProgramsLoadAndItsXdpProgramIsRefusedByItsType()
    {
        var obj = TestObjects.LoadTestProgram("devmap_mixed");
        var maps = obj.Maps.Select(d => BpfMap.Create(d)).ToArray();
        Assert.Equal([BpfMapType.XskMap, BpfMapType.DevMap, BpfMapType.Array], maps.Select(m => m.Type));
        LoadedProgram.Load(obj.Programs.Single(p => p.Name == "tc_count"), maps, LinuxHelperTable.Instance);
        var e = Assert.Throws<BpfVerifierException>(() => LoadedProgram.Load(obj.Programs.Single(p => p.Name == "xdp_redirect"), maps, LinuxHelperTable.Instance));
        Assert.Contains("it is an XDP program", e.Message);
    }

    [Fact]
    public void UserSpaceCannotFillIt()
    {
        var map = BpfMap.Create(new BpfMapDefinition("xsks", BpfMapType.XskMap, 4, 4, 4));
        Assert.Equal(-Errno.EOPNOTSUPP, map.UpdateFromUser(new byte[4], new byte[4], 0));
        Assert.Equal(-Errno.EOPNOTSUPP, map.Delete(new byte[4]));
        Assert.False(map.TryLookupFromUser(new byte[4], new byte[4]));
        Assert.False(map.TryGetNextKey([], new byte[4]));
    }

    [Fact]
    public void ATypeTheKernelDoesNotKnowStillRefusesTheObject()
    {
        var e = Assert.Throws<Objects.BpfLoadException>(() => Objects.DeclaredMap.CheckType(99, "obj: map 'x'"));
        Assert.Contains("map type 99 (see enum bpf_map_type) is not supported", e.Message);
        Assert.Throws<Objects.BpfLoadException>(() => Objects.DeclaredMap.CheckType(0, "obj: map 'x'"));
    }
}
