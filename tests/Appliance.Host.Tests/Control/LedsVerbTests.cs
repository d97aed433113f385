using System.Text.Json;
using Appliance.Host.Commands;
using Appliance.Host.Control;
using Appliance.Host.Tests.Leds;
using Xunit;
using Appliance.Host.State;

namespace Appliance.Host.Tests.Control;

/// <summary>The `leds` verb through a real control socket and the CLI client, on the in-memory GPIO driver and a
/// virtual clock: the listing (table and JSON) and night mode switched at run time.</summary>
public sealed class LedsVerbTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mapp-leds-").FullName;
    private string SockPath => Path.Combine(_dir, "control.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = ControlVerb.Run(ControlVerbs.Leds, [.. args, "--socket", SockPath], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement Led(JsonElement root, string name) =>
        root.GetProperty("leds").EnumerateArray().Single(l => l.GetProperty("name").GetString() == name);

    [Fact]
    public void ListsEachLedAndSwitchesNightMode()
    {
        using var rig = new LedRig().Start(LedRig.Led("power", 0, "on"), LedRig.Led("fault", 1, "fault"), LedRig.Led("st", 2, "status"));
        rig.State.Stage = Appliance.Host.State.BootStage.Running;
        rig.RunUntil(100);
        using var server = new ControlServer(SockPath);
        LedControl.Register(server, rig.Controller);
        server.Start();

        var (code, json, err) = Cli("--json");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.False(root.GetProperty("nightMode").GetBoolean());
        Assert.Equal(["power", "fault", "st"], root.GetProperty("leds").EnumerateArray().Select(l => l.GetProperty("name").GetString()));
        Assert.True(Led(root, "power").GetProperty("on").GetBoolean());
        Assert.False(Led(root, "fault").GetProperty("on").GetBoolean(), "no fault raised");
        Assert.True(Led(root, "st").GetProperty("on").GetBoolean(), "status is steady on while running");
        Assert.Equal("status", Led(root, "st").GetProperty("trigger").GetString());
        Assert.Contains("test-chip", Led(root, "power").GetProperty("line").GetString());

        rig.State.RaiseFault("test", "something broke");
        rig.RunUntil(200);
        Assert.True(Led(JsonDocument.Parse(Cli("--json").Out).RootElement, "fault").GetProperty("on").GetBoolean(), "the fault LED follows a raised fault");

        Assert.Equal(0, Cli("off").Code);
        rig.RunUntil(300);
        root = JsonDocument.Parse(Cli("--json").Out).RootElement;
        Assert.True(root.GetProperty("nightMode").GetBoolean());
        Assert.All(root.GetProperty("leds").EnumerateArray(), l => Assert.False(l.GetProperty("on").GetBoolean()));
        Assert.True(Led(root, "power").GetProperty("triggerOn").GetBoolean(), "the trigger still wants it on");
        Assert.False(rig.Gpio.Level(LedRig.Chip, 0), "the power line is driven low in night mode");
        Assert.Contains("night mode: on", Cli().Out);

        Assert.Equal(0, Cli("on").Code);
        rig.RunUntil(400);
        Assert.True(rig.Gpio.Level(LedRig.Chip, 0), "night mode off lights the power LED again");
        var table = Cli().Out;
        Assert.Contains("night mode: off", table);
        Assert.Matches(@"power\s+on\s+trigger on", table);
    }

    [Fact]
    public void BadArgumentsAndNoLedDriverAreRefusedWithAReason()
    {
        using var server = new ControlServer(SockPath);
        LedControl.Register(server, null);
        server.Start();
        var (code, _, err) = Cli();
        Assert.Equal(1, code);
        Assert.Contains("drives no LEDs", err);

        using var rig = new LedRig().Start(LedRig.Led("power", 0, "on"));
        var other = Path.Combine(_dir, "other.sock");
        using var second = new ControlServer(other);
        LedControl.Register(second, rig.Controller);
        second.Start();
        var bad = ControlClient.Send(other, new ControlRequest("leds", ["dim"]));
        Assert.False(bad.Ok);
        Assert.Contains("usage: leds [on|off]", bad.Error);
    }
}
