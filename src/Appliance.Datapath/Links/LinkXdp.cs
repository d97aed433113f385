using Appliance.Interop;
using static Appliance.Interop.NetlinkRoute;

namespace Appliance.Datapath.Links;

/// <summary>XDP attach/detach/query through netlink IFLA_XDP, for interfaces in the namespace of
/// <paramref name="links"/>. This is the fallback for kernels without BPF_LINK_CREATE for XDP; unlike a
/// bpf_link, a netlink-attached program stays after the process exits, so a crashed run leaves it behind
/// (see <see cref="Query(string)"/>; detach it before attaching a bpf_link, which otherwise fails EBUSY).</summary>
public sealed class LinkXdp(LinkManager links)
{
    /// <summary>Attaches program <paramref name="programFd"/> to <paramref name="link"/>, addressed by its ifindex (so a
    /// rename since <paramref name="link"/> was read cannot send it to another interface; the name only labels
    /// errors). Pass
    /// <see cref="LinkXdpFlags.SkbMode"/> or <see cref="LinkXdpFlags.DrvMode"/> (none: the kernel picks native
    /// when the driver has it); with <see cref="LinkXdpFlags.Replace"/>, <paramref name="expectedProgramFd"/>
    /// names the program to replace.</summary>
    public void Attach(LinkInfo link, int programFd, LinkXdpFlags flags, int expectedProgramFd = -1)
    {
        if (programFd < 0) throw new ArgumentOutOfRangeException(nameof(programFd), "use Detach to remove a program");
        Set(link, programFd, flags, expectedProgramFd, $"attach XDP program fd {programFd} ({flags})");
    }

    /// <summary>Detaches the program attached in the mode given by <paramref name="modeFlags"/> (the same mode
    /// flag used to attach it; use <see cref="Query(string)"/> to find it), by ifindex like <see cref="Attach"/>.</summary>
    public void Detach(LinkInfo link, LinkXdpFlags modeFlags) =>
        Set(link, -1, modeFlags & ~(LinkXdpFlags.UpdateIfNoExist | LinkXdpFlags.Replace), -1, $"detach XDP ({modeFlags})");

    /// <summary>Which XDP programs are attached, in which mode (IFLA_XDP_ATTACHED, IFLA_XDP_*PROG_ID).</summary>
    public LinkXdpState Query(string name) => links.Get(name).Xdp;

    private void Set(LinkInfo link, int programFd, LinkXdpFlags flags, int expectedFd, string what) =>
        links.SetLink(link.Index, link.Name, what, (ref NetlinkWriter w) =>
        {
            int xdp = w.BeginNested(IFLA_XDP);
            w.PutS32(IFLA_XDP_FD, programFd);
            if (flags != LinkXdpFlags.None) w.PutU32(IFLA_XDP_FLAGS, (uint)flags);
            if ((flags & LinkXdpFlags.Replace) != 0) w.PutS32(IFLA_XDP_EXPECTED_FD, expectedFd);
            w.EndNested(xdp);
        }, errno => errno switch
        {
            Errno.EBUSY => "An XDP program is already attached (perhaps left by a crashed run, or a bpf_link owns it); " +
                           "Query it and Detach it, or attach with Replace",
            Errno.EEXIST => "Native and generic XDP cannot be active at the same time; detach the other mode first",
            Errno.EOPNOTSUPP => "The driver has no native XDP; attach in SKB (generic) mode",
            Errno.EINVAL => "The mode flags or program are not accepted (is it an XDP program? one mode flag only?)",
            _ => null,
        });
}
