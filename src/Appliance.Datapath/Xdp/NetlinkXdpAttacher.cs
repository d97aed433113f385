using Appliance.Datapath.Links;

namespace Appliance.Datapath.Xdp;

/// <summary>The netlink IFLA_XDP fallback over the interface-management layer (<see cref="LinkXdp"/>), for kernels
/// whose BPF_LINK_CREATE has no XDP (before 5.9). The handle detaches the program again on Dispose, since a
/// netlink-attached program would otherwise outlive the process.</summary>
public sealed class NetlinkXdpAttacher : IXdpNetlinkAttacher
{
    public IXdpNetlinkAttachment Attach(int ifIndex, int programFd, uint xdpFlags)
    {
        var links = new LinkManager();
        try
        {
            var link = links.Get(ifIndex);
            new LinkXdp(links).Attach(link, programFd, (LinkXdpFlags)xdpFlags);
            return new Attachment(links, link, (LinkXdpFlags)xdpFlags & (LinkXdpFlags.SkbMode | LinkXdpFlags.DrvMode));
        }
        catch
        {
            links.Dispose();
            throw;
        }
    }

    /// <summary>Holds the interface by ifindex: a rename meanwhile neither makes Replace or Dispose miss it nor sends them
    /// to another interface that took its old name.</summary>
    private sealed class Attachment(LinkManager links, LinkInfo link, LinkXdpFlags mode) : IXdpNetlinkAttachment
    {
        private bool _done;

        public void Replace(int programFd, int expectedProgramFd) =>
            new LinkXdp(links).Attach(link, programFd, mode | LinkXdpFlags.Replace, expectedProgramFd);

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            try { new LinkXdp(links).Detach(link, mode); }
            catch (Interop.PlatformException) { /* the interface is gone, and the program with it */ }
            finally { links.Dispose(); }
        }
    }
}
