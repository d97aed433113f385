using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Appliance.Config;

/// <summary>
/// Pure comparison of two configs. Items are matched by name (a rename is a removal plus an addition);
/// values are compared by their JSON form, so every member counts, including ones added to the model later.
/// </summary>
public static class ConfigDiff
{
    public static ConfigChanges Compute(ApplianceConfig old, ApplianceConfig @new)
    {
        var ctx = ConfigJsonContext.Default;
        var programs = NamedChanges.Compute(old.Programs, @new.Programs, p => p.Name, (a, b) => Same(a, b, ctx.ProgramConfig));
        var changedPrograms = programs.Changed.ToHashSet(StringComparer.Ordinal);
        var pairs = NamedChanges.Compute(old.Pairs, @new.Pairs, p => p.Name, (a, b) => Parts(a, b, changedPrograms) == PairChangeParts.None);
        var oldPairs = old.Pairs.GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return new ConfigChanges
        {
            BoardChanged = old.Board != @new.Board,
            ControlSocketChanged = old.ControlSocket != @new.ControlSocket || old.ControlGroup != @new.ControlGroup,
            MetricsChanged = old.Metrics?.Listen != @new.Metrics?.Listen,
            MemoryChanged = old.Memory != @new.Memory,
            WorkersChanged = old.Workers != @new.Workers,
            JitChanged = old.Jit != @new.Jit,
            ButtonChanged = old.Button != @new.Button,
            Ports = NamedChanges.Compute(old.Ports, @new.Ports, p => p.Name, (a, b) => Same(a, b, ctx.PortConfig)),
            PairsAdded = pairs.Added,
            PairsRemoved = pairs.Removed,
            PairsChanged = @new.Pairs.Where(p => pairs.Changed.Contains(p.Name))
                .Select(p => new PairChange(p.Name, Parts(oldPairs[p.Name], p, changedPrograms))).ToList(),
            Programs = programs,
            LedStateChanged = old.Leds.State != @new.Leds.State,
            Leds = NamedChanges.Compute(old.Leds.Lines, @new.Leds.Lines, l => l.Name, (a, b) => Same(a, b, ctx.LedConfig)),
        };
    }

    private static PairChangeParts Parts(PairConfig a, PairConfig b, HashSet<string> changedPrograms)
    {
        var parts = PairChangeParts.None;
        var (ta, tb) = (a.Tenant, b.Tenant);
        if (a.Mode != b.Mode || a.PrimaryInterface != b.PrimaryInterface || ta.Netns != tb.Netns || ta.Interface != tb.Interface || ta.Mac != tb.Mac)
            parts |= PairChangeParts.Interface;
        if (!ta.Addresses.SequenceEqual(tb.Addresses)) parts |= PairChangeParts.Addresses;
        if (ta.Mtu != tb.Mtu) parts |= PairChangeParts.Mtu;
        if (a.Headroom != b.Headroom || a.Tailroom != b.Tailroom) parts |= PairChangeParts.Room;
        if (a.Uplink != b.Uplink) parts |= PairChangeParts.Uplink;
        if (a.LearnLimit != b.LearnLimit) parts |= PairChangeParts.Learning;
        if (!ta.Serves.ToHashSet().SetEquals(tb.Serves)) parts |= PairChangeParts.Services;
        if (a.Primary.Policy != b.Primary.Policy || a.Peer.Policy != b.Peer.Policy) parts |= PairChangeParts.Policy;
        if (a.Primary.Scrub != b.Primary.Scrub || a.Peer.Scrub != b.Peer.Scrub) parts |= PairChangeParts.Scrub;
        if (!SameChain(a.Primary, b.Primary)) parts |= PairChangeParts.PrimaryChain;
        if (!SameChain(a.Peer, b.Peer)) parts |= PairChangeParts.PeerChain;
        if (b.Primary.Chain.Concat(b.Peer.Chain).Any(e => changedPrograms.Contains(e.Program))) parts |= PairChangeParts.Programs;
        return parts;
    }

    private static bool SameChain(PairSideConfig a, PairSideConfig b) =>
        Same(a.Chain, b.Chain, ConfigJsonContext.Default.IReadOnlyListChainEntry);

    private static bool Same<T>(T a, T b, JsonTypeInfo<T> info) =>
        JsonSerializer.SerializeToUtf8Bytes(a, info).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(b, info));
}
