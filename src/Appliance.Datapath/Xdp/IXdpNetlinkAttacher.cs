namespace Appliance.Datapath.Xdp;

/// <summary>Attaches an XDP program with rtnetlink IFLA_XDP, for kernels without XDP bpf_link (before 5.9).
/// Implemented over the interface-management layer; the returned handle detaches on Dispose (a netlink-attached
/// program survives the process otherwise).</summary>
public interface IXdpNetlinkAttacher
{
    IDisposable Attach(int ifIndex, int programFd, uint xdpFlags);
}
