using Appliance.Config;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Xunit;

namespace Appliance.Datapath.Tests.Replay;

/// <summary>bpf_check_mtu in the datapath answers with the pair's configured MTU (the VM's MTU source is the
/// topology), and -ENODEV for an interface the appliance does not have.</summary>
public sealed class CheckMtuReplayTests
{
    [Fact]
    public void ProgramsSeeTheirPairsMtu()
    {
        string dir = Path.Combine(TestObjects.Directory, "check-mtu");
        Directory.CreateDirectory(dir);
        TestObjects.Build("mtu_probe", Path.Combine(dir, "mtu_probe.bpf.o"));
        string file = Path.Combine(dir, "mtu.json");
        File.WriteAllText(file, $$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0", "mtu": 9000 }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mtu": 1400 },
                  "peer": { "chain": [{ "program": "probe" }] } },
                { "name": "b", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "tb", "interface": "eth0", "mtu": 2000 },
                  "peer": { "chain": [{ "program": "probe" }] } }
              ],
              "programs": [{ "name": "probe", "object": "{{dir}}/mtu_probe.bpf.o", "section": "tc" }]
            }
            """);
        var result = ConfigLoader.LoadFile(file); // as `replay --config FILE` loads it
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        var offline = OfflineTopology.Build(result.Config!, dir);
        using var replayer = new FrameReplayer(offline);
        var frame = new byte[60];
        frame[0] = 0x02; frame[6] = 0x02; frame[12] = 0x08;
        foreach (var (pair, mtu) in new[] { (0, 1400), (1, 2000) })
        {
            frame[11] = (byte)(pair + 1); // each tenant from a MAC of its own (one another pair owns is dropped)
            var run = replayer.Replay(ReplayInput.AtSide(offline.Topology.Pairs[pair], PairSideKind.Peer), frame);
            Assert.Contains($"mtu {mtu} fits 0 missing -19", Assert.Single(run.Trace));
        }
        Assert.Equal(9000, offline.Topology.MtuOf((uint)offline.Topology.Ports[0].Ifindex));
    }
}
