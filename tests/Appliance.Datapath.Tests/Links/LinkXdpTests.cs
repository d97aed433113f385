using Appliance.Datapath.Links;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Links;

[Collection(KernelCollection.Name)]
public sealed class LinkXdpTests
{
    /// <summary>mov r0, XDP_PASS (2); exit.</summary>
    private static readonly ulong[] XdpPass = [0x00000002000000b7, 0x0000000000000095];

    [PrivilegedFact]
    public void Skb_mode_attach_is_queried_refused_twice_replaced_and_detached()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        root.CreateVethPair(a, b);
        var xdp = new LinkXdp(root);
        var link = root.Get(a);
        Assert.Equal(LinkXdpMode.None, xdp.Query(a).Mode);

        int first = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpPass, "mapp_pass1");
        int second = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpPass, "mapp_pass2");
        try
        {
            xdp.Attach(link, first, LinkXdpFlags.SkbMode | LinkXdpFlags.UpdateIfNoExist);
            var state = xdp.Query(a);
            Assert.Equal(LinkXdpMode.Generic, state.Mode);
            Assert.NotEqual(0u, state.ProgramId);
            Assert.Equal(state.ProgramId, state.GenericProgramId);
            Assert.Equal(0u, state.DriverProgramId);
            var seen = IpJson.RequireLink(a).GetProperty("xdp");
            Assert.Equal(2, seen.GetProperty("mode").GetInt32()); // XDP_ATTACHED_SKB
            Assert.Equal(state.ProgramId, seen.GetProperty("prog").GetProperty("id").GetUInt32());

            // A second attach with UPDATE_IF_NOEXIST is refused with EBUSY and the kernel's reason.
            var busy = Assert.Throws<PlatformException>(() =>
                xdp.Attach(link, second, LinkXdpFlags.SkbMode | LinkXdpFlags.UpdateIfNoExist));
            Assert.Equal(Errno.EBUSY, busy.Errno);
            Assert.Contains(a, busy.Message);
            Assert.Contains("Kernel says:", busy.Message);

            // Native mode while generic is active: EEXIST.
            var both = Assert.Throws<PlatformException>(() => xdp.Attach(link, second, LinkXdpFlags.DrvMode));
            Assert.Equal(Errno.EEXIST, both.Errno);

            // Replace exactly the program we expect.
            xdp.Attach(link, second, LinkXdpFlags.SkbMode | LinkXdpFlags.Replace, expectedProgramFd: first);
            var replaced = xdp.Query(a);
            Assert.Equal(LinkXdpMode.Generic, replaced.Mode);
            Assert.NotEqual(state.ProgramId, replaced.ProgramId);

            xdp.Detach(link, LinkXdpFlags.SkbMode);
            Assert.Equal(LinkXdpState.None, xdp.Query(a));
            Assert.False(IpJson.RequireLink(a).TryGetProperty("xdp", out _));
        }
        finally
        {
            LibC.Close(first);
            LibC.Close(second);
        }
    }

    [PrivilegedFact]
    public void A_netlink_program_outlives_its_fd_until_detached()
    {
        using var scratch = new ScratchState();
        string a = scratch.Interface(), b = scratch.Interface();
        using var root = new LinkManager();
        root.CreateVethPair(a, b);
        var xdp = new LinkXdp(root);
        var link = root.Get(a);

        int prog = BpfSyscall.LoadProgram(BpfSyscall.ProgTypeXdp, XdpPass, "mapp_stale");
        xdp.Attach(link, prog, LinkXdpFlags.DrvMode);
        LibC.Close(prog); // like a crashed run: the program stays attached

        var stale = xdp.Query(a);
        Assert.Equal(LinkXdpMode.Driver, stale.Mode);
        Assert.NotEqual(0u, stale.DriverProgramId);

        xdp.Detach(link, LinkXdpFlags.DrvMode); // what the netlink attachment does when it is disposed
        Assert.False(xdp.Query(a).IsAttached);
    }
}
