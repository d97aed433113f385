namespace Appliance.Config;

/// <summary>The peer end as the tenant sees it: which namespace, which name, which addresses.</summary>
public sealed record TenantConfig
{
    /// <summary>Network namespace name (as in `ip netns`); created when missing.</summary>
    public required string Netns { get; init; }

    /// <summary>Interface name inside the namespace.</summary>
    public required string Interface { get; init; }

    /// <summary>Tenant MAC; null lets the appliance learn it from what the tenant sends.</summary>
    public MacAddress? Mac { get; set; }

    public int Mtu { get; set; } = 1500;

    /// <summary>Addresses with prefix length, as `ip addr add` takes them.</summary>
    public IReadOnlyList<InterfaceAddress> Addresses { get; set; } = [];

    /// <summary>What an L2 tenant serves on its uplink's LAN besides being a host: router advertisements and redirects
    /// ("router"), DHCP answers ("dhcp"), frames it tagged itself ("vlans": it receives tagged frames too). Empty
    /// (default): its peer side drops those messages and frames, and its primary side tagged frames coming in.</summary>
    public IReadOnlyList<TenantService> Serves { get; set; } = [];
}
