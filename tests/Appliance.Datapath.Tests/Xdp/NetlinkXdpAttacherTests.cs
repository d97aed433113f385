using Appliance.Datapath.Xdp;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Xdp;

/// <summary>The IFLA_XDP fallback (used when BPF_LINK_CREATE has no XDP): attaches the steering program and
/// detaches it again on Dispose, since a netlink attachment would outlive the process.</summary>
[Collection(KernelCollection.Name)]
public sealed class NetlinkXdpAttacherTests
{
    [PrivilegedFact]
    public void Attaches_in_the_requested_mode_and_detaches_on_dispose()
    {
        string a = NetNamespace.UniqueInterface("mapp"), b = NetNamespace.UniqueInterface("mapp");
        Shell.Check("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        int map = -1, prog = -1;
        try
        {
            map = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, 4, "test_xsks");
            prog = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpSteeringProgram.Build(map), "test_steer");
            int ifindex = XskSocket.ResolveInterface(a);
            using (new NetlinkXdpAttacher().Attach(ifindex, prog, XdpFlags.SkbMode))
                Assert.Contains("xdpgeneric", Shell.Check("ip", "link", "show", a));
            Assert.DoesNotContain("xdp", Shell.Check("ip", "link", "show", a));
        }
        finally
        {
            if (prog >= 0) LibC.Close(prog);
            if (map >= 0) LibC.Close(map);
            Shell.Run("ip", "link", "del", a);
        }
    }

    /// <summary>The attachment follows the interface, not its name: renamed meanwhile, it is still the one detached,
    /// and an interface that took the old name keeps its own program.</summary>
    [PrivilegedFact]
    public void Dispose_detaches_the_renamed_interface_and_not_the_one_that_took_its_name()
    {
        string a = NetNamespace.UniqueInterface("mapp"), b = NetNamespace.UniqueInterface("mapp");
        string renamed = NetNamespace.UniqueInterface("mapp"), c = NetNamespace.UniqueInterface("mapp");
        Shell.Check("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        int map = -1, prog = -1;
        try
        {
            map = BpfSyscall.CreateMap(BpfSyscall.MapTypeXskMap, 4, 4, 4, "test_xsks");
            prog = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpSteeringProgram.Build(map), "test_steer");
            var attacher = new NetlinkXdpAttacher();
            var first = attacher.Attach(XskSocket.ResolveInterface(a), prog, XdpFlags.SkbMode);
            Shell.Check("ip", "link", "set", a, "name", renamed);
            Shell.Check("ip", "link", "add", a, "type", "veth", "peer", "name", c); // takes the old name
            using (attacher.Attach(XskSocket.ResolveInterface(a), prog, XdpFlags.SkbMode))
            {
                first.Dispose();
                Assert.DoesNotContain("xdp", Shell.Check("ip", "link", "show", renamed));
                Assert.Contains("xdpgeneric", Shell.Check("ip", "link", "show", a));
            }
        }
        finally
        {
            if (prog >= 0) LibC.Close(prog);
            if (map >= 0) LibC.Close(map);
            Shell.Run("ip", "link", "del", a);
            Shell.Run("ip", "link", "del", renamed);
        }
    }
}
