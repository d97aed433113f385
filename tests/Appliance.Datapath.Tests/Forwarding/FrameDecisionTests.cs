using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>The pipeline's <see cref="FrameDecision"/> keeps its pair and program references from frame to frame (a
/// reference store into the heap costs a GC write barrier) and reads only those the current frame set: what a capture
/// comment or a replay report reads after a frame is that frame's, never the one before's. On an offline topology
/// through the engine: port eth0, L2 pair a (no chain: its policy decides) and c (its primary chain runs vlan_tag).</summary>
public sealed class FrameDecisionTests
{
    private const int Eth0 = 0, A = 1, C = 2;
    private static readonly byte[] Outside = [0x02, 0, 0, 0, 0x0e, 0x01];
    private static byte[] Mac(int pair) => [0x02, 0, 0, 0, 0x0a, (byte)pair];

    [Fact]
    public void A_frame_reads_only_the_pairs_and_program_it_met_not_the_last_frames()
    {
        var topology = ConfigTopology.From("""
            {
              "board": "test",
              "ports": [{ "name": "eth0", "unclaimed": "drop" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:01" } },
                { "name": "c", "mode": "l2", "uplink": "eth0", "headroom": 4,
                  "tenant": { "netns": "tc", "interface": "eth0", "mac": "02:00:00:00:0a:02" },
                  "primary": { "policy": "pass", "chain": [{ "program": "tag" }] } }
              ],
              "programs": [{ "name": "tag", "object": "vlan_tag.bpf.o", "section": "tc" }]
            }
            """, Runtime.TestObjects.Directory);
        using var handler = new PairFrameHandler(new TopologySource(topology));
        using var board = new FakeBoard(handler, ports: topology.EnginePortCount);
        PairRuntime a = topology.PairByEnginePort[A]!, c = topology.PairByEnginePort[C]!;

        // Into c: its program decides.
        Decide(board, TestFrames.Build(Mac(C), Outside, 100, 1));
        var d = handler.Pipeline.Decision;
        Assert.Same(c, d.EntryPair);
        Assert.Same(c, d.Pair);
        Assert.Equal(PairSideKind.Primary, d.Side);
        Assert.Equal("tag", d.Program?.Name);

        // Into a after it: a's policy decides, no program; the pair is a.
        Decide(board, TestFrames.Build(Mac(A), Outside, 100, 2));
        d = handler.Pipeline.Decision;
        Assert.Same(a, d.EntryPair);
        Assert.Same(a, d.Pair);
        Assert.Null(d.Program);

        // Into c again, then a frame no pair owns: it entered none.
        Decide(board, TestFrames.Build(Mac(C), Outside, 100, 3));
        Assert.NotNull(handler.Pipeline.Decision.Program);
        Decide(board, TestFrames.Build([0x02, 0, 0, 0, 0x0b, 0x01], Outside, 100, 4));
        d = handler.Pipeline.Decision;
        Assert.Null(d.EntryPair);
        Assert.Null(d.Pair);
        Assert.Null(d.Program);
        Assert.False(d.Touched(c, PairSideKind.Primary));
        Assert.False(d.Touched(a, PairSideKind.Primary));
        board.AssertClean();
    }

    private static void Decide(FakeBoard board, byte[] frame)
    {
        Assert.Equal(1, board.Kernel(Eth0).Deliver([frame]));
        board.Settle();
    }
}
