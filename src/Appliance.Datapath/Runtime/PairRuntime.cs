using Appliance.Config;
using Appliance.Datapath.Pairs;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Runtime;

/// <summary>A running meta pair: the veth whose tenant end lives in the tenant's namespace and whose primary end
/// (named after the pair) the appliance drives through AF_XDP, with both sides' chains and counters.</summary>
public sealed class PairRuntime
{
    /// <param name="index">The engine port index of its primary end's socket: its index everywhere.</param>
    internal PairRuntime(int index, PairConfig config, int uplinkPort)
    {
        Index = index;
        Config = config;
        UplinkPort = uplinkPort;
        Primary = new PairSide(PairSideKind.Primary, config.Primary);
        Peer = new PairSide(PairSideKind.Peer, config.Peer);
    }

    /// <summary>The engine port index of the primary end's socket; the pair's index in classifiers, flood lists and
    /// chains. Stable while the pair exists.</summary>
    public int Index { get; }
    public string Name => Config.Name;
    /// <summary>Its part of the running config (replaced when a reload changes the pair in place, between batches).</summary>
    public PairConfig Config
    {
        get => _config;
        internal set
        {
            _config = value;
            ServesRouter = value.Tenant.Serves.Contains(TenantService.Router);
            ServesDhcp = value.Tenant.Serves.Contains(TenantService.Dhcp);
            TrunksVlans = value.Tenant.Serves.Contains(TenantService.Vlans);
            int limit = DhcpClientIds.LimitFor(value.LearnLimit);
            if (DhcpClients?.Limit != limit) DhcpClients = new DhcpClientIds(limit, DhcpClients);
        }
    }
    private PairConfig _config = null!;

    /// <summary>The tenant may send what only a router sends (<see cref="TenantService.Router"/>, <see cref="ServiceGuard"/>).</summary>
    public bool ServesRouter { get; private set; }
    /// <summary>The tenant may send what only a DHCP server or relay sends (<see cref="TenantService.Dhcp"/>).</summary>
    public bool ServesDhcp { get; private set; }
    /// <summary>The tenant may send frames it tagged itself (<see cref="TenantService.Vlans"/>, <see cref="TenantGuard"/>).</summary>
    public bool TrunksVlans { get; private set; }
    /// <summary>The uplink's engine port index (changed by a reload, between batches).</summary>
    public int UplinkPort { get; internal set; }
    public PairSide Primary { get; }
    public PairSide Peer { get; }
    /// <summary>The DHCP client identities the tenant used lately, bounded by its learnLimit (replaced, keeping what it
    /// holds, when a reload changes that).</summary>
    public DhcpClientIds DhcpClients { get; private set; } = null!;
    /// <summary>Source-MAC learning on the uplink for this pair's tenant.</summary>
    public LearnCounters Learning { get; } = new();

    /// <summary>Asks <paramref name="tables"/> to resolve an unknown next hop this pair's frame met (the L3 router and
    /// bpf_redirect_neigh), within the pair's share: at most <see cref="NeighbourRequestsPerSecond"/> a second.</summary>
    public void RequestResolve(Appliance.Bpf.Routing.IFibTables tables, Appliance.Bpf.Routing.IpFamily family, int ifindex, ReadOnlySpan<byte> nextHop)
    {
        if (_neighbourRequests.TryEnter(out _)) tables.RequestResolve(family, ifindex, nextHop);
    }

    /// <summary>How many unknown neighbours this pair's routed frames may ask the board's kernel to resolve: at most
    /// <see cref="NeighbourRequestsPerSecond"/> a second. A tenant sending to ever new unresolved on-link addresses (a
    /// neighbour table flood: an IPv6 /64 holds any number) then cannot fill the kernel's neighbour table — one for
    /// the whole host, 1024 entries by default (gc_thresh3), in-progress ones not reclaimed — nor the queue to the
    /// table thread, for the other tenants and the board; its further frames to unknown neighbours are dropped as
    /// <c>noNeighbour</c> without asking.</summary>
    private readonly RateLimited _neighbourRequests = new(NeighbourRequestsPerSecond, TimeSpan.FromSeconds(1));

    public const int NeighbourRequestsPerSecond = 16;

    /// <summary>The primary end (in the appliance's namespace): the pair's name, or the adopted veth end's name.</summary>
    public string PrimaryName => Config.PrimaryInterface ?? Config.Name;

    /// <summary>The veth existed before the appliance (config primaryInterface): never created, moved, re-addressed or deleted.</summary>
    public bool Adopted => Config.PrimaryInterface is not null;
    public int PrimaryIfindex { get; internal set; }
    public MacAddress PrimaryMac { get; internal set; }
    /// <summary>Engine port index of the primary end's AF_XDP socket (= <see cref="Index"/>).</summary>
    public int PrimaryPort => Index;
    /// <summary>The tenant's interface index inside its namespace (what a primary program sees as ctx->ifindex).</summary>
    public int TenantIfindex { get; internal set; }
    public MacAddress TenantMac { get; internal set; }
    /// <summary>The tenant namespace was created for this pair (deleted with it).</summary>
    internal bool NamespaceCreated { get; set; }

    /// <summary>Both ends up (the veth's carrier): the pair forwards only then. Written by the link watcher.</summary>
    public bool CarrierUp
    {
        get => Volatile.Read(ref _carrier);
        internal set => Volatile.Write(ref _carrier, value);
    }
    private bool _carrier;

    public PairSide Side(PairSideKind kind) => kind == PairSideKind.Primary ? Primary : Peer;
}
