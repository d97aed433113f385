namespace Appliance.Bpf.Routing;

/// <summary>One interface as the routing helpers see it: MTU, MAC (all zero for a device without one, e.g. NOARP
/// L3), administratively up, and whether it forwards IPv4 (net.ipv4.conf.DEV.forwarding) and IPv6
/// (net.ipv6.conf.DEV.forwarding).</summary>
public struct FibInterface
{
    public int Mtu;
    public MacBytes Mac;
    public bool Up;
    public bool Forwarding4;
    public bool Forwarding6;

    public readonly bool Forwards(IpFamily family) => family == IpFamily.Inet6 ? Forwarding6 : Forwarding4;
}
