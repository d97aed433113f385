using Appliance.Bpf.Maps;
using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>Maps declared read-only (BPF_F_RDONLY) or write-only (BPF_F_WRONLY) to user space
/// (Programs/user_map_flags.bpf.c), as the kernel's map fds are: the config cannot fill a read-only one, and a
/// write-only one takes the config's entries; programs use both.</summary>
public sealed class UserMapFlagsTests
{
    private static ProgramConfig Touch(string map, string key, string value) => new()
    {
        Name = "touch",
        Object = "user_map_flags.bpf.o",
        Section = "tc",
        Maps = new Dictionary<string, IReadOnlyList<MapEntryConfig>>
        {
            [map] = [new MapEntryConfig { Key = Integer(key), Value = Integer(value) }],
        },
    };

    private static MapDatum Integer(string text)
    {
        Assert.True(MapDatum.TryParseInteger(text, out var datum), text);
        return datum;
    }

    [Fact]
    public void TheConfigCannotFillAMapReadOnlyToUserSpace()
    {
        var e = Assert.Throws<RuntimeSetupException>(() => ProgramSet.Load([Touch("user_ro", "0", "5")], TestObjects.Directory, TestObjects.Directory));
        Assert.Contains("program 'touch': map 'user_ro' is read-only to user space (declared with BPF_F_RDONLY", e.Message);

        var set = ProgramSet.Load([Touch("user_wo", "0", "5")], TestObjects.Directory, TestObjects.Directory);
        var wo = set["touch"].Object.FindMap("user_wo")!;
        Assert.False(wo.Definition.UserMayRead);
        var value = new byte[8];
        Assert.True(wo.TryLookupFromUser(new byte[4], value)); // the appliance's own view: the entry is there
        Assert.Equal(5UL, BitConverter.ToUInt64(value));
    }

    /// <summary>The kernel's side of the same flags: an update through a BPF_F_RDONLY map's fd and a lookup through a
    /// BPF_F_WRONLY one are refused with EPERM, and programs are not bound by them.</summary>
    [PrivilegedFact]
    public void TheKernelRefusesTheSameUserAccesses()
    {
        const int array = 2;
        int ro = BpfSyscall.CreateMap(array, 4, 8, 2, "user_ro", BpfMapFlags.ReadOnly);
        int wo = BpfSyscall.CreateMap(array, 4, 8, 2, "user_wo", BpfMapFlags.WriteOnly);
        try
        {
            Assert.Equal(Errno.EPERM, BpfSyscall.TryUpdateElem(ro, new byte[4], new byte[8]));
            Assert.Equal(0, BpfSyscall.TryUpdateElem(wo, new byte[4], new byte[8]));
            Assert.True(BpfSyscall.LookupElem(ro, new byte[4], new byte[8]));
            var refused = Assert.Throws<PlatformException>(() => BpfSyscall.LookupElem(wo, new byte[4], new byte[8]));
            Assert.Equal(Errno.EPERM, refused.Errno);
        }
        finally
        {
            LibC.Close(ro);
            LibC.Close(wo);
        }
    }
}
