using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>A read-only map (.rodata) is frozen once loaded, as libbpf freezes it: a reload whose config gives it the
/// same contents keeps the running object, new contents load the object afresh (verified again) instead of changing
/// the live map under programs verified against the old contents.</summary>
public sealed class ReadOnlyMapReloadTests
{
    /// <summary>vlan_tag with its .rodata vlan_id (key 0, a 2-byte value) set by the config.</summary>
    private static ProgramConfig Tag(int vlan) => new()
    {
        Name = "tag",
        Object = "vlan_tag.bpf.o",
        Section = "tc",
        Maps = new Dictionary<string, IReadOnlyList<MapEntryConfig>>
        {
            [".rodata"] = [new MapEntryConfig { Key = Integer("0"), Value = Integer(vlan.ToString()) }],
        },
    };

    private static MapDatum Integer(string text)
    {
        Assert.True(MapDatum.TryParseInteger(text, out var datum), text);
        return datum;
    }

    private static ProgramSet Load(ProgramConfig pc, ProgramSet? running = null) =>
        ProgramSet.Load([pc], TestObjects.Directory, TestObjects.Directory, running: running);

    private static int VlanOf(ProgramSet set)
    {
        var value = new byte[2];
        Assert.True(set["tag"].Object.FindMap(".rodata")!.TryLookupFromUser(new byte[4], value));
        return BitConverter.ToUInt16(value);
    }

    [Fact]
    public void TheSameContentsKeepTheRunningObjectAndNewOnesLoadItAfresh()
    {
        var running = Load(Tag(200));
        Assert.Equal(200, VlanOf(running));

        var same = Load(Tag(200), running);
        Assert.Same(running["tag"].Object, same["tag"].Object);

        var changed = Load(Tag(300), running);
        Assert.NotSame(running["tag"].Object, changed["tag"].Object);
        Assert.NotSame(running["tag"].Program, changed["tag"].Program);
        Assert.Equal(300, VlanOf(changed));
        Assert.Equal(200, VlanOf(running)); // the running program's map is never written
    }
}
