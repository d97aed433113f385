using Appliance.Bpf.Maps;
using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>A reload of an object's new code carries over its maps of the same name, shape and flags, with their
/// contents. A carried map of maps is running state: the static initialiser of its object (libbpf's `.values`) fills a
/// fresh one only. A reload, or a dry run, must not put tables back into slots the operator emptied — nor put a fresh
/// map it may free again (a load that fails later) into a map programs run with. A map whose flags changed, or a map of
/// maps whose inner-map template changed, is made afresh as the new object declares it.</summary>
public sealed class CarriedMapsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"mapp-nested-{Guid.NewGuid():N}");

    public CarriedMapsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly ProgramConfig Nested = new() { Name = "nested", Object = "nested_tables.bpf.o", Section = "tc" };

    private ProgramSet Load(string verdict, ProgramSet? running = null, params string[] defines)
    {
        TestObjects.Build("nested_tables", Path.Combine(_folder, "nested_tables.bpf.o"), [$"-DVERDICT={verdict}", .. defines]);
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

    /// <summary>The new object's outer map takes inner maps of another shape (8 entries, not 4): its programs were
    /// verified against that template, so the running outer map, whose slots hold 4-entry tables and which refuses
    /// 8-entry ones, is not kept; the new one is made afresh and its initialiser fills it with the new tables.</summary>
    [Fact]
    public void AMapOfMapsWhoseInnerTemplateChangedIsMadeAfresh()
    {
        var running = Load("-1");
        var slot0 = BitConverter.GetBytes(0u);

        var next = Load("0", running, "-DINNER_ENTRIES=8");
        var tables = Tables(next);
        Assert.NotSame(Tables(running), tables);
        Assert.Equal(8, tables.Definition.InnerMap!.MaxEntries);
        var inner = next["nested"].Object.FindMap("table_a")!;
        Assert.Equal(8, inner.MaxEntries);
        Assert.Same(inner, tables.LookupInner(slot0));
        Assert.Same(next["nested"].Object.FindMap("by_length"), running["nested"].Object.FindMap("by_length")); // its other maps are kept
    }

    /// <summary>A changed static initialiser alone (slots 0 and 1 swapped) keeps the running map with its slots, as a
    /// changed config leaves a carried map's contents: they are running state the operator may have edited.</summary>
    [Fact]
    public void AMapOfMapsWhoseInitialiserAloneChangedKeepsItsRunningSlots()
    {
        var running = Load("-1");
        var tables = Tables(running);
        var next = Load("0", running, "-DSWAP_VALUES");
        Assert.Same(tables, Tables(next));
        Assert.Same(running["nested"].Object.FindMap("table_a"), tables.LookupInner(BitConverter.GetBytes(0u)));
    }

    [Fact]
    public void AMapTheNewObjectDeclaresWithOtherFlagsIsMadeAfreshAsDeclared()
    {
        var running = Load("-1");
        var byLength = running["nested"].Object.FindMap("by_length")!;
        Assert.Equal(0u, byLength.Definition.Flags & BpfMapFlags.NoPrealloc);

        var same = Load("0", running);
        Assert.Same(byLength, same["nested"].Object.FindMap("by_length")); // new code, the same declaration: kept

        var next = Load("0", same, "-DNO_PREALLOC");
        var made = next["nested"].Object.FindMap("by_length")!;
        Assert.NotSame(byLength, made);
        Assert.Equal(BpfMapFlags.NoPrealloc, made.Definition.Flags & BpfMapFlags.NoPrealloc);
        Assert.True(made.ReservedBytes > 0, "a BPF_F_NO_PREALLOC hash reserves its storage instead of preallocating it");
        Assert.Same(Tables(same), Tables(next)); // the other maps are kept
    }
}
