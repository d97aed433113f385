namespace Appliance.Config.Tests;

/// <summary>ConfigDiff.Compute: what a live reload has to do, from two configs.</summary>
public class ConfigDiffTests
{
    private static ApplianceConfig Config(string text)
    {
        var result = ConfigTexts.Load(text);
        Assert.Empty(result.Errors);
        return result.Config!;
    }

    private static ConfigChanges Diff(string from, string to) => ConfigDiff.Compute(Config(ConfigTexts.Valid), Config(ConfigTexts.With(from, to)));

    private static PairChange OnlyPairChange(ConfigChanges changes)
    {
        Assert.Empty(changes.PairsAdded);
        Assert.Empty(changes.PairsRemoved);
        return Assert.Single(changes.PairsChanged);
    }

    [Fact]
    public void SameConfigHasNoChanges()
    {
        var changes = ConfigDiff.Compute(Config(ConfigTexts.Valid), Config(ConfigTexts.Valid));
        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void FormattingCommentsAndDefaultsWrittenOutAreNoChange()
    {
        string reformatted = "// same config\n" + ConfigTexts.With("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"controlSocket\": \"/run/meta-appliance/control.sock\",")
            .Replace("\n", "\r\n");
        Assert.True(ConfigDiff.Compute(Config(ConfigTexts.Valid), Config(reformatted)).IsEmpty);
    }

    [Fact]
    public void ReorderingAChainIsAChainOnlyChange()
    {
        var change = OnlyPairChange(Diff("[{ \"program\": \"count\" }]", "[]"));
        Assert.Equal(new PairChange("tenant-a", PairChangeParts.PrimaryChain), change);
        Assert.False(change.IsInterfaceLevel);
    }

    [Fact]
    public void AddingToThePeerChainIsAChainOnlyChange()
    {
        var change = OnlyPairChange(Diff("[{ \"program\": \"allow\" }]", "[{ \"program\": \"allow\" }, { \"program\": \"count\" }]"));
        Assert.Equal(PairChangeParts.PeerChain, change.Parts);
    }

    [Fact]
    public void ChangingMapContentsChangesTheProgramAndTheChainsThatUseIt()
    {
        var changes = Diff("\"key\": 22", "\"key\": 2222");
        Assert.Equal(["allow"], changes.Programs.Changed);
        var change = OnlyPairChange(changes);
        Assert.Equal(new PairChange("tenant-a", PairChangeParts.Programs), change);
    }

    [Theory]
    [InlineData("\"headroom\": 64", "\"headroom\": 128", PairChangeParts.Room)]
    [InlineData("\"10.0.1.2/24\"", "\"10.0.1.3/24\"", PairChangeParts.Addresses)]
    public void AddressesAndRoomAreTheirOwnParts(string from, string to, PairChangeParts parts)
    {
        var change = OnlyPairChange(Diff(from, to));
        Assert.Equal(new PairChange("tenant-a", parts), change);
        Assert.False(change.IsInterfaceLevel);
    }

    /// <summary>tenant.serves is a part of its own (the peer side takes it at commit, nothing is re-created); it is
    /// a set: listing the same services in another order is no change.</summary>
    [Theory]
    [InlineData("[]", "[\"router\"]", PairChangeParts.Services)]
    [InlineData("[\"router\"]", "[\"router\", \"dhcp\"]", PairChangeParts.Services)]
    [InlineData("[\"router\", \"dhcp\"]", "[]", PairChangeParts.Services)]
    [InlineData("[\"router\", \"dhcp\"]", "[\"dhcp\", \"router\"]", PairChangeParts.None)]
    public void ServesIsItsOwnPartAndASet(string from, string to, PairChangeParts parts)
    {
        static ApplianceConfig Serving(string serves) =>
            Config(ConfigTexts.With("\"addresses\": [\"10.0.1.2/24\"] }", $"\"addresses\": [\"10.0.1.2/24\"], \"serves\": {serves} }}"));
        var changes = ConfigDiff.Compute(Serving(from), Serving(to));
        if (parts == PairChangeParts.None)
        {
            Assert.True(changes.IsEmpty);
            return;
        }
        var change = OnlyPairChange(changes);
        Assert.Equal(new PairChange("tenant-a", parts), change);
        Assert.False(change.IsInterfaceLevel);
    }

    [Theory]
    [InlineData("\"02:00:00:00:0a:02\"", "\"02:00:00:00:0a:03\"")]
    [InlineData("\"mode\": \"l2\"", "\"mode\": \"l3\"")]
    [InlineData("\"netns\": \"ns-a\"", "\"netns\": \"ns-c\"")]
    public void TenantAndRoomChangesAreInterfaceLevel(string from, string to)
    {
        var change = OnlyPairChange(Diff(from, to));
        Assert.Equal(new PairChange("tenant-a", PairChangeParts.Interface), change);
        Assert.True(change.IsInterfaceLevel);
    }

    [Fact]
    public void PolicyScrubAndUplinkAreTheirOwnParts()
    {
        Assert.Equal(PairChangeParts.Policy, OnlyPairChange(Diff("\"policy\": \"drop\"", "\"policy\": \"pass\"")).Parts);
        Assert.Equal(PairChangeParts.Scrub, OnlyPairChange(Diff("\"scrub\": \"none\"", "\"scrub\": \"default\"")).Parts);
        Assert.Equal(PairChangeParts.Uplink, OnlyPairChange(Diff("\"uplink\": \"eth0\"", "\"uplink\": \"eth1\"")).Parts);
    }

    [Fact]
    public void SeveralPartsAtOnce()
    {
        string text = ConfigTexts.Replace(ConfigTexts.With("\"headroom\": 64", "\"headroom\": 0"), "[{ \"program\": \"allow\" }]", "[]");
        var change = Assert.Single(ConfigDiff.Compute(Config(ConfigTexts.Valid), Config(text)).PairsChanged);
        Assert.Equal(PairChangeParts.Room | PairChangeParts.PeerChain, change.Parts);
    }

    [Fact]
    public void PairsAddedRemovedAndRenamed()
    {
        var renamed = Diff("\"name\": \"tenant-b\"", "\"name\": \"tenant-c\"");
        Assert.Equal(["tenant-c"], renamed.PairsAdded);
        Assert.Equal(["tenant-b"], renamed.PairsRemoved);
        Assert.Empty(renamed.PairsChanged);
        Assert.False(renamed.IsEmpty);
    }

    [Fact]
    public void PortChanges()
    {
        var changes = Diff("{ \"name\": \"eth1\", \"unclaimed\": \"drop\", \"mtu\": 1500 }", "{ \"name\": \"eth1\", \"unclaimed\": \"kernel\", \"mtu\": 1500 }, { \"name\": \"eth2\" }");
        Assert.Equal(["eth2"], changes.Ports.Added);
        Assert.Equal(["eth1"], changes.Ports.Changed);
        Assert.Empty(changes.Ports.Removed);
        Assert.Empty(changes.PairsChanged);
    }

    /// <summary>`jit` and `button` are read at start like `workers`: a change of either is a change the reload notes for
    /// the next start, not "nothing changed" (before, the diff compared neither: the reload said nothing and the edit
    /// silently waited for a restart; found by LiveEditWalkTests).</summary>
    [Fact]
    public void JitAndButtonChangesAreChanges()
    {
        var jit = Diff("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"jit\": false,");
        Assert.True(jit.JitChanged);
        Assert.False(jit.ButtonChanged);
        Assert.False(jit.IsEmpty);
        var button = Diff("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"button\": { \"chip\": \"9030000.pl061\", \"line\": 6 },");
        Assert.True(button.ButtonChanged);
        Assert.False(button.JitChanged);
        Assert.False(button.IsEmpty);
        Assert.True(ConfigDiff.Compute(Config(ConfigTexts.Valid), Config(ConfigTexts.Valid)).IsEmpty);
    }

    /// <summary>`queues` is a port member like any: a change of it changes that port and nothing else (the
    /// reconciler re-opens only that port's sockets: MultiWorkerRuntimeTests).</summary>
    [Fact]
    public void AQueuesChangeChangesOnlyThatPort()
    {
        var set = Diff("{ \"name\": \"eth1\", \"unclaimed\": \"drop\", \"mtu\": 1500 }", "{ \"name\": \"eth1\", \"unclaimed\": \"drop\", \"mtu\": 1500, \"queues\": 2 }");
        Assert.Equal(["eth1"], set.Ports.Changed);
        Assert.Empty(set.Ports.Added);
        Assert.Empty(set.Ports.Removed);
        Assert.Empty(set.PairsChanged);
        Assert.False(set.WorkersChanged);
        Assert.Equal(2, Config(ConfigTexts.With("\"mtu\": 1500 }", "\"mtu\": 1500, \"queues\": 2 }")).Ports[1].Queues);

        var from2 = ConfigTexts.With("\"mtu\": 1500 }", "\"mtu\": 1500, \"queues\": 2 }");
        var to3 = ConfigTexts.With("\"mtu\": 1500 }", "\"mtu\": 1500, \"queues\": 3 }");
        var changed = ConfigDiff.Compute(Config(from2), Config(to3));
        Assert.Equal(["eth1"], changed.Ports.Changed);
        Assert.True(ConfigDiff.Compute(Config(to3), Config(to3)).IsEmpty);
    }

    [Fact]
    public void LedChangesAndNightMode()
    {
        var night = Diff("\"state\": \"on\"", "\"state\": \"off\"");
        Assert.True(night.LedStateChanged);
        Assert.True(night.Leds.IsEmpty);

        var trigger = Diff("\"trigger\": \"status\"", "\"trigger\": \"heartbeat\"");
        Assert.False(trigger.LedStateChanged);
        Assert.Equal(["status"], trigger.Leds.Changed);
    }

    [Fact]
    public void BoardAndControlSocket()
    {
        var changes = Diff("\"board\": \"qemu-virt\",", "\"board\": \"rpi4\", \"controlSocket\": \"/run/mapp.sock\",");
        Assert.True(changes.BoardChanged);
        Assert.True(changes.ControlSocketChanged);
        Assert.True(changes.Ports.IsEmpty && changes.Programs.IsEmpty && changes.PairsChanged.Count == 0);
    }

    [Fact]
    public void ControlGroupIsAControlSocketChange()
    {
        var changes = Diff("\"board\": \"qemu-virt\",", "\"board\": \"qemu-virt\", \"controlGroup\": \"netadmin\",");
        Assert.True(changes.ControlSocketChanged);
        Assert.False(changes.BoardChanged);
    }

    [Fact]
    public void ComputeIsPureAndSymmetricInItsLists()
    {
        var a = Config(ConfigTexts.Valid);
        var b = Config(ConfigTexts.With("\"name\": \"tenant-b\"", "\"name\": \"tenant-c\""));
        string aBefore = System.Text.Json.JsonSerializer.Serialize(a, ConfigJsonContext.Default.ApplianceConfig);
        var forward = ConfigDiff.Compute(a, b);
        var backward = ConfigDiff.Compute(b, a);
        Assert.Equal(forward.PairsAdded, backward.PairsRemoved);
        Assert.Equal(forward.PairsRemoved, backward.PairsAdded);
        Assert.Equal(aBefore, System.Text.Json.JsonSerializer.Serialize(a, ConfigJsonContext.Default.ApplianceConfig));
    }
}
