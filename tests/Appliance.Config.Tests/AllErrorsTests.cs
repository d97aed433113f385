namespace Appliance.Config.Tests;

/// <summary>The loader reports every problem of a stage together, not just the first.</summary>
public class AllErrorsTests
{
    [Fact]
    public void EveryStructuralProblemIsReportedInDocumentOrder()
    {
        string text = """
            {
              "board": "qemu-virt",
              "bogus": 1,
              "ports": [ { "name": "eth0", "mtu": "big" }, { "unclaimed": "kernel" } ],
              "pairs": [ { "name": "a", "name": "b", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "x", "interface": "y" } } ],
              "leds": { "state": "dim" }
            }
            """;
        var errors = ConfigTexts.Load(text).Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(
        [
            "config.json:3:3: $.bogus: unknown member \"bogus\" (expected one of: $schema, board, controlSocket, controlGroup, ports, pairs, programs, leds, metrics, jit, button, memory, workers)",
            "config.json:4:39: $.ports[0].mtu: expected an integer, got a string (\"big\")",
            "config.json:4:48: $.ports[1].name: missing required member \"name\" (expected a string)",
            "config.json:5:29: $.pairs[0].name: duplicate member \"name\" (first at line 5, column 16); JSON readers keep only one of them, so remove one",
            "config.json:6:22: $.leds.state: expected \"on\" or \"off\", got a string (\"dim\")",
        ], errors);
    }

    [Fact]
    public void EverySemanticProblemIsReported()
    {
        string text = ConfigTexts.Replace(
            ConfigTexts.Replace(
                ConfigTexts.Replace(ConfigTexts.With("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\""),
                    "[{ \"program\": \"count\" }]", "[{ \"program\": \"nope\" }]"),
                "\"02:00:00:00:0b:02\"", "\"ff:ff:ff:ff:ff:ff\""),
            "\"link:eth0\"", "\"link:wan\"");
        var result = ConfigTexts.Load(text);
        Assert.Equal(
        [
            "$.pairs[0].uplink", "$.pairs[1].tenant.mac", "$.pairs[0].primary.chain[0].program", "$.leds.lines[1].trigger",
        ], result.Errors.Select(e => e.JsonPath));
        Assert.All(result.Errors, e => Assert.True(e.Line > 1 && e.Column > 1, e.ToString()));
    }

    [Fact]
    public void MeaningIsCheckedEvenWhenTheStructureIsWrongElsewhere()
    {
        // The wrong-typed headroom is left out; the rest of the pair is sound, so its dangling uplink is reported too.
        string text = ConfigTexts.Replace(ConfigTexts.With("\"uplink\": \"eth0\"", "\"uplink\": \"eth9\""), "\"headroom\": 64", "\"headroom\": \"64\"");
        Assert.Equal(["$.pairs[0].headroom", "$.pairs[0].uplink"], ConfigTexts.Load(text).Errors.Select(e => e.JsonPath));
    }
}
