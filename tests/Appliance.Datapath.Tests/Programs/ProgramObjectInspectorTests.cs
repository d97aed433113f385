using Appliance.Datapath.Programs;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Programs;

/// <summary>The object check `validate` runs, on an object declaring maps of types the appliance does not have.</summary>
public sealed class ProgramObjectInspectorTests
{
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
}
