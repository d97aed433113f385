namespace Appliance.Config;

/// <summary>A board Ethernet interface the appliance owns.</summary>
public sealed record PortConfig
{
    /// <summary>Kernel interface name, e.g. "eth0".</summary>
    public required string Name { get; init; }

    /// <summary>What happens to frames that match no pair.</summary>
    public UnclaimedPolicy Unclaimed { get; set; } = UnclaimedPolicy.Kernel;

    /// <summary>MAC to set on the port; null leaves the board's own.</summary>
    public MacAddress? Mac { get; set; }

    /// <summary>MTU to set on the port; null leaves it as it is.</summary>
    public int? Mtu { get; set; }

    /// <summary>RX queues to use, 1..<see cref="ConfigLimits.MaxPortQueues"/>: the port's channel count is set to it
    /// (`ethtool -L`, up or down, at most the driver's maximum) and it gets one socket per queue; null: every queue it
    /// has, widened to one per worker where its driver allows.</summary>
    public int? Queues { get; set; }
}
