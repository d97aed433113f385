using Appliance.Datapath.Tests.Engine;
using Appliance.Datapath.Xsk;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Xsk;

[Collection(KernelCollection.Name)]
public sealed class XskPortSetTests
{
    [PrivilegedFact]
    public void Forced_zero_copy_on_a_driver_without_it_fails_with_a_clear_error_and_leaves_nothing_attached()
    {
        using var t = new ForwardTopology();
        var e = Assert.Throws<PlatformException>(() => XskPortSet.Open([new XskPortSpec(t.In, 0, ZeroCopyMode.On)]));
        Assert.Equal(Errno.EOPNOTSUPP, e.Errno);
        Assert.Contains(t.In, e.Message);
        Assert.Contains("zero-copy", e.Message);
        Assert.DoesNotContain("prog/xdp", Shell.Check("ip", "-d", "link", "show", t.In));
    }

    [PrivilegedFact]
    public void A_missing_interface_is_named_in_the_error()
    {
        var e = Assert.Throws<PlatformException>(() => XskPortSet.Open([new XskPortSpec("mapp-nonexist")]));
        Assert.Equal(Errno.ENODEV, e.Errno);
        Assert.Contains("mapp-nonexist", e.Message);
    }

    [PrivilegedFact]
    public void A_port_whose_caller_attaches_its_own_steering_gets_no_xdp_program()
    {
        using var t = new ForwardTopology();
        using (var set = XskPortSet.Open([new XskPortSpec(t.In, AttachSteering: false), new XskPortSpec(t.Out)]))
        {
            Assert.Null(set.Ports[0].Steering);
            Assert.NotNull(set.Ports[1].Steering);
            Assert.True(set.Ports[0].Fd >= 0);
            Assert.DoesNotContain("prog/xdp", Shell.Check("ip", "-d", "link", "show", t.In));
            Assert.Contains("prog/xdp", Shell.Check("ip", "-d", "link", "show", t.Out));
        }
        Assert.DoesNotContain("prog/xdp", Shell.Check("ip", "-d", "link", "show", t.Out));
    }
}
