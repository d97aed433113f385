namespace Appliance.Datapath.Xdp;

/// <summary>Attaches an XDP program with rtnetlink IFLA_XDP, for kernels without XDP bpf_link (before 5.9).
/// Implemented over the interface-management layer; the returned handle detaches on Dispose (a netlink-attached
/// program survives the process otherwise).</summary>
public interface IXdpNetlinkAttacher
{
    IXdpNetlinkAttachment Attach(int ifIndex, int programFd, uint xdpFlags);
}

/// <summary>A program attached with IFLA_XDP; Dispose detaches it.</summary>
public interface IXdpNetlinkAttachment : IDisposable
{
    /// <summary>Swaps in <paramref name="programFd"/> in one step with XDP_FLAGS_REPLACE, only if
    /// <paramref name="expectedProgramFd"/> is still the attached program.</summary>
    void Replace(int programFd, int expectedProgramFd);
}
