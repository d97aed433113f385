using Appliance.Config;
using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>"Any config edit applies live, touching only what changed", against random edit sequences on the real
/// kernel: from a random valid config (<see cref="WalkConfig"/>: up to 3 ports of 2 queues, 4 pairs L2 and L3 with IPv4
/// and IPv6 addresses, one of them adopting a veth the test made in either mode, the example programs on their
/// chains), <see cref="Steps"/> random edits (<see cref="LiveEdits"/>) each applied as `reload` applies one
/// (<see cref="ApplianceRuntime.Plan"/>, <see cref="ApplianceRuntime.Apply"/>). After each step:
/// <list type="bullet">
/// <item>every pair the edit did not change lost no frame of a steady stream (both ways where its sides pass) while
/// the edit applied (but for pairs on a port whose queues changed: README says its frames drop meanwhile), and kept
/// its runtime object, links and sockets;</item>
/// <item>every pair forwards a probe each way where its sides pass, and nothing where one drops (L3: ping and ping6,
/// from the tenant and to it);</item>
/// <item>the runtime's snapshot (<see cref="RuntimeSnapshot"/>) equals that of a fresh runtime started with the same
/// config (compared after the walk, one fresh start per step).</item>
/// <item>an edit the running frames have no room for (headroom past what they were set up with, MTU or tailroom past
/// the frame) is refused with the reason and changes nothing (<see cref="Refused"/>); a setting read at start
/// (workers, memory, jit, controlSocket) is noted for the next start and changes nothing either
/// (<see cref="RestartOnlyAndBack"/>).</item>
/// </list>
/// A failure names the seed, the step and the edit. LIVE_EDIT_SEEDS runs other seeds ("1-50", "7,12"), LIVE_EDIT_STEPS
/// other walk lengths.</summary>
[Collection(KernelCollection.Name)]
public sealed class LiveEditWalkTests(ITestOutputHelper output)
{
    private static readonly int Steps = int.TryParse(Environment.GetEnvironmentVariable("LIVE_EDIT_STEPS"), out int s) ? s : 10;

    /// <summary>LIVE_EDIT_SEEDS: seeds and ranges, "1-50" or "7,12,20-29"; else the few CI runs.</summary>
    private static IEnumerable<int> Seeds() => Environment.GetEnvironmentVariable("LIVE_EDIT_SEEDS") is { Length: > 0 } v
        ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(item => item.Split('-') is [var a, var b]
            ? Enumerable.Range(int.Parse(a), int.Parse(b) - int.Parse(a) + 1) : [int.Parse(item)])
        : [1, 2, 3];

    [PrivilegedFact]
    public void RandomEditWalksApplyLiveAsAFreshStartWouldAndSpareWhatTheyDoNotChange()
    {
        using var board = new MetaBoard(ports: WalkConfig.PortSlots, tenants: WalkConfig.PairSlots, queues: 2);
        board.EnableIpv6();
        for (int p = 0; p < WalkConfig.PortSlots; p++)
        {
            board.AddAddresses(p);
            board.AddAddresses6(p);
        }
        string objects = TestObjects.Directory;
        string adopted = WalkConfig.AdoptedPrimary(board);
        var adoptedNs = board.Tenants[WalkConfig.AdoptableSlot];
        try
        {
            Shell.Check("ip", "link", "add", adopted, "type", "veth", "peer", "name", WalkConfig.AdoptedInterface, "netns", adoptedNs.Name);
            Shell.Check("sysctl", "-qw", $"net.ipv6.conf.{adopted}.disable_ipv6=1");
            adoptedNs.Exec("ip", "link", "set", "dev", WalkConfig.AdoptedInterface, "address", WalkConfig.AdoptedMac.ToString());
            adoptedNs.Exec("ethtool", "-K", WalkConfig.AdoptedInterface, "tx", "off");
            adoptedNs.Exec("ip", "link", "set", "dev", WalkConfig.AdoptedInterface, "up");
            Shell.Check("ip", "link", "set", "dev", adopted, "up");
            foreach (int seed in Seeds())
            {
                var started = DateTime.UtcNow;
                Walk(board, objects, seed);
                output.WriteLine($"seed {seed}: {Steps} steps in {(DateTime.UtcNow - started).TotalSeconds:F1} s");
            }
        }
        finally
        {
            Shell.Run("ip", "link", "del", adopted);
            for (int slot = 0; slot < WalkConfig.PairSlots; slot++) Shell.Run("ip", "netns", "del", WalkConfig.CreatedNetns(board, slot));
        }
    }

    private void Walk(MetaBoard board, string objects, int seed)
    {
        var random = new Random(seed);
        var model = LiveEdits.Start(random);
        var models = new List<WalkConfig> { model };
        var configs = new List<ApplianceConfig> { model.Validated(board, objects) };
        var edits = new List<string> { "start" };
        var snapshots = new List<List<string>>();
        output.WriteLine($"seed {seed} start: {model}");

        Own(board, model);
        var began = DateTime.UtcNow;
        var rt = Start(configs[0], objects);
        try
        {
            Probe(board, rt, model, $"seed {seed} at start: {model}");
            snapshots.Add(Snapshot(rt));
            for (int step = 1; step <= Steps; step++)
            {
                var (next, what) = LiveEdits.Next(model, random);
                string context = $"seed {seed} step {step}: {what}\n  from: {model}\n  to:   {next}";
                output.WriteLine($"seed {seed} step {step}: {what} (at {(DateTime.UtcNow - began).TotalSeconds:F1} s)");
                var config = next.Validated(board, objects);
                if (next.Restart != RestartOnly.None)
                {
                    RestartOnlyAndBack(board, rt, model, config, model.Validated(board, objects), snapshots[^1], context);
                    continue;
                }
                if (next.RefusedLive(rt.FrameSize, rt.FrameHeadroom) is { } refusal)
                {
                    Refused(board, rt, model, config, refusal, snapshots[^1], context);
                    continue;
                }
                Own(board, next);
                Apply(board, rt, model, next, config, context);
                Probe(board, rt, next, context);
                snapshots.Add(Snapshot(rt));
                models.Add(next);
                configs.Add(config);
                edits.Add(what);
                model = next;
            }
        }
        finally
        {
            rt.Dispose();
        }

        output.WriteLine($"seed {seed}: walked in {(DateTime.UtcNow - began).TotalSeconds:F1} s");
        for (int step = 0; step < configs.Count; step++)
        {
            Own(board, models[step]);
            using var fresh = Start(configs[step], objects);
            var want = Snapshot(fresh);
            var diff = RuntimeSnapshot.Difference(want, snapshots[step]);
            Assert.True(diff.Length == 0, $"seed {seed} step {step} ({edits[step]}): the live runtime differs from a fresh start with its config " +
                $"(- fresh, + live):\n{diff}\n  config: {models[step]}");
        }
    }

    private static ApplianceRuntime Start(ApplianceConfig config, string objects) =>
        ApplianceRuntime.Start(config, new RuntimeOptions { ConfigDirectory = objects, SweepStale = false });

    private static List<string> Snapshot(ApplianceRuntime rt)
    {
        Assert.True(Eventually.True(() => rt.Topology.Pairs.All(p => p.CarrierUp)), "every pair's carrier comes up");
        return RuntimeSnapshot.Take(rt, WalkConfig.UniverseMacs);
    }

    /// <summary>Applies <paramref name="config"/> live while a steady stream runs through every pair the edit leaves
    /// as it was (each way its sides pass, L2: the streams' frames are not IP); those lose no frame and keep their
    /// runtime object, links and sockets.</summary>
    private void Apply(MetaBoard board, ApplianceRuntime rt, WalkConfig from, WalkConfig to, ApplianceConfig config, string context)
    {
        var diff = ConfigDiff.Compute(rt.Config, config);
        var changed = diff.PairsChanged.Select(c => c.Name).Concat(diff.PairsRemoved).ToHashSet(StringComparer.Ordinal);
        var untouched = from.Pairs.Where(p => !changed.Contains(board.PairNames[p.Slot])).ToList();
        var before = untouched.ToDictionary(p => p.Slot, p => Identity(rt, board.PairNames[p.Slot]));
        var streams = new List<(string What, SteadyStream Stream)>();
        try
        {
            // A port whose queues change re-opens its sockets: its pairs' frames are dropped meanwhile (README).
            var requeued = to.Ports.Where(p => from.Ports.Any(f => f.Slot == p.Slot && f.Queues != p.Queues)).Select(p => p.Slot).ToHashSet();
            streams.AddRange(Streams(board, from, untouched.Where(p => p.Mode == PairMode.L2 && !requeued.Contains(p.Uplink))));
            Thread.Sleep(50);
            var plan = rt.Plan(config);
            output.WriteLine(plan.Describe());
            rt.Apply(plan);
            Thread.Sleep(50);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{context}\nthe edit failed to apply: {e}");
        }
        finally
        {
            foreach (var (_, stream) in streams) stream.Stop();
            foreach (var (_, stream) in streams) stream.Dispose();
        }
        foreach (var (what, stream) in streams)
            Assert.True(stream.Sent > 0 && stream.Lost == 0, $"{context}\nuntouched pair {what}: {stream}");
        // A port's new MAC reaches its LAN's neighbour caches when their entries for its L3 tenants expire (the
        // appliance sends no unsolicited ARP for them): the outside forgets them now.
        foreach (var port in to.Ports.Where(p => from.Ports.Any(f => f.Slot == p.Slot && f.Mac != p.Mac)))
            board.Outside.Exec("ip", "neigh", "flush", "dev", MetaBoard.OutsideInterface(port.Slot));
        foreach (var p in untouched)
            Assert.True(before[p.Slot] == Identity(rt, board.PairNames[p.Slot]), $"{context}\nuntouched pair t{p.Slot} was re-made: {before[p.Slot]} → {Identity(rt, board.PairNames[p.Slot])}");
    }

    /// <summary>An edit a running appliance cannot take (its frames have no room for it; README "Live reload"): the
    /// reload is refused with an error that says why and what to do, and nothing changes — every pair's steady
    /// streams lose no frame, keep their runtime objects and sockets, and the snapshot is the one before.</summary>
    private void Refused(MetaBoard board, ApplianceRuntime rt, WalkConfig model, ApplianceConfig config, string refusal, List<string> before, string context) =>
        ChangesNothing(board, rt, model, before, context + "\nrefused edit", () =>
        {
            var error = Record.Exception(() => rt.Apply(rt.Plan(config)));
            Assert.True(error is RuntimeSetupException && error.Message.Contains(refusal), $"{context}\nthe reload must be refused (\"{refusal}\"), got: {error?.ToString() ?? "applied"}");
            output.WriteLine($"  refused: {error!.Message}");
        });

    /// <summary>A setting read at start changes (<paramref name="config"/>) and changes back (<paramref name="back"/>):
    /// each reload applies no step and its plan notes that the setting changes at the next start; nothing changes.</summary>
    private void RestartOnlyAndBack(MetaBoard board, ApplianceRuntime rt, WalkConfig model, ApplianceConfig config, ApplianceConfig back,
        List<string> before, string context) =>
        ChangesNothing(board, rt, model, before, context + "\nrestart-only edit", () =>
        {
            foreach (var (to, what) in new[] { (config, "there"), (back, "back") })
            {
                var plan = rt.Plan(to);
                output.WriteLine($"  {what}: steps {plan.Steps.Count}; notes: {string.Join("; ", plan.Notes)}");
                Assert.True(plan.IsEmpty && plan.Notes.Any(n => n.Contains("at the next start")),
                    $"{context}\n{what}: a setting read at start changed: the plan must have no step and note it; steps:\n{plan.Describe()}\nnotes: {string.Join("; ", plan.Notes)}");
                rt.Apply(plan);
            }
        });

    /// <summary>Runs <paramref name="reload"/> while every pair's steady streams run (each way its sides pass), then
    /// checks that nothing changed: no stream lost a frame, every pair keeps its runtime object and sockets, forwards
    /// as before, and the snapshot is <paramref name="before"/>.</summary>
    private void ChangesNothing(MetaBoard board, ApplianceRuntime rt, WalkConfig model, List<string> before, string context, Action reload)
    {
        var identities = model.Pairs.ToDictionary(p => p.Slot, p => Identity(rt, board.PairNames[p.Slot]));
        var streams = Streams(board, model, model.Pairs.Where(p => p.Mode == PairMode.L2));
        try
        {
            Thread.Sleep(50);
            reload();
            Thread.Sleep(50);
        }
        finally
        {
            foreach (var (_, stream) in streams) stream.Stop();
            foreach (var (_, stream) in streams) stream.Dispose();
        }
        foreach (var (what, stream) in streams)
            Assert.True(stream.Sent > 0 && stream.Lost == 0, $"{context}: pair {what}: {stream}");
        foreach (var p in model.Pairs)
            Assert.True(identities[p.Slot] == Identity(rt, board.PairNames[p.Slot]), $"{context}: pair t{p.Slot} was re-made");
        Probe(board, rt, model, context);
        var diff = RuntimeSnapshot.Difference(before, Snapshot(rt));
        Assert.True(diff.Length == 0, $"{context}: the runtime changed (- before, + after):\n{diff}");
    }

    /// <summary>Steady streams through <paramref name="pairs"/> (L2), each way its sides pass in <paramref name="model"/>.</summary>
    private static List<(string What, SteadyStream Stream)> Streams(MetaBoard board, WalkConfig model, IEnumerable<WalkPair> pairs)
    {
        var streams = new List<(string What, SteadyStream Stream)>();
        foreach (var p in pairs)
        {
            byte[] tenantMac = WalkConfig.TenantMacOf(p).GetBytes(), outsideMac = board.OutsideMac(p.Uplink);
            string tenantNs = WalkConfig.NetnsOf(board, p), outside = MetaBoard.OutsideInterface(p.Uplink);
            if (model.Passes(p.Primary))
                streams.Add(($"t{p.Slot} in", new SteadyStream(board.Outside.Name, outside, tenantNs, WalkConfig.TenantInterfaceOf(p), tenantMac, outsideMac)));
            if (model.Passes(p.Peer))
                streams.Add(($"t{p.Slot} out", new SteadyStream(tenantNs, WalkConfig.TenantInterfaceOf(p), board.Outside.Name, outside, outsideMac, tenantMac)));
        }
        return streams;
    }

    /// <summary>What the board's owner does before a config starts or reloads: a port the config sets no MTU on has the
    /// board's (1500), as the walk's first start found it (a port's MTU stays as the last config set it, also when it is
    /// released). And what the owner of the adopted veth (a container runtime) does for the pair that adopts it: an L3
    /// pair's tenant end is NOARP with the pair's addresses and default routes out of it (as the appliance sets up a
    /// veth of its own); otherwise it is an Ethernet end without addresses.</summary>
    private void Own(MetaBoard board, WalkConfig model)
    {
        foreach (var port in model.Ports.Where(p => p.Mtu == 0))
            Shell.Check("ip", "link", "set", "dev", board.Ports[port.Slot], "mtu", "1500");
        var l3 = model.Pairs.FirstOrDefault(p => p.Adopted && p.Mode == PairMode.L3);
        var addresses = l3 is null ? [] : WalkConfig.AddressesOf(l3).ToList();
        string state = string.Join(" ", addresses);
        if (state == _owned) return;
        _owned = state;
        var ns = board.Tenants[WalkConfig.AdoptableSlot];
        const string dev = WalkConfig.AdoptedInterface;
        ns.Exec("ip", "addr", "flush", "dev", dev, "scope", "global");
        Shell.Run("ip", "-n", ns.Name, "-6", "route", "del", "default", "dev", dev);
        Shell.Run("ip", "-n", ns.Name, "-4", "route", "del", "default", "dev", dev);
        ns.Exec("ip", "link", "set", "dev", dev, "arp", l3 is null ? "on" : "off");
        foreach (var a in addresses) ns.Exec("ip", "addr", "add", a, "dev", dev, "nodad");
        foreach (var family in new[] { "-4", "-6" })
            if (addresses.Any(a => a.Contains(':') == (family == "-6"))) ns.Exec("ip", family, "route", "replace", "default", "dev", dev); // the slot's own veth may have one yet: the reload replaces that pair
    }

    private string? _owned;

    /// <summary>What must stay the same for a pair a reload leaves alone: its runtime object, engine index, both links'
    /// ifindexes and its AF_XDP sockets.</summary>
    private static string Identity(ApplianceRuntime rt, string name)
    {
        var pair = rt.FindPair(name);
        var sockets = rt.Engine.AllPorts.Where(s => s.Index == pair.Index).Select(s => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(s));
        return $"object {System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(pair)} index {pair.Index} primary {new LinkManager().Get(pair.PrimaryName).Index} " +
            $"tenant {pair.TenantIfindex} sockets [{string.Join(" ", sockets)}]";
    }

    /// <summary>A pair's sides' counters, their drops by reason.</summary>
    private static string Drops(PairRuntime pair) => string.Join("; ", new[] { pair.Primary, pair.Peer }.Select(s =>
        $"{s.Kind} in {s.Counters.RxPackets} out {s.Counters.TxPackets} drops " +
        string.Join(" ", Enum.GetValues<Appliance.Datapath.Forwarding.PairDropReason>().Where(r => s.Counters.Drops(r) > 0).Select(r => $"{r}={s.Counters.Drops(r)}"))));

    /// <summary>Every pair forwards each way its sides pass and nothing where one drops: L2 with test frames between its
    /// tenant and its uplink's outside end, L3 with a ping from the tenant's uplink address to the outside's address.</summary>
    private static void Probe(MetaBoard board, ApplianceRuntime rt, WalkConfig model, string context)
    {
        Assert.True(Eventually.True(() => rt.Topology.Pairs.All(p => p.CarrierUp)), $"{context}\nevery pair's carrier comes up");
        const int Frames = 2, Absent = 300;
        foreach (var p in model.Pairs)
        {
            string tenantNs = WalkConfig.NetnsOf(board, p), outside = MetaBoard.OutsideInterface(p.Uplink);
            bool inPasses = model.Passes(p.Primary), outPasses = model.Passes(p.Peer);
            if (p.Mode == PairMode.L2)
            {
                byte[] tenantMac = WalkConfig.TenantMacOf(p).GetBytes(), outsideMac = board.OutsideMac(p.Uplink);
                int got = FrameProbe.Exchange(board.Outside.Name, outside, tenantNs, WalkConfig.TenantInterfaceOf(p), tenantMac, outsideMac, Frames, out _,
                    timeoutMs: inPasses ? FrameProbe.Timeout : Absent).Count;
                Assert.True(got == (inPasses ? Frames : 0), $"{context}\nt{p.Slot} world → tenant: {got} of {Frames} frames arrived (its primary side {(inPasses ? "passes" : "drops")}); {Drops(rt.FindPair(board.PairNames[p.Slot]))}");
                got = FrameProbe.Exchange(tenantNs, WalkConfig.TenantInterfaceOf(p), board.Outside.Name, outside, outsideMac, tenantMac, Frames, out _,
                    timeoutMs: outPasses ? FrameProbe.Timeout : Absent).Count;
                Assert.True(got == (outPasses ? Frames : 0), $"{context}\nt{p.Slot} tenant → world: {got} of {Frames} frames arrived (its peer side {(outPasses ? "passes" : "drops")}); {Drops(rt.FindPair(board.PairNames[p.Slot]))}");
            }
            else
            {
                bool passes = inPasses && outPasses;
                var pair = rt.FindPair(board.PairNames[p.Slot]);
                foreach (var (bit, family, tenant, outsideAddress) in new[]
                {
                    (WalkConfig.V4Reachable, "-4", WalkConfig.AddressOf(p, 0), MetaBoard.OutsideAddress(p.Uplink)),
                    (WalkConfig.V6Reachable, "-6", WalkConfig.AddressOf(p, 3), MetaBoard.OutsideAddress6(p.Uplink)),
                })
                {
                    if ((p.Addresses & bit) == 0) continue;
                    // Each way when they pass; where one drops, an echo either way crosses both sides: one suffices.
                    foreach (var (ns, from, to) in new[] { (tenantNs, tenant, outsideAddress), (board.Outside.Name, outsideAddress, tenant) }.Take(passes ? 2 : 1))
                    {
                        bool answered = false;
                        for (int attempt = 0; attempt < (passes ? 5 : 1) && !answered; attempt++) // the first may meet an unknown neighbour: dropped while the kernel resolves it
                            answered = Shell.Run("ip", "netns", "exec", ns, "ping", family, "-c", "1", "-W", passes ? "1" : "0.3", "-I", from, to).ExitCode == 0;
                        Assert.True(answered == passes, $"{context}\nt{p.Slot} (l3) ping {from} → {to} {(answered ? "answered" : "unanswered")} (its sides {(passes ? "pass" : "do not both pass")}); " +
                            $"{Drops(pair)}; the board's neighbour: {Shell.Run("ip", "neigh", "show", outsideAddress).StdOut.Trim()}; " +
                            $"its route: {Shell.Run("ip", "route", "get", outsideAddress).StdOut.Trim()}; the appliance's: " +
                            $"{rt.RoutingTables.Routes.Lookup(family == "-4" ? Appliance.Bpf.Routing.IpFamily.Inet : Appliance.Bpf.Routing.IpFamily.Inet6, System.Net.IPAddress.Parse(outsideAddress).GetAddressBytes())} " +
                            $"ports [{string.Join(" ", rt.Topology.Ports.Select(x => $"{x.Name}={x.Ifindex}"))}]; the outside's neighbour: " +
                            $"{Shell.Run("ip", "-n", board.Outside.Name, "neigh", "show", tenant).StdOut.Trim()}");
                    }
                }
            }
        }
    }
}
