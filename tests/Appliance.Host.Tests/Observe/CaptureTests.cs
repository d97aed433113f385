using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Appliance.Datapath.Capture;
using Appliance.Host.Tests.Run;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Host.Tests.Observe;

/// <summary>`capture` on a running appliance, read by tcpdump, tshark and our own reader; and `replay` of what was
/// captured, through the same config, deciding exactly as the live datapath did.</summary>
[Collection(KernelCollection.Name)]
public sealed class CaptureTests
{
    private const int EchoFrameBytes = 98; // Ethernet 14 + IPv4 20 + ICMP 8 + ping's 56 bytes of data

    [PrivilegedFact]
    public void HundredPingsThroughAPairAreCapturedWithVerdictsAndDropsWithTheirReasons()
    {
        using var ob = new ObserveBoard();
        var b = ob.Board;
        string file = Path.Combine(ob.CaptureFolder, "pings.pcapng");
        using var capture = CaptureProcess.Start(b.Socket, b.Pair, "--out", file);
        Shell.Check("ip", "netns", "exec", b.Outside.Name, "ping", "-c", "100", "-i", "0.01", "-W", "2", "-q", RunBoard.TenantAddress);
        ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 22, 5); // allow_port drops these (only 53 is allowed)
        ob.Eventually(s => ObserveBoard.Side(s, b.Pair, "peer").GetProperty("drops").GetProperty("verdict").GetInt64() == 5, "5 verdict drops");
        Assert.Equal(0, capture.Interrupt());
        Assert.Contains("lost", capture.StdErr);

        var ours = CaptureFileReader.Read(file);
        Assert.Equal([$"{b.Pair}/primary", $"{b.Pair}/peer"], ours.Interfaces.Select(i => i.Name));
        int tcpdumpCount = Shell.Check("tcpdump", "-nr", file).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var tshark = Shell.Check("tshark", "-r", file, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.len",
                "-e", "frame.packet_flags_direction", "-e", "icmp.type", "-e", "frame.comment")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).ToList();
        Assert.Equal(ours.Records.Count, tcpdumpCount);
        Assert.Equal(ours.Records.Count, tshark.Count);

        // Echo requests came in from the port into the primary side and went out into the tenant; replies the other way.
        foreach (var (side, type, why) in new[] { ("primary", "8", "program=count target=" + b.Pair), ("peer", "0", "program=allow target=" + b.Port) })
        {
            foreach (var direction in new[] { "1", "2" })
            {
                var rows = tshark.Where(r => r[0] == $"{b.Pair}/{side}" && r[3] == type && Convert.ToUInt32(r[2], 16) % 4 == uint.Parse(direction)).ToList();
                Assert.Equal(100, rows.Count);
                Assert.Equal(100 * EchoFrameBytes, rows.Sum(r => int.Parse(r[1])));
                Assert.All(rows, r => Assert.Equal($"verdict=pass side={b.Pair}/{side} {why}", r[4]));
            }
        }
        var drops = ours.Records.Where(r => r.Comment!.StartsWith("verdict=drop", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, drops.Count);
        Assert.All(drops, r => Assert.Equal($"verdict=drop side={b.Pair}/peer program=allow reason=verdict", r.Comment));
        Assert.All(drops, r => Assert.Equal(PacketDirection.Inbound, r.Direction));
        Assert.Equal(5, ObserveBoard.Side(ob.Stats(), b.Pair, "peer").GetProperty("drops").GetProperty("verdict").GetInt64());
    }

    /// <summary>Broadcast is decided by the group-frame flooder (its own thread, an AF_PACKET copy per L2 pair), not by
    /// the forwarding worker: a capture sees it all the same, in at the pair's primary side and out into the tenant.</summary>
    [PrivilegedFact]
    public void BroadcastFloodedIntoAPairIsCaptured()
    {
        using var ob = new ObserveBoard();
        var b = ob.Board;
        string file = Path.Combine(ob.CaptureFolder, "broadcast.pcapng");
        long before = ObserveBoard.Side(ob.Stats(), b.Pair, "primary").GetProperty("txPackets").GetInt64();
        using (var capture = CaptureProcess.Start(b.Socket, b.Pair, "--side", "primary", "--out", file))
        {
            b.Outside.Exec("python3", "-c",
                "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n" +
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'o0')\n" +
                "for i in range(5): s.sendto(b'broadcast-%d' % i, ('255.255.255.255', 7777))");
            ob.Eventually(st => ObserveBoard.Side(st, b.Pair, "primary").GetProperty("txPackets").GetInt64() >= before + 5, "5 broadcasts flooded into the tenant");
            Assert.Equal(0, capture.Interrupt());
        }
        var ours = CaptureFileReader.Read(file);
        var broadcasts = ours.Records.Where(r => IsUdpTo(r.Data, 7777)).ToList();
        Assert.All(broadcasts, r => Assert.True(r.Data.AsSpan(0, 6).SequenceEqual(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }), "broadcast destination"));
        Assert.Equal(5, broadcasts.Count(r => r.Direction == PacketDirection.Inbound));
        Assert.Equal(5, broadcasts.Count(r => r.Direction == PacketDirection.Outbound));
        Assert.All(broadcasts, r => Assert.Equal($"verdict=pass side={b.Pair}/primary program=count target={b.Pair}", r.Comment));
        var tcpdump = Shell.Check("tcpdump", "-nr", file, "udp port 7777").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, tcpdump.Length);
    }

    /// <summary>A capture client that asks for a capture on the control socket and then reads nothing: once the appliance's
    /// sends to it block (its socket's buffer is full), forwarding goes on (the workers drop into the capture's rings and
    /// count), and within <see cref="Appliance.Host.Control.ControlServer.StreamStallTimeout"/> the appliance ends that
    /// capture, so another can start; before, the stalled send held the one capture until the appliance restarted.</summary>
    [PrivilegedFact]
    public void ACaptureClientThatReadsNothingLosesTheCaptureAndForwardingGoesOn()
    {
        using var ob = new ObserveBoard();
        var b = ob.Board;
        var (stalled, answer) = RequestCapture(b.Socket, b.Pair);
        using (stalled)
        {
            Assert.True(answer.GetProperty("ok").GetBoolean(), answer.ToString());
            // Traffic through the pair until the appliance's sends to this client block: its queue stops growing.
            int last = -1;
            for (var deadline = DateTime.UtcNow.AddSeconds(60); stalled.Available != last || last == 0; Thread.Sleep(300))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the capture's queue to the client never filled ({stalled.Available} bytes)\n{ob.App.Output}");
                last = stalled.Available;
                ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 53, 200);
            }
            Assert.True(b.TenantPings(), "the tenant reaches the outside while the capture's client reads nothing\n" + ob.App.Output);

            string refusal = "";
            for (var deadline = DateTime.UtcNow.AddSeconds(40); ; Thread.Sleep(500))
            {
                ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 53, 50); // the appliance's send stays blocked
                var (second, secondAnswer) = RequestCapture(b.Socket, b.Pair);
                second.Dispose(); // gone: the appliance ends this one at once
                if (secondAnswer.GetProperty("ok").GetBoolean()) break;
                refusal = secondAnswer.GetProperty("error").GetString()!;
                Assert.True(DateTime.UtcNow < deadline, $"a second capture never started while the first's client read nothing: {refusal}\n{ob.App.Output}");
            }
            Assert.Contains("another capture is running", refusal); // the first one held it until the appliance gave up on it
            Assert.Contains("took nothing for 10 s; the stream ended", ob.App.Output);
        }
        Assert.True(b.TenantPings(), "the tenant reaches the outside after the stalled capture ended\n" + ob.App.Output);
    }

    /// <summary>The CLI writing a capture to a pipe nobody reads (a paused pager): its own reading of the stream stops,
    /// the appliance ends the capture after the stall timeout, and when the pipe is read again the CLI writes what it
    /// had, says the capture was ended before its statistics and exits 1.</summary>
    [PrivilegedFact]
    public void ACaptureIntoAPipeNobodyReadsIsEndedAndTheCliSaysSo()
    {
        using var ob = new ObserveBoard();
        var b = ob.Board;
        using var paused = CaptureProcess.Start(b.Socket, b.Pair, "--out", "-");
        for (var deadline = DateTime.UtcNow.AddSeconds(60); !ob.App.Output.Contains("took nothing for 10 s", StringComparison.Ordinal); Thread.Sleep(300))
        {
            Assert.True(DateTime.UtcNow < deadline, "the appliance never gave up on the capture nobody read\n" + ob.App.Output);
            ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 53, 200);
        }
        var (exit, bytes) = paused.ReadOutputToEnd();
        Assert.Equal(1, exit);
        Assert.Contains("the appliance ended the capture before its statistics", paused.StdErr);
        Assert.True(bytes > 64 * 1024, $"{bytes} bytes of pcapng: more than the pipe held");
    }

    /// <summary>Asks for a capture on a connection of its own and reads only the answer line.</summary>
    private static (Socket, JsonElement) RequestCapture(string socket, params string[] args)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(socket));
            s.ReceiveTimeout = 20000;
            s.Send(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { verb = "capture", args }) + "\n"));
            var line = new List<byte>();
            var one = new byte[1];
            while (s.Receive(one) == 1 && one[0] != (byte)'\n') line.Add(one[0]);
            return (s, JsonDocument.Parse(line.ToArray()).RootElement);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private static bool IsUdpTo(byte[] frame, int port) =>
        frame.Length >= 38 && frame[12] == 0x08 && frame[13] == 0x00 && frame[23] == 17 && ((frame[14] & 0x0f) * 4 + 14 + 4) <= frame.Length
        && (frame[14 + (frame[14] & 0x0f) * 4 + 2] << 8 | frame[14 + (frame[14] & 0x0f) * 4 + 3]) == port;

    [PrivilegedFact]
    public void ReplayOfACaptureDecidesAsTheLiveDatapathDid()
    {
        using var ob = new ObserveBoard();
        var b = ob.Board;
        Assert.True(b.TenantPings(), "tenant A reaches the outside\n" + ob.App.Output);

        string fileA = Path.Combine(ob.CaptureFolder, "a.pcapng"), fileB = Path.Combine(ob.CaptureFolder, "b.pcapng");
        using (var capture = CaptureProcess.Start(b.Socket, b.Pair, "--out", fileA))
        {
            ObserveBoard.SendUdp(b.Outside.Name, RunBoard.TenantAddress, 53, 3);
            ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 53, 3);
            ObserveBoard.SendUdp(b.TenantNs, RunBoard.OutsideAddress, 22, 3);
            // Group frames both ways: from the port they are decided by the flooder (a copy into each L2 pair), from
            // the tenant by the worker. Whether anyone answers does not matter here.
            Shell.Run("ip", "netns", "exec", b.Outside.Name, "ping", "-6", "-c", "2", "-i", "0.2", "-w", "2", "-I", "o0", "ff02::1");
            Shell.Run("ip", "netns", "exec", b.TenantNs, "ping", "-6", "-c", "2", "-i", "0.2", "-w", "2", "-I", "eth0", "ff02::1");
            ob.Eventually(s => ObserveBoard.Side(s, b.Pair, "peer").GetProperty("drops").GetProperty("verdict").GetInt64() == 3
                               && ObserveBoard.Side(s, b.Pair, "primary").GetProperty("txPackets").GetInt64() >= 3, "A's traffic handled");
            Assert.Equal(0, capture.Interrupt());
        }
        long bPrimaryBefore = ObserveBoard.Side(ob.Stats(), b.Pair2, "primary").GetProperty("txPackets").GetInt64();
        long bPeerBefore = ObserveBoard.Side(ob.Stats(), b.Pair2, "peer").GetProperty("txPackets").GetInt64();
        using (var capture = CaptureProcess.Start(b.Socket, b.Pair2, "--out", fileB))
        {
            ObserveBoard.SendUdp(b.Outside.Name, RunBoard.Tenant2Address, 5000, 3);
            ObserveBoard.SendUdp(b.TenantNs2, RunBoard.OutsideAddress, 5000, 3);
            ob.Eventually(s => ObserveBoard.Side(s, b.Pair2, "primary").GetProperty("txPackets").GetInt64() >= bPrimaryBefore + 3
                               && ObserveBoard.Side(s, b.Pair2, "peer").GetProperty("txPackets").GetInt64() >= bPeerBefore + 3, "B's traffic handled");
            Assert.Equal(0, capture.Interrupt());
        }

        var verdicts = new HashSet<string>();
        foreach (var (file, pair) in new[] { (fileA, b.Pair), (fileB, b.Pair2) })
        {
            var live = CaptureFileReader.Read(file);
            foreach (var side in new[] { "primary", "peer" })
            {
                var decisions = LiveDecisions(live, $"{pair}/{side}");
                Assert.True(decisions.Count >= 3, $"{pair}/{side}: {decisions.Count} decisions captured");
                Compare(decisions, Replay(ob, file, "--pair", pair, "--side", side), $"{pair}/{side}");
                verdicts.UnionWith(decisions.Select(d => d.Text.Split(' ')[0]));
                if (side == "primary")
                {
                    // The same frames as received on the port: classified by destination MAC into the pair first.
                    string received = Path.Combine(ob.CaptureFolder, $"{pair}-received.pcapng");
                    WriteInbound(live, $"{pair}/{side}", received);
                    // A group frame's decision for this pair is the replay's flooded copy into it.
                    var intoPair = Replay(ob, received, "--port", b.Port).Select(r =>
                        r.Text.Contains($" side={pair}/primary ", StringComparison.Ordinal) ? r
                        : r.Copies.FirstOrDefault(c => c.Text.Contains($" side={pair}/primary ", StringComparison.Ordinal)) ?? r).ToList();
                    Compare(decisions, intoPair, $"{b.Port} -> {pair}");
                    if (pair == b.Pair)
                        Assert.Contains(decisions, d => (d.Input[0] & 1) == 1 && d.Input[12] == 0x86 && d.Input[13] == 0xdd); // the IPv6 multicast pings
                }
            }
        }
        Assert.Superset(new HashSet<string> { "verdict=pass", "verdict=drop" }, verdicts);
        // B's primary chain (vlan) changed the frames: the tagged output is what both the datapath and replay produced.
        var bPrimary = LiveDecisions(CaptureFileReader.Read(fileB), $"{b.Pair2}/primary");
        Assert.Contains(bPrimary, d => d.Output is { } o && o.Length == d.Input.Length + 4 && o[12] == 0x81 && o[13] == 0x00);
    }

    private sealed record Decision(string Text, byte[] Input, byte[]? Output)
    {
        public IReadOnlyList<Decision> Copies { get; init; } = [];
    }

    /// <summary>The capture point's decisions in order: each inbound packet, with the outbound packet that followed
    /// it (the same decision publishes both, one after the other) as its output.</summary>
    private static List<Decision> LiveDecisions(CaptureFile file, string point)
    {
        int iface = file.Interfaces.Select((i, n) => (i, n)).Single(x => x.i.Name == point).n;
        var list = new List<Decision>();
        foreach (var r in file.Records.Where(r => r.Interface == iface))
        {
            if (r.Direction == PacketDirection.Inbound) list.Add(new Decision(r.Comment!, r.Data, null));
            else
            {
                Assert.Equal(list[^1].Text, r.Comment);
                list[^1] = list[^1] with { Output = r.Data };
            }
        }
        return list;
    }

    private static void WriteInbound(CaptureFile file, string point, string path)
    {
        int iface = file.Interfaces.Select((i, n) => (i, n)).Single(x => x.i.Name == point).n;
        using var s = File.Create(path);
        using var w = new PcapngWriter(s, "test", 65535);
        int id = w.AddInterface("somewhere");
        foreach (var r in file.Records.Where(r => r.Interface == iface && r.Direction == PacketDirection.Inbound))
            w.WritePacket(id, r.TimestampNanoseconds, r.Data, r.OriginalLength);
    }

    private static List<Decision> Replay(ObserveBoard ob, string file, params string[] where)
    {
        var r = Shell.Run(RepoPaths.Binary("linux-x64"), ["replay", file, "--config", ob.Board.ConfigFile, "--json", .. where]);
        var root = JsonDocument.Parse(ObserveBoard.Ok(r)).RootElement;
        return root.GetProperty("frames").EnumerateArray().Select(Parse).ToList();

        static Decision Parse(JsonElement f) => new(f.GetProperty("decision").GetString()!, [],
            f.GetProperty("output").ValueKind == JsonValueKind.Null ? null : Convert.FromHexString(f.GetProperty("output").GetString()!))
        {
            Copies = f.GetProperty("copies").EnumerateArray().Select(Parse).ToList(),
        };
    }

    private static void Compare(List<Decision> live, List<Decision> replayed, string what)
    {
        Assert.Equal(live.Count, replayed.Count);
        for (int i = 0; i < live.Count; i++)
        {
            Assert.True(live[i].Text == replayed[i].Text, $"{what} frame {i}: live '{live[i].Text}', replay '{replayed[i].Text}'");
            Assert.True(live[i].Output is null == replayed[i].Output is null, $"{what} frame {i}: output present live {live[i].Output is not null}, replay {replayed[i].Output is not null}");
            if (live[i].Output is { } o) Assert.Equal(o, replayed[i].Output);
        }
    }
}
