using System.Text.Json;
using Appliance.Datapath.Capture;
using Appliance.Datapath.Tests.Engine;
using Appliance.Host.Commands;
using Xunit;

namespace Appliance.Host.Tests.Observe;

/// <summary>`replay` as the user reads it: a broadcast frame from a port is decided once (to the kernel) and once per
/// L2 pair on that port (the flooder's copies); the text, the JSON and the --out file show every copy.</summary>
public sealed class ReplayCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-replay-").FullName;

    [Fact]
    public void ABroadcastFromAPortShowsEachFloodedCopyInTheTextTheJsonAndTheOutputFile()
    {
        string config = Path.Combine(_dir, "config.json"), input = Path.Combine(_dir, "in.pcapng"), output = Path.Combine(_dir, "out.pcapng");
        File.WriteAllText(config, """
            {
              "board": "test",
              "ports": [{ "name": "eth0" }],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ta", "interface": "eth0", "mac": "02:00:00:00:0a:02" } },
                { "name": "b", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "tb", "interface": "eth0", "mac": "02:00:00:00:0b:02" } }
              ]
            }
            """);
        var broadcast = new byte[64];
        TestFrames.Udp(broadcast, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [0x02, 0, 0, 0, 0, 0x99], 0, 0);
        using (var file = File.Create(input))
        using (var writer = new PcapngWriter(file, "test"))
            writer.WritePacket(writer.AddInterface("eth0"), 1_000, broadcast, broadcast.Length, PacketDirection.Inbound);

        var (code, text, err) = Replay(input, "--config", config, "--port", "eth0", "--out", output);
        Assert.True(code == 0, err);
        foreach (var pair in new[] { "a", "b" })
            Assert.Matches($@"(?m)^    flooded verdict=pass side={pair}/primary .*target={pair}\b", text);
        Assert.Contains($"1 frame(s) from {input} at eth0: 1 kernel; 2 flooded copies into L2 pairs", text);

        // Every copy left into its pair: one interface per target in the output file, the copy's frame on it.
        var written = CaptureFileReader.Read(output);
        foreach (var pair in new[] { "a", "b" })
        {
            int iface = Enumerable.Range(0, written.Interfaces.Count).Single(i => written.Interfaces[i].Name == pair);
            Assert.Equal(broadcast, Assert.Single(written.Records, r => r.Interface == iface).Data);
        }

        var (jsonCode, json, jsonErr) = Replay(input, "--config", config, "--port", "eth0", "--json");
        Assert.True(jsonCode == 0, jsonErr);
        var frame = Assert.Single(JsonDocument.Parse(json).RootElement.GetProperty("frames").EnumerateArray());
        Assert.Equal(["a", "b"], frame.GetProperty("copies").EnumerateArray().Select(c => c.GetProperty("target").GetString()).Order());
    }

    private static (int Code, string Out, string Err) Replay(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        return (ReplayCommand.Run(args, stdout, stderr), stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
