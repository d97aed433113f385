using Appliance.Config;
using Appliance.Datapath.Programs;
using Appliance.Host.Control;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Control;

/// <summary>`maps` keeps to a map's user-space flags as the kernel's map fd does: a map declared BPF_F_RDONLY
/// cannot be updated or deleted from, one declared BPF_F_WRONLY cannot be dumped (the kernel answers EPERM; see
/// UserMapFlagsTests in the datapath tests), and each takes the other access.</summary>
public sealed class MapEditorFlagsTests : IDisposable
{
    private readonly string _folder = Repository.TempFolder("mapp-map-flags-");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private MapEditor Editor()
    {
        string source = Path.Combine(RepoPaths.Root, "tests", "Appliance.Datapath.Tests", "Programs", "user_map_flags.bpf.c");
        Shell.Check("clang", "-O2", "-g", "-target", "bpf", "-mcpu=v3", "-I", Path.Combine(RepoPaths.Root, "programs", "include"),
            "-I", $"/usr/include/{Shell.Check("gcc", "-dumpmachine").Trim()}", "-c", source, "-o", Path.Combine(_folder, "user_map_flags.bpf.o"));
        var set = ProgramSet.Load([new ProgramConfig { Name = "touch", Object = "user_map_flags.bpf.o", Section = "tc" }], _folder, _folder);
        return new MapEditor(set);
    }

    [Fact]
    public void ReadOnlyAndWriteOnlyMapsRefuseTheOtherAccess()
    {
        var editor = Editor();
        var update = Assert.Throws<InvalidOperationException>(() => editor.Run(["update", "user_ro", "0", "1"], json: false));
        Assert.Contains("map 'user_ro' is read-only to user space (declared with BPF_F_RDONLY", update.Message);
        Assert.Throws<InvalidOperationException>(() => editor.Run(["delete", "user_ro", "0"], json: false));
        Assert.Contains("0000000000000000", editor.Run(["dump", "user_ro"], json: false));

        Assert.Equal("updated user_wo[0]", editor.Run(["update", "user_wo", "0", "7"], json: false));
        var dump = Assert.Throws<InvalidOperationException>(() => editor.Run(["dump", "user_wo"], json: false));
        Assert.Contains("map 'user_wo' is write-only to user space (declared with BPF_F_WRONLY", dump.Message);
    }
}
