using Appliance.Datapath.Runtime;
using Xunit;
using Channels = Appliance.Interop.IoctlEthtool.Channels;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Which channels <see cref="PortQueues"/> asks a driver for (`ethtool -L`), from what the driver reports
/// (ETHTOOL_GCHANNELS). The real-kernel cases (a veth port widened, released, restored) are in
/// <see cref="MultiWorkerRuntimeTests"/>.</summary>
public sealed class PortQueuesTests
{
    [Fact]
    public void A_combined_channel_driver_gets_more_combined_channels_and_nothing_else_changes()
    {
        var nic = new Channels(MaxRx: 0, MaxTx: 0, MaxOther: 1, MaxCombined: 8, Rx: 0, Tx: 0, Other: 1, Combined: 1);
        Assert.Equal(nic with { Combined = 4 }, PortQueues.Target(nic, workers: 4));
    }

    [Fact]
    public void A_driver_with_separate_rx_and_tx_channels_gets_as_many_of_each()
    {
        var veth = new Channels(MaxRx: 4, MaxTx: 4, MaxOther: 0, MaxCombined: 0, Rx: 1, Tx: 1, Other: 0, Combined: 0);
        Assert.Equal(veth with { Rx = 2, Tx = 2 }, PortQueues.Target(veth, workers: 2));
        // More TX channels than RX ones already: TX stays.
        Assert.Equal(veth with { Rx = 2, Tx = 3 }, PortQueues.Target(veth with { Tx = 3 }, workers: 2));
    }

    [Fact]
    public void A_lower_maximum_gives_the_maximum()
    {
        var nic = new Channels(MaxRx: 0, MaxTx: 0, MaxOther: 0, MaxCombined: 2, Rx: 0, Tx: 0, Other: 0, Combined: 1);
        Assert.Equal(nic with { Combined = 2 }, PortQueues.Target(nic, workers: 4));
        var veth = new Channels(MaxRx: 3, MaxTx: 1, MaxOther: 0, MaxCombined: 0, Rx: 1, Tx: 1, Other: 0, Combined: 0);
        Assert.Equal(veth with { Rx = 3 }, PortQueues.Target(veth, workers: 4));
    }

    [Fact]
    public void Nothing_when_no_channel_setting_gives_more_rx_queues()
    {
        var full = new Channels(MaxRx: 0, MaxTx: 0, MaxOther: 0, MaxCombined: 2, Rx: 0, Tx: 0, Other: 0, Combined: 2);
        Assert.Null(PortQueues.Target(full, workers: 4));
        var oneQueueVeth = new Channels(MaxRx: 1, MaxTx: 1, MaxOther: 0, MaxCombined: 0, Rx: 1, Tx: 1, Other: 0, Combined: 0);
        Assert.Null(PortQueues.Target(oneQueueVeth, workers: 2));
        Assert.Null(PortQueues.Target(default, workers: 2)); // a driver reporting no channels at all
        // Enough queues already: nothing to add.
        Assert.Null(PortQueues.Target(full with { MaxCombined = 8 }, workers: 2));
    }

    /// <summary>A configured count (`ports[].queues`) is set exactly, down as well as up: RX and TX channels together on
    /// a driver with separate ones, combined channels on one that has them.</summary>
    [Fact]
    public void A_configured_count_is_set_exactly_up_or_down()
    {
        var veth = new Channels(MaxRx: 4, MaxTx: 4, MaxOther: 0, MaxCombined: 0, Rx: 4, Tx: 4, Other: 0, Combined: 0);
        Assert.Equal(veth with { Rx = 2, Tx = 2 }, PortQueues.Exactly(veth, 2));
        Assert.Equal(veth with { Rx = 3, Tx = 3 }, PortQueues.Exactly(veth with { Rx = 1, Tx = 1 }, 3));
        Assert.Equal(veth, PortQueues.Exactly(veth, 4));
        var nic = new Channels(MaxRx: 0, MaxTx: 0, MaxOther: 1, MaxCombined: 8, Rx: 0, Tx: 0, Other: 1, Combined: 8);
        Assert.Equal(nic with { Combined = 1 }, PortQueues.Exactly(nic, 1));
        Assert.Equal(nic with { Combined = 6 }, PortQueues.Exactly(nic with { Combined = 2 }, 6));
    }

    [Fact]
    public void A_configured_count_above_the_drivers_maximum_gives_the_maximum()
    {
        var nic = new Channels(MaxRx: 0, MaxTx: 0, MaxOther: 0, MaxCombined: 4, Rx: 0, Tx: 0, Other: 0, Combined: 2);
        Assert.Equal(nic with { Combined = 4 }, PortQueues.Exactly(nic, 16));
        var veth = new Channels(MaxRx: 3, MaxTx: 2, MaxOther: 0, MaxCombined: 0, Rx: 1, Tx: 1, Other: 0, Combined: 0);
        Assert.Equal(veth with { Rx = 3, Tx = 2 }, PortQueues.Exactly(veth, 8));
        Assert.Null(PortQueues.Exactly(default, 2)); // a driver reporting no channels at all
    }
}
