namespace Appliance.Config.Tests;

/// <summary>Rules that need more than one edit of the base config.</summary>
public class SemanticRuleTests
{
    [Fact]
    public void TwoL3PairsCannotRouteOnePrefixOnOneUplink()
    {
        // tenant-a becomes l3 on eth1 with 10.0.2.3/24; tenant-b gets 10.0.2.2/24: both claim 10.0.2.0/24.
        string text = ConfigTexts.Replace(ConfigTexts.Replace(ConfigTexts.Replace(ConfigTexts.Replace(ConfigTexts.Valid,
            "\"mode\": \"l2\"", "\"mode\": \"l3\""), "\"uplink\": \"eth0\"", "\"uplink\": \"eth1\""),
            "\"10.0.1.2/24\"", "\"10.0.2.3/24\""), "\"10.0.2.2/32\"", "\"10.0.2.2/24\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        var (line, column) = ConfigTexts.At(text, "\"10.0.2.2/24\"");
        Assert.Equal(new ConfigError("config.json", line, column, "$.pairs[1].tenant.addresses[0]",
            "prefix 10.0.2.0/24 on uplink \"eth1\" is already routed to $.pairs[0].tenant.addresses[0]; two l3 pairs cannot claim one prefix"), error);
    }

    [Theory]
    [InlineData("127.0.0.2/32", "127.0.0.2 is a loopback address")]
    [InlineData("0.1.2.3/32", "0.1.2.3 is in 0.0.0.0/8 (this network)")]
    [InlineData("169.254.7.1/16", "169.254.7.1 is link-local (169.254.0.0/16)")]
    [InlineData("224.0.0.5/32", "224.0.0.5 is multicast or reserved (224.0.0.0/3)")]
    [InlineData("240.1.1.1/32", "240.1.1.1 is multicast or reserved (224.0.0.0/3)")]
    [InlineData("::1/128", "::1 is the loopback address")]
    [InlineData("::/128", ":: is the unspecified address")]
    [InlineData("ff02::1/128", "ff02::1 is multicast (ff00::/8)")]
    [InlineData("fe80::5/64", "fe80::5 is link-local (fe80::/10)")]
    public void AnL3TenantsAddressMustBeRoutable(string address, string what)
    {
        string text = ConfigTexts.Replace(ConfigTexts.Valid, "\"10.0.2.2/32\"", $"\"{address}\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.pairs[1].tenant.addresses[0]", error.JsonPath);
        Assert.Equal($"{what}: an l3 tenant's packets from it are never routed (they are dropped as invalidSource); give the tenant a routable address", error.Message);
        // The same address on an l2 pair is the tenant's own business.
        Assert.True(ConfigTexts.Load(ConfigTexts.Replace(text, "\"mode\": \"l3\"", "\"mode\": \"l2\"")).IsValid);
    }

    [Theory]
    [InlineData("10.0.2.2/0", "10.0.2.2/0")]
    [InlineData("2001:db8::2/0", "2001:db8::2/0")]
    public void AnL3TenantCannotClaimEveryAddress(string address, string shown)
    {
        string text = ConfigTexts.Replace(ConfigTexts.Valid, "\"10.0.2.2/32\"", $"\"{address}\"");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.pairs[1].tenant.addresses[0]", error.JsonPath);
        Assert.StartsWith($"{shown} would route every address on uplink ", error.Message);
    }

    [Fact]
    public void L2PairsMayShareASubnet()
    {
        string text = ConfigTexts.Replace(ConfigTexts.With("\"mode\": \"l3\"", "\"mode\": \"l2\""), "\"10.0.2.2/32\"", "\"10.0.1.3/24\"");
        Assert.True(ConfigTexts.Load(text).IsValid);
    }

    [Fact]
    public void ChainOfSixtyFourProgramsIsTooLong()
    {
        var programs = string.Join(",\n", Enumerable.Range(0, 64).Select(i => $"    {{ \"name\": \"p{i}\", \"object\": \"counter.bpf.o\", \"section\": \"tc\" }}"));
        var chain = string.Join(", ", Enumerable.Range(0, 64).Select(i => $"{{ \"program\": \"p{i}\" }}"));
        string text = ConfigTexts.Replace(ConfigTexts.With("{ \"name\": \"count\", \"object\": \"counter.bpf.o\", \"section\": \"tc\" }", programs + ",\n    { \"name\": \"count\", \"object\": \"counter.bpf.o\", \"section\": \"tc\" }"),
            "\"chain\": [{ \"program\": \"count\" }]", $"\"chain\": [{chain}]");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.pairs[0].primary.chain", error.JsonPath);
        Assert.Equal("chain has 64 programs; at most 63 per side (bpf_mprog limit)", error.Message);
        Assert.Equal(ConfigTexts.At(text, "[{ \"program\": \"p0\" }"), (error.Line, error.Column));

        string sixtyThree = ConfigTexts.Replace(text, ", { \"program\": \"p63\" }", "");
        Assert.True(ConfigTexts.Load(sixtyThree).IsValid);
    }

    [Fact]
    public void ProgramsOfOneObjectShareItsMapsSoContentsAreGivenOnce()
    {
        string text = ConfigTexts.With("{ \"name\": \"count\", \"object\": \"counter.bpf.o\", \"section\": \"tc\" }",
            "{ \"name\": \"count\", \"object\": \"counter.bpf.o\", \"section\": \"tc\" },\n    { \"name\": \"allow2\", \"object\": \"./allow_port.bpf.o\", \"section\": \"netkit/peer\", \"maps\": { \"allowed_ports\": [] } }");
        var error = Assert.Single(ConfigTexts.Load(text).Errors);
        Assert.Equal("$.programs[2].maps.allowed_ports", error.JsonPath);
        Assert.Equal("map \"allowed_ports\" of ./allow_port.bpf.o already gets initial contents from $.programs[0]; programs of one object share its maps, so give them once", error.Message);
    }

    [Fact]
    public void OptionalMembersTakeTheirDocumentedDefaults()
    {
        var config = ConfigTexts.Load("""{ "board": "b", "ports": [{ "name": "eth0" }], "pairs": [{ "name": "t", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "n", "interface": "i" } }] }""").Config!;
        Assert.Equal("/run/meta-appliance/control.sock", config.ControlSocket);
        Assert.Equal(UnclaimedPolicy.Kernel, config.Ports[0].Unclaimed);
        Assert.Null(config.Ports[0].Mac);
        Assert.Null(config.Ports[0].Mtu);
        Assert.Null(config.Ports[0].Queues); // every queue the port has
        var pair = config.Pairs[0];
        Assert.Equal((0, 0, 1500), (pair.Headroom, pair.Tailroom, pair.Tenant.Mtu));
        Assert.Null(pair.Tenant.Mac);
        Assert.Empty(pair.Tenant.Addresses);
        Assert.Equal((SidePolicy.Pass, ScrubMode.Default), (pair.Primary.Policy, pair.Primary.Scrub));
        Assert.Equal((SidePolicy.Pass, ScrubMode.Default), (pair.Peer.Policy, pair.Peer.Scrub));
        Assert.Empty(pair.Peer.Chain);
        Assert.Equal(LedState.On, config.Leds.State);
        Assert.Empty(config.Leds.Lines);
        Assert.Empty(config.Programs);
    }

    [Fact]
    public void ValuesAreReadIntoTheModel()
    {
        var config = ConfigTexts.Load(ConfigTexts.Valid).Config!;
        Assert.Equal(["eth0", "eth1"], config.Ports.Select(p => p.Name));
        Assert.Equal((UnclaimedPolicy.Drop, 1500), (config.Ports[1].Unclaimed, config.Ports[1].Mtu));
        var a = config.Pairs[0];
        Assert.Equal((PairMode.L2, "eth0", 64), (a.Mode, a.Uplink, a.Headroom));
        Assert.Equal(MacAddress.Parse("02:00:00:00:0a:02"), a.Tenant.Mac);
        Assert.Equal([1, 2, 3], MacAddress.Parse("01:02:03:04:05:06").GetBytes()[..3]);
        Assert.Equal(InterfaceAddress.Parse("10.0.1.2/24"), Assert.Single(a.Tenant.Addresses));
        Assert.Equal("10.0.1.0/24", a.Tenant.Addresses[0].Network.ToString());
        Assert.Equal((SidePolicy.Drop, ScrubMode.None), (a.Peer.Policy, a.Peer.Scrub));
        Assert.Equal("allow", Assert.Single(a.Peer.Chain).Program);
        Assert.Equal(PairMode.L3, config.Pairs[1].Mode);
        var entry = Assert.Single(config.Programs[0].Maps["allowed_ports"]);
        Assert.Equal([22, 0], entry.Key.ToBytes(2));
        Assert.Equal(new byte[8], entry.Value.ToBytes(8));
        var link = config.Leds.Lines[1];
        Assert.Equal((1, true, LedTriggerKind.Link, "eth0"), (link.Line, link.ActiveLow, link.Trigger.Kind, link.Trigger.Target));
    }

    [Fact]
    public void NullIsAcceptedWhereAMemberIsOptionalAndNullable()
    {
        var config = ConfigTexts.Load(ConfigTexts.With("\"mac\": \"02:00:00:00:0b:02\"", "\"mac\": null")).Config!;
        Assert.Null(config.Pairs[1].Tenant.Mac);
    }

    [Theory]
    [InlineData("\"0a000001\"", 4, new byte[] { 0x0a, 0, 0, 1 })]
    [InlineData("\"0A 00 00 01\"", 4, new byte[] { 0x0a, 0, 0, 1 })]
    [InlineData("\"0a:00:00:01\"", 4, new byte[] { 0x0a, 0, 0, 1 })]
    [InlineData("258", 2, new byte[] { 2, 1 })]
    [InlineData("-1", 4, new byte[] { 0xff, 0xff, 0xff, 0xff })]
    [InlineData("18446744073709551615", 8, new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff })]
    [InlineData("-9223372036854775808", 8, new byte[] { 0, 0, 0, 0, 0, 0, 0, 0x80 })]
    public void MapDataBecomeBytes(string written, int size, byte[] bytes)
    {
        var config = ConfigTexts.Load(ConfigTexts.With("\"key\": 22", $"\"key\": {written}")).Config!;
        Assert.Equal(bytes, config.Programs[0].Maps["allowed_ports"][0].Key.ToBytes(size));
    }

    [Theory]
    [InlineData("256", 1)]
    [InlineData("-129", 1)]
    [InlineData("\"0a0b\"", 4)]
    [InlineData("1", 3)]
    public void MapDataThatDoNotFitGiveNoBytes(string written, int size)
    {
        var config = ConfigTexts.Load(ConfigTexts.With("\"key\": 22", $"\"key\": {written}")).Config!;
        Assert.Null(config.Programs[0].Maps["allowed_ports"][0].Key.ToBytes(size));
    }
}
