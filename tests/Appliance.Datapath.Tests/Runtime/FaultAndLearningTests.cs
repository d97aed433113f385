using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Appliance.TestSupport;
using Xunit;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Tests.Runtime;

[Collection(KernelCollection.Name)]
public sealed class FaultAndLearningTests
{
    /// <summary>A program that reads outside its packet is stopped by the runtime checks: the frame is dropped and
    /// counted as a program fault, the appliance keeps forwarding.</summary>
    [PrivilegedFact]
    public void AFaultingProgramDropsItsFrameAndNothingElse()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var fault = new ProgramConfig { Name = "fault", Object = "probe.bpf.o", Section = "tc/fault" };
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "fault"))], [fault]);
        var pair = rt.FindPair(board.PairNames[0]);

        var got = board.ToTenant(0, 0, 3, out _, timeoutMs: FrameProbe.Absence);
        Eventually.Equal(3, () => pair.Primary.Counters.Drops(PairDropReason.ProgramFault), "program fault drops");
        Assert.Empty(got);
        Assert.Equal(3, rt.Programs["fault"].Counters.Faults);
        Assert.True(rt.Engine.IsRunning);
        Assert.Equal(3, board.FromTenant(0, 0, 3, out _).Count); // the other direction is untouched
    }

    /// <summary>A source MAC the tenant sends from is learned: frames from the world to it are claimed (XDP) and
    /// delivered into that tenant.</summary>
    [PrivilegedFact]
    public void ASourceMacTheTenantSendsFromIsLearned()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)]);
        byte[] extra = [0x02, 0x00, 0x00, 0x00, 0x5e, 0x01];
        using var inTenant = PacketSocket.Open(board.Tenants[0].Name, MetaBoard.TenantInterface, TestFrames.EtherType);
        using var outside = PacketSocket.Open(board.Outside.Name, MetaBoard.OutsideInterface(0), TestFrames.EtherType);

        outside.Send(TestFrames.Build(extra, board.OutsideMac(0), 100, 1));
        Assert.Empty(FrameProbe.Silence(inTenant, FrameProbe.Absence)); // not learned yet: unclaimed, to the kernel

        var fromExtra = FrameProbe.Exchange(board.Tenants[0].Name, MetaBoard.TenantInterface, board.Outside.Name, MetaBoard.OutsideInterface(0),
            board.OutsideMac(0), extra, 1, out _);
        Assert.Single(fromExtra);

        var toExtra = TestFrames.Build(extra, board.OutsideMac(0), 100, 2);
        outside.Send(toExtra);
        Assert.Equal([toExtra], FrameProbe.Collect(inTenant, 1, FrameProbe.Timeout));
    }
}
