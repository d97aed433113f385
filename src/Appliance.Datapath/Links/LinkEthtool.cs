using Appliance.Interop;

namespace Appliance.Datapath.Links;

/// <summary>ethtool settings (SIOCETHTOOL ioctls) of interfaces in the namespace of <paramref name="links"/>; the
/// ioctl goes through that manager's netlink socket, which lives in the interface's namespace.</summary>
public sealed class LinkEthtool(LinkManager links)
{
    /// <summary>Turns TX checksum offload off on <paramref name="name"/> (like `ethtool -K NAME tx off`).
    /// Do this on the tenant end of every pair: the tenant's stack then computes full TCP/UDP checksums
    /// in software. With offload on, a veth hands over frames with CHECKSUM_PARTIAL (only the pseudo-header
    /// sum filled in, the real sum left for "hardware" that never runs); AF_XDP copies raw bytes, so those
    /// frames would leave the appliance with broken checksums and be dropped by the receiver.</summary>
    public void DisableTxChecksum(string name)
    {
        try { IoctlEthtool.SetTxChecksum(links.Socket.Fd, name, on: false); }
        catch (PlatformException e) { throw Located(e, "turn TX checksum offload off", name); }
    }

    /// <summary>Turns receive VLAN tag stripping off (`ethtool -K NAME rxvlan off`), so received frames keep their
    /// outer 802.1Q tag in their bytes, where XDP and AF_XDP see it. True when it was on and is off now (for
    /// <see cref="EnableRxVlanStripping"/> to put back), false when it was off already; throws when the device keeps
    /// stripping (a fixed feature, or one the driver does not let go).</summary>
    public bool DisableRxVlanStripping(string name)
    {
        uint after;
        try
        {
            uint flags = IoctlEthtool.GetFlags(links.Socket.Fd, name);
            if ((flags & IoctlEthtool.ETH_FLAG_RXVLAN) == 0) return false;
            IoctlEthtool.SetFlags(links.Socket.Fd, name, flags & ~IoctlEthtool.ETH_FLAG_RXVLAN);
            after = IoctlEthtool.GetFlags(links.Socket.Fd, name);
        }
        catch (PlatformException e) { throw Located(e, "turn receive VLAN stripping off", name); }
        if ((after & IoctlEthtool.ETH_FLAG_RXVLAN) != 0)
            throw new PlatformException("ioctl(SIOCETHTOOL, ETHTOOL_SFLAGS) (turn receive VLAN stripping off)", links.Where(name), Errno.EOPNOTSUPP,
                "The driver kept receive VLAN stripping on");
        return true;
    }

    /// <summary>Turns receive VLAN tag stripping back on (`ethtool -K NAME rxvlan on`).</summary>
    public void EnableRxVlanStripping(string name)
    {
        try
        {
            uint flags = IoctlEthtool.GetFlags(links.Socket.Fd, name);
            if ((flags & IoctlEthtool.ETH_FLAG_RXVLAN) == 0) IoctlEthtool.SetFlags(links.Socket.Fd, name, flags | IoctlEthtool.ETH_FLAG_RXVLAN);
        }
        catch (PlatformException e) { throw Located(e, "turn receive VLAN stripping on", name); }
    }

    /// <summary>The channel (queue) configuration (ETHTOOL_GCHANNELS); throws EOPNOTSUPP when the driver has
    /// no channel API.</summary>
    public IoctlEthtool.Channels GetChannels(string name)
    {
        try { return IoctlEthtool.GetChannels(links.Socket.Fd, name); }
        catch (PlatformException e) { throw Located(e, "read channels", name); }
    }

    /// <summary>Sets the channel (queue) counts (ETHTOOL_SCHANNELS, like `ethtool -L`); throws EOPNOTSUPP when the
    /// driver cannot change them.</summary>
    public void SetChannels(string name, IoctlEthtool.Channels channels)
    {
        try { IoctlEthtool.SetChannels(links.Socket.Fd, name, channels); }
        catch (PlatformException e) { throw Located(e, "set channels", name); }
    }

    /// <summary>How many RX queues receive traffic, so one AF_XDP socket can be bound per queue: combined +
    /// RX-only channels from ETHTOOL_GCHANNELS (a veth reports its real RX queues: 1 unless created with
    /// more). Drivers without the channel API have one queue as far as we can tell: 1.</summary>
    public int RxQueueCount(string name)
    {
        try
        {
            var c = IoctlEthtool.GetChannels(links.Socket.Fd, name);
            return Math.Max(1, c.RxQueues);
        }
        catch (PlatformException e) when (e.Errno == Errno.EOPNOTSUPP) { return 1; }
        catch (PlatformException e) { throw Located(e, "read channels", name); }
    }

    private PlatformException Located(PlatformException e, string what, string name) =>
        new($"{e.Operation} ({what})", links.Where(name), e.Errno,
            e.Errno == Errno.EOPNOTSUPP ? "The driver does not support this ethtool operation" : null);
}
