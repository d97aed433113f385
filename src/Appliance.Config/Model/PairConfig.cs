namespace Appliance.Config;

/// <summary>A meta pair: the tenant's interface (peer) and the appliance's end (primary).</summary>
public sealed record PairConfig
{
    /// <summary>Pair name (at most 15 characters, so the primary end can carry it as interface name).</summary>
    public required string Name { get; init; }

    public required PairMode Mode { get; init; }

    /// <summary>Name of the port that the primary side transmits on.</summary>
    public required string Uplink { get; init; }

    public required TenantConfig Tenant { get; init; }

    /// <summary>Adopt an existing veth instead of creating one: the primary end already exists under this name in
    /// the appliance's namespace and its veth peer is the tenant's interface (tenant.netns/tenant.interface). The
    /// appliance neither creates, moves, re-addresses nor deletes them (e.g. a veth made by a container runtime).
    /// Null (default): the appliance creates the veth and names the primary end after the pair.</summary>
    public string? PrimaryInterface { get; set; }

    /// <summary>Source MACs the tenant may use besides its own interface's MAC (learned from what it sends, claimed on
    /// the uplink, forgotten after the ageing time). Bounds what one tenant can take of the port's claimed-MAC table.</summary>
    public int LearnLimit { get; set; } = ConfigLimits.DefaultLearnLimit;

    /// <summary>Bytes reserved in front of every frame so programs can push headers.</summary>
    public int Headroom { get; set; }

    /// <summary>Bytes reserved behind every frame so programs can grow it.</summary>
    public int Tailroom { get; set; }

    /// <summary>World → tenant side (BPF_NETKIT_PRIMARY).</summary>
    public PairSideConfig Primary { get; set; } = new();

    /// <summary>Tenant → world side (BPF_NETKIT_PEER).</summary>
    public PairSideConfig Peer { get; set; } = new();
}
