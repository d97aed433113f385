namespace Appliance.Config.Tests;

/// <summary>
/// Structure errors do not hide semantic ones: the rules run on the sound part of the file, findings keep the
/// file's own paths and positions, and nothing that follows only from a left-out part is reported.
/// </summary>
public class SoundPartTests
{
    private static string Line(ConfigError e) => e.ToString();

    private static string Expect(string text, string marker, string focus, string path, string message)
    {
        var (line, column) = ConfigTexts.At(text, marker, focus);
        return $"{ConfigTexts.FileName}:{line}:{column}: {path}: {message}";
    }

    [Fact]
    public void StructureAndMeaningErrorsAreReportedTogether()
    {
        string text = """
            {
              "board": "qemu-virt",
              "ports": [
                { "name": "eth0", "mtu": "big" },
                { "name": "eth1", "mac": "01:00:5e:00:00:01" }
              ],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": "eth9", "colour": "red", "tenant": { "netns": "ns-a", "interface": "eth0" } },
                { "name": "a", "mode": "l2", "uplink": "eth1", "tenant": { "netns": "ns-b", "interface": "eth0" } }
              ]
            }
            """;
        var errors = ConfigTexts.Load(text).Errors.Select(Line).ToList();
        Assert.Equal(
        [
            Expect(text, "\"mtu\": \"big\"", "\"big\"", "$.ports[0].mtu", "expected an integer, got a string (\"big\")"),
            Expect(text, "\"colour\"", "\"colour\"", "$.pairs[0].colour",
                "unknown member \"colour\" (expected one of: name, mode, uplink, tenant, primaryInterface, learnLimit, headroom, tailroom, primary, peer)"),
            Expect(text, "{ \"name\": \"a\", \"mode\": \"l2\", \"uplink\": \"eth1\"", "\"a\"", "$.pairs[1].name",
                "duplicate pair name \"a\" (already used by $.pairs[0])"),
            Expect(text, "\"01:00:5e:00:00:01\"", "\"01", "$.ports[1].mac",
                "MAC 01:00:5e:00:00:01 is a multicast address (lowest bit of the first octet set); expected a unicast MAC like \"02:00:00:00:00:01\""),
            Expect(text, "\"eth9\"", "\"eth9\"", "$.pairs[0].uplink", "unknown port \"eth9\" (expected one of: eth0, eth1)"),
        ], errors);
    }

    [Fact]
    public void AWrongTypeInAPortDoesNotMakeItUnknown()
    {
        // The port keeps its name; only its mtu is left out.
        string text = ConfigTexts.With("{ \"name\": \"eth0\", \"unclaimed\": \"kernel\" }", "{ \"name\": \"eth0\", \"unclaimed\": \"kernel\", \"mtu\": [1500] }");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.ports[0].mtu", error.JsonPath);
    }

    [Fact]
    public void AnUnsoundPairStillDefinesItsNameForTheLedThatWatchesIt()
    {
        // The pair is left out (its mode is unreadable) but its name is written, so "activity:tenant-a" is not unknown.
        string text = ConfigTexts.Replace(ConfigTexts.With("\"mode\": \"l2\"", "\"mode\": \"l9\""), "\"link:eth0\"", "\"activity:tenant-a\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.pairs[0].mode", error.JsonPath);
    }

    [Fact]
    public void AnUnknownReferenceToANameNoDefinitionCarriesIsStillReported()
    {
        string text = ConfigTexts.Replace(ConfigTexts.With("\"mode\": \"l2\"", "\"mode\": \"l9\""), "\"link:eth0\"", "\"activity:tenant-z\"");
        Assert.Equal(["$.pairs[0].mode", "$.leds.lines[1].trigger"], ConfigTexts.Load(text).Errors.Select(e => e.JsonPath));
    }

    [Fact]
    public void AProgramWithAWrongTypedRequiredMemberIsNotAnUnknownProgram()
    {
        string text = ConfigTexts.With("\"section\": \"netkit/peer\"", "\"section\": 5");
        var result = ConfigTexts.Load(text);
        var error = Assert.Single(result.Errors);
        Assert.Equal("$.programs[0].section", error.JsonPath);
    }

    [Fact]
    public void ADefinitionWithAnUnreadableNameExcusesEveryReference()
    {
        // Which port "eth0" was meant to be cannot be known, so no uplink or LED trigger is called unknown.
        string text = ConfigTexts.With("{ \"name\": \"eth0\", \"unclaimed\": \"kernel\" }", "{ \"name\": 0 }");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.ports[0].name", error.JsonPath);
    }

    [Fact]
    public void ADefinitionWithAnUnreadableNameExcusesOnlyReferencesIntoItsOwnList()
    {
        // An LED line is not something an uplink can name, so its unreadable name does not hide the dangling uplink.
        string text = ConfigTexts.Replace(ConfigTexts.With("\"name\": \"status\"", "\"name\": 3"), "\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"");
        Assert.Equal(["$.leds.lines[0].name", "$.pairs[0].uplink"], ConfigTexts.Load(text).Errors.Select(e => e.JsonPath));
    }

    [Fact]
    public void AListOfTheWrongTypeDefinesWhateverIsReferredToIt()
    {
        // "programs" is unreadable as a whole, so the chains' programs are not unknown; the dangling uplink still is.
        string text = ConfigTexts.Replace(ConfigTexts.With("\"programs\": [", "\"programs\": 0, \"x\": ["), "\"uplink\": \"eth0\"", "\"uplink\": \"eth9\"");
        Assert.Equal(["$.programs", "$.x", "$.pairs[0].uplink"], ConfigTexts.Load(text).Errors.Select(e => e.JsonPath));
    }

    [Fact]
    public void ARemovedValueCausesNoFollowOnError()
    {
        // Without its addresses the l3 pair would have none, which is a rule; that must not be reported.
        string text = ConfigTexts.With("\"addresses\": [\"10.0.2.2/32\"]", "\"addresses\": \"10.0.2.2/32\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.pairs[1].tenant.addresses", error.JsonPath);
        Assert.Equal("expected an array, got a string (\"10.0.2.2/32\")", error.Message);
    }

    [Fact]
    public void ElementsAfterAnUnsoundOneKeepTheirIndices()
    {
        string text = """
            {
              "board": "qemu-virt",
              "ports": [ { "name": "eth0" } ],
              "pairs": [
                { "name": "a", "mode": "l2", "uplink": 5, "tenant": { "netns": "ns", "interface": "t0" } },
                { "name": "b", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ns", "interface": "t1", "mac": "ff:ff:ff:ff:ff:ff" } },
                { "name": "c", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "ns", "interface": "t1" }, "primary": { "chain": [ { "program": 1 }, { "program": "gone" } ] } }
              ]
            }
            """;
        var errors = ConfigTexts.Load(text).Errors.Select(Line).ToList();
        Assert.Equal(
        [
            Expect(text, "\"uplink\": 5", "5", "$.pairs[0].uplink", "expected a string, got a number (5)"),
            Expect(text, "{ \"program\": 1 }", "1", "$.pairs[2].primary.chain[0].program", "expected a string, got a number (1)"),
            Expect(text, "\"ff:ff:ff:ff:ff:ff\"", "\"ff", "$.pairs[1].tenant.mac",
                "MAC ff:ff:ff:ff:ff:ff is a multicast address (lowest bit of the first octet set); expected a unicast MAC like \"02:00:00:00:00:01\""),
            Expect(text, "\"interface\": \"t1\" }, \"primary\"", "\"t1\"", "$.pairs[2].tenant.interface",
                "interface \"t1\" in netns \"ns\" is already the tenant of $.pairs[1]"),
            Expect(text, "{ \"program\": \"gone\" }", "\"gone\"", "$.pairs[2].primary.chain[1].program",
                "unknown program \"gone\" (the config defines no programs)"),
        ], errors);
    }

    [Fact]
    public void PathsQuotedInMessagesKeepTheFilesIndices()
    {
        string text = ConfigTexts.With("\"allowed_ports\": [{ \"key\": 22, \"value\": 0 }]",
            "\"allowed_ports\": [{ \"value\": 0 }, { \"key\": 22, \"value\": 0 }, { \"key\": 22, \"value\": 1 }]");
        var errors = ConfigTexts.Load(text).Errors;
        Assert.Equal(["$.programs[0].maps.allowed_ports[0].key", "$.programs[0].maps.allowed_ports[2].key"], errors.Select(e => e.JsonPath));
        Assert.Equal("key 22 is already set by $.programs[0].maps.allowed_ports[1]", errors[1].Message);
        Assert.Equal(ConfigTexts.At(text, "{ \"key\": 22, \"value\": 1 }", "22"), (errors[1].Line, errors[1].Column));
    }

    [Fact]
    public void AnUnsoundRootStopsAtTheStructureErrors()
    {
        var error = Assert.Single(ConfigTexts.Load("""{ "board": 1, "ports": [ { "name": "x", "mtu": 1 } ] }""").Errors);
        Assert.Equal("$.board", error.JsonPath);
    }
}
