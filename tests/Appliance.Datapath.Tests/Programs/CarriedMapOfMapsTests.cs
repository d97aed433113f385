using Appliance.Bpf.Maps;
using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>A map of maps a reload carries over is running state: the static initialiser of its object (libbpf's
/// `.values`) fills a fresh one only. A reload, or a dry run, must not put tables back into slots the operator
/// emptied — nor put a fresh map it may free again (a load that fails later) into a map programs run with.</summary>
public sealed class CarriedMapOfMapsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mapp-nested-{Guid.NewGuid():N}");

    public CarriedMapOfMapsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly ProgramConfig Nested = new() { Name = "nested", Object = "nested_tables.bpf.o", Section = "tc" };

    private ProgramSet Load(string verdict, ProgramSet? running = null)
    {
        TestObjects.Build("nested_tables", Path.Combine(_folder, "nested_tables.bpf.o"), $"-DVERDICT={verdict}");
        return ProgramSet.Load([Nested], _folder, _folder, running: running);
    }

    private static MapOfMaps Tables(ProgramSet set) => Assert.IsType<MapOfMaps>(set["nested"].Object.FindMap("tables"));

    [Fact]
    public void ASlotEmptiedInARunningMapOfMapsStaysEmptyAcrossAReloadOfNewCode()
    {
        var running = Load("-1");
        var tables = Tables(running);
        var slot0 = BitConverter.GetBytes(0u);
        Assert.Same(running["nested"].Object.FindMap("table_a"), tables.LookupInner(slot0)); // the initialiser filled it
        Assert.Equal(0, tables.Delete(slot0)); // `maps delete tables 0`

        var next = Load("0", running); // new code, the same maps
        Assert.NotSame(running["nested"].Program, next["nested"].Program);
        Assert.Same(tables, Tables(next)); // carried over, with its contents
        Assert.Null(tables.LookupInner(slot0));
        Assert.Same(running["nested"].Object.FindMap("table_b"), tables.LookupInner(BitConverter.GetBytes(1u)));
    }
}
