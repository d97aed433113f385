using System.Buffers.Binary;
using Appliance.Config;
using Appliance.Datapath.Replay;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Tests.Runtime;
using Xunit;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Tests.Replay;

/// <summary>Replay runs the datapath's own decision on a config offline (no root, no network): verdicts, programs
/// run, trace_printk lines, changed frames, and state (maps, learned MACs) carried from frame to frame.</summary>
public sealed class FrameReplayerTests
{
    private static readonly byte[] MacA = [0x02, 0, 0, 0, 0x0a, 0x02], MacB = [0x02, 0, 0, 0, 0x0b, 0x02], Outside = [0x02, 0, 0, 0, 0, 0x99];

    private static OfflineTopology Load()
    {
        string dir = TestObjects.Directory;
        string file = Path.Combine(dir, $"replay-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, $$"""
            {
              "board": "test",
              "ports": [{ "name": "eth0" }, { "name": "eth1", "unclaimed": "drop" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0" },
                  "peer": { "chain": [{ "program": "trace" }, { "program": "allow-dns" }] } },
                { "name": "b", "mode": "l2", "uplink": "eth1", "headroom": 4,
                  "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0b:02" },
                  "peer": { "chain": [{ "program": "vlan" }] } }
              ],
              "programs": [
                { "name": "trace", "object": "{{dir}}/trace.bpf.o", "section": "tc/trace" },
                { "name": "allow-dns", "object": "{{dir}}/allow_port.bpf.o", "section": "netkit/peer", "maps": { "allowed_ports": [{ "key": 53, "value": 0 }] } },
                { "name": "vlan", "object": "{{dir}}/vlan_tag.bpf.o", "section": "tc" }
              ]
            }
            """);
        var result = ConfigLoader.LoadFile(file); // as `replay --config FILE` loads it
        File.Delete(file);
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return OfflineTopology.Build(result.Config!, dir);
    }

    /// <summary>An Ethernet + IPv4 + UDP frame (46 bytes).</summary>
    private static byte[] Udp(byte[] dst, byte[] src, ushort dport)
    {
        var f = new byte[46];
        dst.CopyTo(f, 0);
        src.CopyTo(f, 6);
        f[12] = 0x08;
        f[14] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), 32);
        f[22] = 64;
        f[23] = 17;
        new byte[] { 10, 0, 0, 2, 10, 0, 0, 1 }.CopyTo(f, 26);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(34), 4000);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(36), dport);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(38), 12);
        return f;
    }

    [Fact]
    public void ThePeerChainDecidesEachFrameAndItsProgramsAndTracesAreReported()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var a = offline.Topology.Pairs[0];
        var dns = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Udp(Outside, MacA, 53));
        Assert.Equal("verdict=pass side=a/peer program=allow-dns target=eth0", dns.Decision);
        Assert.Equal(["trace", "allow-dns"], dns.Programs.Select(p => p.Program));
        Assert.Equal([-1L, 0L], dns.Programs.Select(p => p.Verdict));
        Assert.Contains("frame len 46 mark 0", Assert.Single(dns.Trace));
        Assert.Equal(Udp(Outside, MacA, 53), dns.Output);

        var ssh = replayer.Replay(ReplayInput.AtSide(a, PairSideKind.Peer), Udp(Outside, MacA, 22));
        Assert.Equal("verdict=drop side=a/peer program=allow-dns reason=verdict", ssh.Decision);
        Assert.Equal(("drop", "verdict", (string?)null), (ssh.Verdict, ssh.Reason, ssh.Target));
        Assert.Null(ssh.Output);
        Assert.Equal(1, a.Peer.Counters.Drops(PairDropReason.Verdict));
    }

    [Fact]
    public void StateCarriesOverLearnedMacsAndMapCounters()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var toA = Udp(MacA, Outside, 53);
        var before = replayer.Replay(ReplayInput.AtPort(0), toA);
        Assert.Equal("verdict=kernel reason=unclaimed", before.Decision); // a's MAC is not configured: not known yet
        replayer.Replay(ReplayInput.AtSide(offline.Topology.Pairs[0], PairSideKind.Peer), Udp(Outside, MacA, 53));
        var after = replayer.Replay(ReplayInput.AtPort(0), toA);
        Assert.Equal("verdict=pass side=a/primary policy=pass target=a", after.Decision);
        replayer.Replay(ReplayInput.AtSide(offline.Topology.Pairs[0], PairSideKind.Peer), Udp(Outside, MacA, 53));
        var hits = new byte[8];
        Assert.True(offline.Programs["allow-dns"].Object.FindMap("allowed_ports")!.TryLookupFromUser(BitConverter.GetBytes((ushort)53), hits));
        Assert.Equal(2UL, BitConverter.ToUInt64(hits));
        var unclaimed = replayer.Replay(ReplayInput.AtPort(1), Udp(MacA, Outside, 53));
        Assert.Equal("verdict=drop reason=unclaimed", unclaimed.Decision);
    }

    /// <summary>As live: the port's XDP passes a group frame to the kernel (even where unclaimed frames are dropped)
    /// and the flooder puts a copy through the primary chain of each L2 pair on that port.</summary>
    [Fact]
    public void ABroadcastFromAPortGoesToTheKernelAndACopyIntoEachL2PairOnIt()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        byte[] broadcast = Udp([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Outside, 67);
        var onEth0 = replayer.Replay(ReplayInput.AtPort(0), broadcast);
        Assert.Equal("verdict=kernel reason=unclaimed", onEth0.Decision);
        var copy = Assert.Single(onEth0.Copies);
        Assert.Equal("verdict=pass side=a/primary policy=pass target=a", copy.Decision);
        Assert.Equal(broadcast, copy.Output);
        var onEth1 = replayer.Replay(ReplayInput.AtPort(1), broadcast); // eth1 drops unclaimed unicast, not group frames
        Assert.Equal("verdict=kernel reason=unclaimed", onEth1.Decision);
        Assert.Equal("verdict=pass side=b/primary policy=pass target=b", Assert.Single(onEth1.Copies).Decision);
        var unicast = replayer.Replay(ReplayInput.AtPort(1), Udp(Outside, MacA, 67));
        Assert.Equal("verdict=drop reason=unclaimed", unicast.Decision);
        Assert.Empty(unicast.Copies);
    }

    [Fact]
    public void AProgramsFrameChangeIsInTheOutput()
    {
        var offline = Load();
        using var replayer = new FrameReplayer(offline);
        var sent = Udp(Outside, MacB, 80);
        var r = replayer.Replay(ReplayInput.AtSide(offline.Topology.Pairs[1], PairSideKind.Peer), sent);
        Assert.Equal("verdict=pass side=b/peer program=vlan target=eth1", r.Decision);
        Assert.NotNull(r.Output);
        Assert.Equal(sent.Length + 4, r.Output.Length);
        Assert.Equal(0x8100, BinaryPrimitives.ReadUInt16BigEndian(r.Output.AsSpan(12)));
        Assert.Equal(sent[12..], r.Output[16..]);
        Assert.Equal("verdict=drop reason=invalidFrame", replayer.Replay(ReplayInput.AtPort(0), new byte[10]).Decision);
    }
}
