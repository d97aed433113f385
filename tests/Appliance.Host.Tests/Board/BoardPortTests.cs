using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Host.Tests.Board;

/// <summary>The board's two Ethernet ports are wired to the host harness (UDP on 127.0.0.1): frames sent into one
/// come out of the other, through a kernel bridge (the wiring itself) and through `meta-appliance forward`
/// (AF_XDP in the guest). The service is off on this board so the ports are free.</summary>
[Collection(KernelCollection.Name)]
public sealed class BoardPortTests(BootedBoardWithoutService booted, ITestOutputHelper output) : IClassFixture<BootedBoardWithoutService>
{
    private SerialConsole Console => booted.Board.Console;

    [Fact]
    public void FramesSentIntoEth0LeaveEth1ThroughAGuestBridge()
    {
        GuestPath.StartBridge(Console);
        try
        {
            var n = FrameExchange.AssertFramesCross(booted.Board.Ports[0], booted.Board.Ports[1], 20, TimeSpan.FromSeconds(30));
            output.WriteLine($"eth0 -> br0 -> eth1: {n} test frames received intact");
            FrameExchange.AssertFramesCross(booted.Board.Ports[1], booted.Board.Ports[0], 10, TimeSpan.FromSeconds(30));
        }
        finally
        {
            GuestPath.StopBridge(Console);
        }
    }

    [Fact]
    public void FramesSentIntoEth0LeaveEth1ThroughMetaApplianceForward()
    {
        Assert.True(GuestPath.ApplianceHasVerb(Console, "forward"),
            "meta-appliance has no `forward --in IF --out IF` verb yet (src/Appliance.Datapath + Commands); the NIC wiring itself is proven by the bridge test");
        GuestPath.StartForward(Console);
        try
        {
            var n = FrameExchange.AssertFramesCross(booted.Board.Ports[0], booted.Board.Ports[1], 20, TimeSpan.FromSeconds(30));
            output.WriteLine($"eth0 -> meta-appliance forward (AF_XDP) -> eth1: {n} test frames received intact");
        }
        finally
        {
            output.WriteLine(GuestPath.StopForward(Console));
        }
    }
}
