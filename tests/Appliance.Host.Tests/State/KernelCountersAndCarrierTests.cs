using Appliance.Datapath.Links;
using Appliance.Datapath.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Appliance.TestSupport;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.State;

/// <summary>The state feeds of the activity and link triggers against the real kernel.</summary>
[Collection(KernelCollection.Name)]
public sealed class KernelCountersAndCarrierTests
{
    [Fact]
    public void Port_packet_counter_moves_with_traffic_on_loopback()
    {
        var counter = KernelPacketCounter.For("lo");
        var before = counter();
        using (var udp = new UdpClient(AddressFamily.InterNetwork))
            for (var i = 0; i < 20; i++) udp.Send([1, 2, 3], 3, new IPEndPoint(IPAddress.Loopback, 9));
        Assert.True(counter() >= before + 20, $"lo counter went from {before} to {counter()} after 20 datagrams");
        Assert.Equal(0UL, KernelPacketCounter.For("mapp-none0")());
    }

    [PrivilegedFact]
    public void Carrier_follows_a_veth_going_up_and_down()
    {
        using var ns = new NetNamespace("carrier");
        var a = NetNamespace.UniqueInterface("mapp");
        var b = NetNamespace.UniqueInterface("mapp");
        Shell.Check("ip", "link", "add", a, "type", "veth", "peer", "name", b);
        try
        {
            var state = new ApplianceState();
            var port = state.Interface(a);
            using var links = new LinkWatcher();
            using var monitor = new LinkCarrierMonitor(state, [a], links);
            Assert.False(port.Carrier);

            Shell.Check("ip", "link", "set", a, "up");
            Shell.Check("ip", "link", "set", b, "up");
            Assert.True(Eventually.True(() => port.Carrier, 20_000), "carrier did not come up");

            Shell.Check("ip", "link", "set", b, "down");
            Assert.True(Eventually.True(() => !port.Carrier, 20_000), "carrier did not go down with the peer");

            Shell.Check("ip", "link", "set", b, "up");
            Assert.True(Eventually.True(() => port.Carrier, 20_000), "carrier did not come back");
            Shell.Check("ip", "link", "set", a, "down");
            Assert.True(Eventually.True(() => !port.Carrier, 20_000), "an administratively down port still showed carrier");
        }
        finally
        {
            Shell.Run("ip", "link", "del", a);
        }
    }
}
