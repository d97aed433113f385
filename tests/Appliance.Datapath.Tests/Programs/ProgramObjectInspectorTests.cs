using Appliance.Datapath.Programs;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>The object check `validate` runs, on an object declaring maps of types the appliance does not have, and
/// on one with a .kconfig map.</summary>
public sealed class ProgramObjectInspectorTests
{
    /// <summary>An object file larger than any eBPF object (a sparse file of 64 MiB + 1 bytes) is refused without
    /// being read into memory whole: a file named by a config may fill the board's memory otherwise.</summary>
    [Fact]
    public void AnObjectFileLargerThanTheBoundIsRefused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mapp-huge-{Guid.NewGuid():N}.bpf.o");
        try
        {
            using (var f = File.Create(path)) f.SetLength(Config.ConfigLimits.MaxObjectBytes + 1L);
            var report = ProgramObjectInspector.Instance.Inspect(path, "tc");
            Assert.Contains($"cannot read the object file: is {Config.ConfigLimits.MaxObjectBytes + 1L} bytes, more than the {Config.ConfigLimits.MaxObjectBytes}", report.Problem);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnObjectWithADevmapPassesForItsTcProgramAndItsDevmapCannotBeFilled()
    {
        var report = ProgramObjectInspector.Instance.Inspect(Path.Combine(TestObjects.Directory, "devmap_mixed.bpf.o"), "tc");
        Assert.Null(report.Problem);
        Assert.Equal(["tc", "xdp"], report.Sections!.Order());
        Assert.Contains("BPF_MAP_TYPE_DEVMAP", report.Maps!["tx_port"].CannotFill);
        Assert.Contains("BPF_MAP_TYPE_XSKMAP", report.Maps["xsks"].CannotFill);
        Assert.Null(report.Maps["seen"].CannotFill);
        Assert.Contains("it is an XDP program", ProgramObjectInspector.Instance.Inspect(Path.Combine(TestObjects.Directory, "devmap_mixed.bpf.o"), "xdp").Problem);
    }

    /// <summary>The .kconfig map of an object's __kconfig externs is one of its maps, and the config cannot fill it: the
    /// loader fills it with the running kernel's values, as libbpf does (which refuses an initial value for it).</summary>
    [Fact]
    public void AKconfigMapIsShownAndCannotBeFilled()
    {
        var report = ProgramObjectInspector.Instance.Inspect(Path.Combine(TestObjects.Directory, "kconfig_values.bpf.o"), "tc");
        Assert.Null(report.Problem);
        Assert.Equal([".kconfig", "seen"], report.Maps!.Keys.Order(StringComparer.Ordinal));
        Assert.Null(report.Maps["seen"].CannotFill);
        Assert.Contains("it holds the running kernel's values of the object's __kconfig externs", report.Maps[".kconfig"].CannotFill);
    }
}
