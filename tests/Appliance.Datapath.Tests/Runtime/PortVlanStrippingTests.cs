using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A port's received frames keep their VLAN tags in their bytes while the appliance holds it: a device that
/// strips the outer 802.1Q tag into metadata (`rx-vlan-offload`, on by default on veth and most NICs) hands XDP and
/// AF_XDP frames without it, and the tenants' VLAN checks would take another VLAN's frames for untagged ones.</summary>
[Collection(KernelCollection.Name)]
public sealed class PortVlanStrippingTests
{
    [PrivilegedFact]
    public void APortStripsNoVlanTagWhileClaimedAndDoesAgainAfterTheApplianceStops()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        string port = board.Ports[0];
        Assert.Equal("on", RxVlanOffload(port)); // a veth's default
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        Assert.Equal("off", RxVlanOffload(port));
        rt.Dispose();
        Assert.Equal("on", RxVlanOffload(port)); // put back as it was
    }

    [PrivilegedFact]
    public void APortThatStrippedNoTagBeforeIsLeftSoAfterTheApplianceStops()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        string port = board.Ports[0];
        Shell.Check("ethtool", "-K", port, "rxvlan", "off");
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        Assert.Equal("off", RxVlanOffload(port));
        rt.Dispose();
        Assert.Equal("off", RxVlanOffload(port)); // the appliance turned nothing off, so it turns nothing on
    }

    /// <summary>`ethtool -k` "rx-vlan-offload" value ("on"/"off").</summary>
    private static string RxVlanOffload(string name) =>
        Shell.Check("ethtool", "-k", name).Split('\n').Single(l => l.StartsWith("rx-vlan-offload:", StringComparison.Ordinal))
            .Split(':')[1].Trim().Split(' ')[0];
}
