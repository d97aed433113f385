namespace Appliance.Datapath.Forwarding;

/// <summary>Where the netkit pipeline sends a frame: out of an engine port (a board port, or a pair's primary end
/// = into that tenant), or nowhere (dropped, counted on the side that dropped it).</summary>
public readonly struct Delivery
{
    private Delivery(int enginePort, bool dropped)
    {
        EnginePort = enginePort;
        Dropped = dropped;
    }

    public int EnginePort { get; }
    public bool Dropped { get; }

    public static Delivery To(int enginePort) => new(enginePort, false);
    public static Delivery Drop => new(-1, true);
}
