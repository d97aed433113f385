using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Xdp.Rules;
using Appliance.Interop;

namespace Appliance.Datapath.Xdp;

/// <summary>The XDP side of one port: an <see cref="XdpSteering"/> whose program leaves the board's own traffic to
/// the kernel, with its claimed-MAC hash map:
/// <code>
/// if (frame shorter than 14 bytes || dst MAC is a group address) return XDP_PASS;   // kernel (+ flood copy)
/// if (bpf_map_lookup_elem(&amp;claimed, dst MAC padded to 8 bytes))
///     return bpf_redirect_map(&amp;xsks, ctx->rx_queue_index, XDP_PASS);                // a tenant's frame
/// if (ARP || ICMPv6 neighbour advertisement) return XDP_PASS;                       // the board's neighbour table
/// return UNCLAIMED;                                                                   // XDP_PASS or XDP_DROP
/// </code>
/// Only frames to a tenant's MAC reach AF_XDP; management traffic to the port's own address (ARP, SSH, ping)
/// stays in the kernel, and ARP and neighbour advertisements do also where unclaimed frames are dropped
/// (<see cref="NeighbourRepliesToKernel"/>). Group frames go to the kernel and the flooder copies them to the port's L2 pairs.
/// The port's socket is opened without the generic steering (<see cref="Xsk.XskPortSpec.AttachSteering"/> false);
/// this is its only XDP program, attached with a bpf_link. Dispose detaches and frees it.</summary>
public sealed class ClaimedMacSteering : IDisposable
{
    public const int MaxClaimed = 4096;

    private int _claimedFd = -1;
    private XdpSteering? _steering;
    private L3PrefixMaps? _l3;
    private MacAddress _portMac;

    public string InterfaceName { get; }
    /// <summary>The mode <see cref="AttachLink"/> attached in.</summary>
    public XdpAttachMode Mode => Steering.Mode;
    /// <summary>Whether unclaimed unicast frames are dropped (else the kernel gets them).</summary>
    public bool DropUnclaimed { get; private set; }

    private XdpSteering Steering => _steering ?? throw new ObjectDisposedException(nameof(ClaimedMacSteering));

    private ClaimedMacSteering(string interfaceName) => InterfaceName = interfaceName;

    /// <summary>The rules, in order, of a port's program: group frames to the kernel, claimed MACs to the socket, then
    /// neighbour replies to the kernel (also where unclaimed frames are dropped: the board resolves next hops).</summary>
    public static IReadOnlyList<IXdpSteeringRule> Rules(int claimedMapFd) =>
        [new GroupFramesToKernel(), new ClaimedMacToSocket(claimedMapFd), new NeighbourRepliesToKernel()];

    /// <summary>The rules of a port with L3 pairs: their ARP requests / neighbour solicitations first (they are
    /// group frames), then the claimed-MAC rules, then IP frames to the port's MAC for an L3 prefix, then neighbour
    /// replies to the kernel (which resolves the L3 pairs' next hops).</summary>
    public static IReadOnlyList<IXdpSteeringRule> Rules(int claimedMapFd, L3PrefixMaps l3, MacAddress portMac) =>
        [new ProxiedNeighbourRequestsToSocket(l3), new GroupFramesToKernel(), new ClaimedMacToSocket(claimedMapFd), new L3DestinationToSocket(portMac, l3),
            new NeighbourRepliesToKernel()];

    private IReadOnlyList<IXdpSteeringRule> CurrentRules() =>
        _l3 is { Count: > 0 } l3 ? Rules(_claimedFd, l3, _portMac) : Rules(_claimedFd);

    private static XdpVerdict Unclaimed(bool drop) => drop ? XdpVerdict.Drop : XdpVerdict.ToKernel;

    /// <summary>Creates the maps and loads the program without attaching it. Until a socket is registered no frame
    /// reaches AF_XDP (the redirect finds none and passes the frame to the kernel), so it may be attached before its
    /// sockets and claims (the runtime does: a port's queue count is set with its program on).</summary>
    /// <param name="portMac">The port's MAC: L3 tenants' frames arrive addressed to it.</param>
    public static ClaimedMacSteering Create(string interfaceName, int ifindex, bool dropUnclaimed, MacAddress portMac = default)
    {
        var s = new ClaimedMacSteering(interfaceName) { DropUnclaimed = dropUnclaimed, _portMac = portMac };
        try
        {
            s._claimedFd = BpfSyscall.CreateMap(BpfSyscall.MapTypeHash, ClaimedMacToSocket.KeySize, 4, MaxClaimed, "mapp_claimed");
            s._l3 = new L3PrefixMaps("mapp_l3", interfaceName);
            s._steering = XdpSteering.Create(interfaceName, ifindex, Rules(s._claimedFd), Unclaimed(dropUnclaimed), "mapp_claimed");
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Attaches the program with a bpf_link: native XDP when asked or (Auto) when the driver has it, else generic.</summary>
    public void AttachLink(XdpModePreference preference) => Steering.Attach(preference);

    /// <summary>Takes the program off the port, keeping its maps (<see cref="XdpSteering.Detach"/>).</summary>
    public void DetachLink() => Steering.Detach();

    /// <summary>Changes what happens to unclaimed unicast frames by swapping the program atomically
    /// (<see cref="XdpSteering.Replace"/>): same maps, so the socket and every claim stay; no frame is mis-steered.</summary>
    public void SetDropUnclaimed(bool drop)
    {
        if (drop == DropUnclaimed) return;
        Steering.Replace(CurrentRules(), Unclaimed(drop));
        DropUnclaimed = drop;
    }

    /// <summary>The port's MAC changed (a reload's <c>mac</c>): the L3 rules match IP frames to the new one, swapped
    /// atomically (<see cref="XdpSteering.Replace"/>); the claimed-MAC program alone does not read it.</summary>
    public void SetPortMac(MacAddress mac)
    {
        if (mac == _portMac) return;
        _portMac = mac;
        if (_l3 is { Count: > 0 }) Steering.Replace(CurrentRules(), Unclaimed(DropUnclaimed));
    }

    /// <summary>Steers to AF_XDP the frames of the L3 pairs on this port: IP frames to the port's MAC for one of
    /// <paramref name="prefixes"/>, and ARP requests / neighbour solicitations for them. The program gets the L3
    /// rules (swapped atomically) when the first prefix comes and loses them when the last goes, so a port without
    /// L3 pairs runs the plain claimed-MAC program.</summary>
    public void SetL3Prefixes(IEnumerable<(Bpf.Routing.IpFamily Family, UInt128 Prefix, int Length)> prefixes)
    {
        var l3 = _l3 ?? throw new ObjectDisposedException(nameof(ClaimedMacSteering));
        bool before = l3.Count > 0;
        l3.Set(prefixes);
        if (before != l3.Count > 0) Steering.Replace(CurrentRules(), Unclaimed(DropUnclaimed));
    }

    /// <summary>L3 prefixes steered now.</summary>
    public int L3PrefixCount => _l3?.Count ?? 0;

    /// <summary>Takes the board's own addresses: those inside an L3 prefix stay the kernel's (frames to them and ARP
    /// requests / neighbour solicitations for them are not steered). Safe from any thread; ignored once disposed.</summary>
    public void SetBoardAddresses(Routing.BoardAddresses addresses) => _l3?.SetBoardAddresses(addresses);

    /// <summary>The board's addresses inside an L3 prefix, left to the kernel now.</summary>
    public int L3BoardAddressCount => _l3?.BoardCount ?? 0;

    /// <summary>L3 prefixes and board addresses that did not fit the L3 prefix maps (0 normally; logged as an error).</summary>
    public int L3LeftOut => _l3?.LeftOut ?? 0;

    /// <summary>Whether one of the board's addresses is inside an L3 prefix now (per frame: no lock).</summary>
    public bool L3HoldsBoardAddresses => _l3?.HoldsBoardAddresses == true;

    /// <summary>Steers queue <paramref name="queue"/>'s claimed frames to the socket <paramref name="socketFd"/>.</summary>
    public void Register(uint queue, int socketFd) => Steering.Register(queue, socketFd);

    /// <summary>Claims a destination MAC: frames to it go to AF_XDP from now on (configuration time: throws on error).</summary>
    public void Claim(MacAddress mac)
    {
        int errno = TryClaim(mac);
        if (errno != 0) throw new PlatformException("bpf(BPF_MAP_UPDATE_ELEM)", $"claimed MACs of {InterfaceName}", errno);
    }

    /// <summary>Claims a MAC with one bpf() call (the first frame of a newly learned MAC: rare, bounded by the learn
    /// limits); returns 0 or the errno (E2BIG: the map is full) instead of throwing.</summary>
    public int TryClaim(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacToSocket.KeySize];
        WriteKey(key, mac);
        Span<byte> value = stackalloc byte[4];
        value.Clear();
        return BpfSyscall.TryUpdateElem(_claimedFd, key, value);
    }

    /// <summary>Whether frames to <paramref name="mac"/> are steered to AF_XDP (diagnostics and tests).</summary>
    public bool IsClaimed(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacToSocket.KeySize];
        WriteKey(key, mac);
        Span<byte> value = stackalloc byte[4];
        return BpfSyscall.LookupElem(_claimedFd, key, value);
    }

    /// <summary>Releases a claimed MAC (its pair left the port, or a learned MAC aged out): its frames go the
    /// unclaimed way again.</summary>
    public void Release(MacAddress mac)
    {
        Span<byte> key = stackalloc byte[ClaimedMacToSocket.KeySize];
        WriteKey(key, mac);
        BpfSyscall.DeleteElem(_claimedFd, key);
    }

    private static void WriteKey(Span<byte> key, MacAddress mac)
    {
        key.Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(key, (ushort)(mac.Value >> 32));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(key[2..], (uint)mac.Value);
    }

    public void Dispose()
    {
        _steering?.Dispose();
        _steering = null;
        if (_claimedFd >= 0) { LibC.Close(_claimedFd); _claimedFd = -1; }
        _l3?.Dispose();
        _l3 = null;
    }
}
