using Appliance.Config;
using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>The runtime as a reconciler (<see cref="ApplianceRuntime.Plan"/> + <see cref="ApplianceRuntime.Apply"/>)
/// on a namespaced board, while a steady stream (about 2,000 frames/s) runs to tenant A: adding, changing and
/// removing pair B, replacing its program's object file, adding and removing a port lose none of A's frames; a
/// failed step undoes the others; a change of A itself costs A only what the rules say.</summary>
[Collection(KernelCollection.Name)]
public sealed class ReconcileTests(ITestOutputHelper output)
{
    private static readonly MacAddress MacB = MacAddress.Parse("02:00:00:00:0b:01");

    private sealed class Rig : IDisposable
    {
        public MetaBoard Board { get; }
        public string Objects { get; }
        public string PairB { get; } = NetNamespace.UniqueInterface("mrb");
        public string NetnsB { get; } = NetNamespace.UniqueName("rcb");
        public ApplianceRuntime Runtime { get; }
        public ApplianceConfig Config => Runtime.Config;
        /// <summary>Runs before each step an apply takes (RuntimeOptions.BeforeStep): a test's way to break one.</summary>
        public Action<PlanStep>? BeforeStep { get; set; }

        public Rig(PairSideConfig? primaryA = null)
        {
            Board = new MetaBoard(ports: 2, tenants: 1);
            Objects = Path.Combine(Path.GetTempPath(), $"mapp-reconcile-{Guid.NewGuid():N}");
            try
            {
                Directory.CreateDirectory(Objects);
                TestObjects.Build("verdict", Path.Combine(Objects, "verdict.bpf.o"));
                TestObjects.Build("verdict", Path.Combine(Objects, "verdict-drop.bpf.o"), "-DVERDICT=2");
                File.Copy(Path.Combine(TestObjects.Directory, "probe.bpf.o"), Path.Combine(Objects, "probe.bpf.o"));
                var config = new ApplianceConfig
                {
                    Board = "test",
                    ControlSocket = "/run/mapp-unused.sock",
                    Ports = [Board.Port(0)],
                    Pairs = [Board.Pair(0, primary: primaryA)],
                    Programs =
                    [
                        new ProgramConfig { Name = "verdict", Object = "verdict.bpf.o", Section = "tc" },
                        MetaBoard.Probe("a", 'a'),
                    ],
                };
                Runtime = ApplianceRuntime.Start(config, new RuntimeOptions
                {
                    ConfigDirectory = Objects, SweepStale = false, BeforeStep = s => BeforeStep?.Invoke(s),
                });
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public PairConfig B(PairSideConfig? primary = null, int mtu = 1500, params string[] addresses) => new()
        {
            Name = PairB,
            Mode = PairMode.L2,
            Uplink = Board.Ports[0],
            Tenant = new TenantConfig
            {
                Netns = NetnsB,
                Interface = MetaBoard.TenantInterface,
                Mac = MacB,
                Mtu = mtu,
                Addresses = [.. addresses.Select(InterfaceAddress.Parse)],
            },
            Primary = primary ?? new PairSideConfig(),
        };

        /// <summary>Plans and applies; returns the plan's text.</summary>
        public string Apply(ApplianceConfig next)
        {
            var plan = Runtime.Plan(next);
            Runtime.Apply(plan);
            return plan.Describe();
        }

        public SteadyStream StreamToA() => new(Board.Outside.Name, MetaBoard.OutsideInterface(0), Board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), Board.OutsideMac(0));

        public int ReachB(int count = 5, int timeoutMs = FrameProbe.Timeout) =>
            FrameProbe.Exchange(Board.Outside.Name, MetaBoard.OutsideInterface(0), NetnsB, MetaBoard.TenantInterface, MacB.GetBytes(),
                Board.OutsideMac(0), count, out _, timeoutMs: timeoutMs).Count;

        public void Dispose()
        {
            try { Runtime?.Dispose(); }
            finally
            {
                Shell.Run("ip", "link", "del", PairB);
                Shell.Run("ip", "netns", "del", NetnsB);
                Board.Dispose();
                try { Directory.Delete(Objects, recursive: true); } catch (IOException) { }
            }
        }
    }

    [PrivilegedFact]
    public void EditsAroundTenantALoseNoneOfItsFrames()
    {
        using var rig = new Rig();
        var start = rig.Config;
        using var stream = rig.StreamToA();
        Thread.Sleep(300);

        // Add pair B (its namespace created by the appliance) with the verdict program (PASS) on its primary side.
        var withB = start with { Pairs = [.. start.Pairs, rig.B(MetaBoard.Side(chain: "verdict"))] };
        var plan = rig.Apply(withB);
        output.WriteLine(plan);
        Assert.Contains($"create  pair {rig.PairB}", plan);
        Assert.Equal(5, rig.ReachB());
        long hits = Hits(rig);
        Assert.Equal(5, hits);

        // Change B's addresses, MTU, policy and scrub in place (B is not re-created: the same veth ends, whose
        // ifindexes a re-creation would change — the board's end's at least: B's namespace, made anew, could count
        // from the same number again).
        int ifindexB = rig.Runtime.FindPair(rig.PairB).TenantIfindex, primaryB = new LinkManager().Get(rig.PairB).Index;
        var changed = withB with
        {
            Pairs = [start.Pairs[0], rig.B(MetaBoard.Side(SidePolicy.Drop, ScrubMode.None, "verdict"), 1400, "10.77.0.2/24") with
            {
                Peer = MetaBoard.Side(SidePolicy.Drop),
            }],
        };
        plan = rig.Apply(changed);
        output.WriteLine(plan);
        var b = rig.Runtime.FindPair(rig.PairB);
        Assert.DoesNotContain("re-created", plan);
        Assert.Equal(ifindexB, b.TenantIfindex);
        Assert.Equal(primaryB, new LinkManager().Get(rig.PairB).Index);
        Assert.Equal((SidePolicy.Drop, ScrubMode.None, SidePolicy.Drop), (b.Primary.Policy, b.Primary.Scrub, b.Peer.Policy));
        using (var inside = new LinkManager(rig.NetnsB)) Assert.Equal(1400, inside.Get(MetaBoard.TenantInterface).Mtu);
        Assert.Contains("10.77.0.2/24", Shell.Check("ip", "-n", rig.NetnsB, "addr", "show", "dev", MetaBoard.TenantInterface));
        Assert.Equal(1400, new LinkManager().Get(rig.PairB).Mtu);
        Assert.Equal(5, rig.ReachB());

        // Replace B's program object with a rebuilt one that drops: same config text, new file content.
        File.Copy(Path.Combine(rig.Objects, "verdict-drop.bpf.o"), Path.Combine(rig.Objects, "verdict.bpf.o"), overwrite: true);
        plan = rig.Apply(changed);
        output.WriteLine(plan);
        Assert.Contains("replace program verdict: object changed (xxh128 ", plan);
        Assert.Contains("maps kept: hits", plan);
        Assert.Equal(0, rig.ReachB(5, FrameProbe.Absence));
        Assert.Equal(hits + 5 + 5, Hits(rig)); // the map carried over and the new program counted on
        Assert.Equal(0, rig.Apply(changed) == "no changes" ? 0 : 1);

        // Add and remove a port.
        var withPort = changed with { Ports = [.. changed.Ports, rig.Board.Port(1, UnclaimedPolicy.Drop)] };
        output.WriteLine(rig.Apply(withPort));
        Assert.Equal(2, rig.Runtime.Topology.Ports.Length);
        Assert.True(new LinkManager().Get(rig.Board.Ports[1]).Xdp.IsAttached, "the new port has its steering");
        output.WriteLine(rig.Apply(changed));
        Assert.Single(rig.Runtime.Topology.Ports);
        Assert.False(new LinkManager().Get(rig.Board.Ports[1]).Xdp.IsAttached, "the released port has no XDP left");

        // Remove B: its veth and the namespace the appliance made for it are gone.
        plan = rig.Apply(start);
        output.WriteLine(plan);
        Assert.Contains($"delete  pair {rig.PairB}", plan);
        Assert.Null(new LinkManager().TryGet(rig.PairB));
        Assert.False(NetworkNamespace.Exists(rig.NetnsB));

        stream.Stop();
        output.WriteLine(stream.ToString());
        Assert.True(stream.Sent >= 1000, stream.ToString());
        Assert.Equal(0, stream.Lost);
        var account = rig.Runtime.Engine.AccountFrames();
        Assert.True(account.IsClean, account.ToString());
    }

    [PrivilegedFact]
    public void AFailedStepUndoesTheDoneStepsAndTheRunningConfigForwards()
    {
        using var rig = new Rig();
        var start = rig.Config;
        string taken = NetNamespace.UniqueInterface("mrc");
        Shell.Check("ip", "link", "add", taken, "type", "veth", "peer", "name", taken + "p"); // a real netlink error: the pair's name is taken
        try
        {
            using var stream = rig.StreamToA();
            var next = start with
            {
                Pairs = [start.Pairs[0] with { Primary = MetaBoard.Side(chain: "a") }, rig.B(), rig.B() with
                {
                    Name = taken,
                    Tenant = rig.B().Tenant with { Netns = rig.NetnsB, Interface = "eth1", Mac = MacAddress.Parse("02:00:00:00:0c:01") },
                }],
            };
            var plan = rig.Runtime.Plan(next);
            output.WriteLine(plan.Describe());
            var e = Assert.Throws<ReconcileException>(() => rig.Runtime.Apply(plan));
            output.WriteLine(e.Message);
            Assert.Contains($"FAILED: create  pair {taken}", e.Message);
            Assert.Contains($"undone: create  pair {rig.PairB}", e.Message);
            Assert.Same(start, rig.Config);
            Assert.Null(new LinkManager().TryGet(rig.PairB));
            Assert.False(NetworkNamespace.Exists(rig.NetnsB));
            Assert.Empty(rig.Runtime.FindPair(rig.Board.PairNames[0]).Primary.Chain.Programs);
            Assert.Single(rig.Runtime.Topology.Pairs);
            stream.Stop();
            output.WriteLine(stream.ToString());
            Assert.Equal(0, stream.Lost);
        }
        finally
        {
            Shell.Run("ip", "link", "del", taken);
        }
    }

    /// <summary>A reload re-creates pair B (its tenant interface renamed) and, just before B is made again, a link
    /// takes B's name: the creation fails, and so does its undo (making B as it was). B is then not running while the
    /// running config has it: before, every later plan threw "no pair called B is running" and no reload was taken
    /// until a restart. Now the failure and `status` say B is not running; a reload while the name is taken applies
    /// its other changes and leaves B not running with the reason; once the name is free the reload makes B again.</summary>
    [PrivilegedFact]
    public void AnUndoThatFailsLeavesThePairNotRunningAndTheNextReloadMakesItAgain()
    {
        using var rig = new Rig();
        var start = rig.Config;
        var withB = start with { Pairs = [.. start.Pairs, rig.B()] };
        rig.Apply(withB);
        Assert.Equal(5, rig.ReachB());
        var renamed = withB with { Pairs = [start.Pairs[0], rig.B() with { Tenant = rig.B().Tenant with { Interface = "eth1" } }] };
        rig.BeforeStep = s =>
        {
            if (s.Action == PlanAction.Create && s.Target == $"pair {rig.PairB}") Shell.Check("ip", "link", "add", rig.PairB, "type", "veth", "peer", "name", rig.PairB + "p");
        };
        var e = Assert.Throws<ReconcileException>(() => rig.Runtime.Apply(rig.Runtime.Plan(renamed)));
        rig.BeforeStep = null;
        output.WriteLine(e.Message);
        Assert.Contains($"FAILED: create  pair {rig.PairB}", e.Message);
        Assert.Contains($"undo failed: delete  pair {rig.PairB}", e.Message);
        Assert.Same(withB, rig.Config);
        Assert.Contains($"NOT RUNNING: pair {rig.PairB}", e.Message);
        Assert.Equal([$"pair {rig.PairB}"], e.NotRunning.Select(p => p.Target));
        Assert.Equal([$"pair {rig.PairB}"], rig.Runtime.NotRunning.Select(p => p.Target));
        Assert.Contains("already exists", rig.Runtime.NotRunning[0].Why);
        Assert.Single(rig.Runtime.Topology.Pairs);
        Assert.False(NetworkNamespace.Exists(rig.NetnsB)); // what the runtime holds is what exists: B's veth and namespace are gone

        // The name still taken: a reload that also changes A (its MTU) makes B again and fails at that, B stays not
        // running with the reason, and the rest applies (A's new MTU): a part whose cause stays holds no other
        // tenant's change back. Before, the whole reload was undone, and so was every reload until the name was free.
        var aChanged = withB with { Pairs = [start.Pairs[0] with { Tenant = start.Pairs[0].Tenant with { Mtu = 1400 } }, rig.B()] };
        var plan = rig.Runtime.Plan(aChanged);
        output.WriteLine(plan.Describe());
        Assert.Contains($"create  pair {rig.PairB}", plan.Describe());
        Assert.Contains($"note: pair {rig.PairB} is not running", plan.Describe());
        rig.Runtime.Apply(plan);
        Assert.Same(aChanged, rig.Config);
        Assert.Equal([$"pair {rig.PairB}"], rig.Runtime.NotRunning.Select(p => p.Target));
        Assert.Contains("already exists", rig.Runtime.NotRunning[0].Why);
        Assert.Single(rig.Runtime.Topology.Pairs);
        Assert.Contains("mtu 1400", Shell.Check("ip", "-n", rig.Board.Tenants[0].Name, "link", "show", "dev", MetaBoard.TenantInterface));
        Assert.Equal(5, FrameProbe.Exchange(rig.Board.Outside.Name, MetaBoard.OutsideInterface(0), rig.Board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), rig.Board.OutsideMac(0), 5, out _).Count);

        // The name free again: the same config makes B again; then the edit that failed applies as any other.
        Shell.Check("ip", "link", "del", rig.PairB);
        output.WriteLine(rig.Apply(withB));
        Assert.Empty(rig.Runtime.NotRunning);
        Assert.Equal(2, rig.Runtime.Topology.Pairs.Length);
        Assert.Equal(5, rig.ReachB());
        output.WriteLine(rig.Apply(renamed));
        Assert.Equal(2, rig.Runtime.Topology.Pairs.Length);
        Assert.NotNull(new LinkManager(rig.NetnsB).TryGet("eth1"));

        // A config without B drops it while it is not running (nothing to delete).
        rig.BeforeStep = s =>
        {
            if (s.Action == PlanAction.Create && s.Target == $"pair {rig.PairB}") Shell.Check("ip", "link", "add", rig.PairB, "type", "veth", "peer", "name", rig.PairB + "p");
        };
        Assert.Throws<ReconcileException>(() => rig.Runtime.Apply(rig.Runtime.Plan(withB)));
        rig.BeforeStep = null;
        Assert.Single(rig.Runtime.NotRunning);
        output.WriteLine(rig.Apply(start));
        Assert.Empty(rig.Runtime.NotRunning);
        Assert.Same(start, rig.Config);
        Assert.NotNull(new LinkManager().TryGet(rig.PairB)); // the link that took the name is not the appliance's: it stays
    }

    /// <summary>A pair whose change could not be undone runs as neither config says: it is taken out (not running) and
    /// the next reload makes it again from its config.</summary>
    [PrivilegedFact]
    public void APairWhoseUndoFailedIsTakenOutAndTheNextReloadMakesItAgain()
    {
        using var rig = new Rig();
        var start = rig.Config;
        var withB = start with { Pairs = [.. start.Pairs, rig.B(addresses: "10.99.7.2/24")] };
        rig.Apply(withB);
        Assert.Equal(5, rig.ReachB());
        // B's address changes, then the port's MTU; the MTU step fails after B's tenant interface was renamed under
        // the appliance, so undoing B's address change fails (no such interface).
        var edited = withB with
        {
            Ports = [start.Ports[0] with { Mtu = 1500 }],
            Pairs = [start.Pairs[0], rig.B(addresses: "10.99.7.3/24")],
        };
        rig.BeforeStep = s =>
        {
            if (s.Target != $"port {rig.Board.Ports[0]}") return;
            Shell.Check("ip", "-n", rig.NetnsB, "link", "set", "dev", MetaBoard.TenantInterface, "down");
            Shell.Check("ip", "-n", rig.NetnsB, "link", "set", "dev", MetaBoard.TenantInterface, "name", "renamed0");
            throw new InvalidOperationException("injected: the port step fails");
        };
        var e = Assert.Throws<ReconcileException>(() => rig.Runtime.Apply(rig.Runtime.Plan(edited)));
        rig.BeforeStep = null;
        output.WriteLine(e.Message);
        Assert.Contains($"undo failed: change  pair {rig.PairB}", e.Message);
        Assert.Contains($"taken out: pair {rig.PairB}", e.Message);
        Assert.Equal([$"pair {rig.PairB}"], rig.Runtime.NotRunning.Select(p => p.Target));
        Assert.Same(withB, rig.Config);
        Assert.Single(rig.Runtime.Topology.Pairs);
        Assert.False(NetworkNamespace.Exists(rig.NetnsB)); // taken out: its veth and the namespace the appliance made are gone

        // The next reload makes B again as its config says, and it forwards.
        output.WriteLine(rig.Apply(withB));
        Assert.Empty(rig.Runtime.NotRunning);
        Assert.Equal(2, rig.Runtime.Topology.Pairs.Length);
        Assert.Equal(5, rig.ReachB());
    }

    [PrivilegedFact]
    public void ChangesOfTenantAItselfCostWhatTheRulesSay()
    {
        using var rig = new Rig();
        var start = rig.Config;
        var a = start.Pairs[0];
        using (var stream = rig.StreamToA())
        {
            Thread.Sleep(200);
            output.WriteLine(rig.Apply(start with { Pairs = [a with { Primary = MetaBoard.Side(chain: ["verdict", "a"]) }] }));
            Thread.Sleep(200);
            output.WriteLine(rig.Apply(start));
            stream.Stop();
            output.WriteLine("chain swaps on A: " + stream);
            Assert.Equal(0, stream.Lost);
            Assert.True(Hits(rig) > 0, "the swapped-in chain ran");
        }

        // A MAC change re-creates A: a new veth (new ifindex), reachable at its new MAC.
        int before = rig.Runtime.FindPair(a.Name).TenantIfindex;
        var newMac = MacAddress.Parse("02:00:00:00:0a:77");
        var plan = rig.Runtime.Plan(start with { Pairs = [a with { Tenant = a.Tenant with { Mac = newMac } }] });
        output.WriteLine(plan.Describe());
        Assert.Contains("re-created", plan.Describe());
        rig.Runtime.Apply(plan);
        Assert.Equal(newMac, rig.Runtime.FindPair(a.Name).TenantMac);
        Assert.NotEqual(before, rig.Runtime.FindPair(a.Name).TenantIfindex);
        var got = FrameProbe.Exchange(rig.Board.Outside.Name, MetaBoard.OutsideInterface(0), rig.Board.Tenants[0].Name, MetaBoard.TenantInterface,
            newMac.GetBytes(), rig.Board.OutsideMac(0), 5, out _);
        Assert.Equal(5, got.Count);
    }

    /// <summary>A port's <c>unclaimed</c> change swaps its XDP program in place (BPF_LINK_UPDATE on the same link,
    /// same maps): the program id changes, the port is never without a program, and tenant A's stream (claimed
    /// frames) loses none across 20 swaps; unclaimed unicast then goes the new way.</summary>
    [PrivilegedFact]
    public void AnUnclaimedChangeSwapsThePortProgramAtomicallyAndTenantALosesNothing()
    {
        using var rig = new Rig();
        var start = rig.Config;
        var dropping = start with { Ports = [start.Ports[0] with { Unclaimed = UnclaimedPolicy.Drop }] };
        string port = rig.Board.Ports[0];
        var ids = new HashSet<uint> { new LinkManager().Get(port).Xdp.ProgramId };
        long link = XdpLinkId(ids.Single());
        using (var stream = rig.StreamToA())
        {
            Thread.Sleep(200);
            for (int i = 0; i < 20; i++)
            {
                Assert.Contains("unclaimed", rig.Apply(i % 2 == 0 ? dropping : start));
                var xdp = new LinkManager().Get(port).Xdp;
                Assert.True(xdp.IsAttached, "the port keeps a program");
                Assert.True(ids.Add(xdp.ProgramId), $"swap {i} attached a new program (id {xdp.ProgramId})");
                Assert.Equal(link, XdpLinkId(xdp.ProgramId)); // the same bpf_link, updated: never detached and re-attached
                Thread.Sleep(50);
            }
            stream.Stop();
            output.WriteLine("20 unclaimed swaps under A's stream: " + stream);
            Assert.True(stream.Sent >= 1000, stream.ToString());
            Assert.Equal(0, stream.Lost);
        }
        Assert.Equal(UnclaimedPolicy.Kernel, rig.Runtime.Topology.Ports.Single(p => p.Name == port).Config.Unclaimed);
        Assert.False(rig.Runtime.Topology.Ports.Single(p => p.Name == port).Steering!.DropUnclaimed);
        rig.Apply(dropping);
        Assert.True(rig.Runtime.Topology.Ports.Single(p => p.Name == port).Steering!.DropUnclaimed);
        Assert.Equal(5, FrameProbe.Exchange(rig.Board.Outside.Name, MetaBoard.OutsideInterface(0), rig.Board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), rig.Board.OutsideMac(0), 5, out _).Count);
    }

    /// <summary>A reload that removes the first IPv4 address of a tenant's subnet keeps the others of that subnet the
    /// config keeps, and one that removes them all works: Linux deletes an interface's secondary addresses with their
    /// primary, so the kept one was lost, and deleting one already gone failed the reload (EADDRNOTAVAIL), undoing it
    /// all (found by the live-edit walk, LiveEditWalkTests).</summary>
    [PrivilegedFact]
    public void RemovingTheFirstAddressOfATenantsSubnetKeepsTheOthersTheConfigKeeps()
    {
        using var rig = new Rig();
        var start = rig.Config;
        rig.Apply(start with { Pairs = [.. start.Pairs, rig.B(null, 1500, "10.77.0.2/24", "10.77.0.3/24", "10.77.0.4/24")] });
        Assert.Equal(["10.77.0.2/24", "10.77.0.3/24", "10.77.0.4/24"], TenantAddresses(rig.NetnsB));
        output.WriteLine(rig.Apply(start with { Pairs = [.. start.Pairs, rig.B(null, 1500, "10.77.0.3/24")] }));
        Assert.Equal(["10.77.0.3/24"], TenantAddresses(rig.NetnsB));
        output.WriteLine(rig.Apply(start with { Pairs = [.. start.Pairs, rig.B(null, 1500, "10.78.0.2/24", "10.78.0.3/24")] }));
        Assert.Equal(["10.78.0.2/24", "10.78.0.3/24"], TenantAddresses(rig.NetnsB));
        Assert.Equal(5, rig.ReachB());
    }

    private static string[] TenantAddresses(string netns) =>
        [.. Shell.Check("ip", "-n", netns, "-4", "-o", "addr", "show", "dev", MetaBoard.TenantInterface)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]).Order(StringComparer.Ordinal)];

    /// <summary>A reload that changes only a program's map contents keeps the program (same object, no chain swap) and
    /// gives it the new config's entry, as a start with that config would: it kept the entry it was loaded with, so it
    /// said contents the running config no longer gave (found by the live-edit walk, LiveEditWalkTests).</summary>
    [PrivilegedFact]
    public void AProgramAReloadKeepsTakesItsNewConfigEntry()
    {
        using var rig = new Rig();
        var start = rig.Config;
        var kept = rig.Runtime.Programs["verdict"];
        Assert.True(MapDatum.TryParseInteger("0", out var zero));
        Assert.True(MapDatum.TryParseInteger("7", out var seven));
        var hits = new Dictionary<string, IReadOnlyList<MapEntryConfig>> { ["hits"] = [new() { Key = zero, Value = seven }] };
        var next = start with { Programs = [start.Programs[0] with { Maps = hits }, start.Programs[1]] };
        var plan = rig.Apply(next);
        output.WriteLine(plan);
        Assert.Contains("setmap  map verdict/hits", plan);
        Assert.Same(kept, rig.Runtime.Programs["verdict"]);
        Assert.Same(next.Programs[0], rig.Runtime.Programs["verdict"].Config);
        Assert.Equal(7, Hits(rig));
    }

    /// <summary>The id of the bpf_link that runs XDP program <paramref name="programId"/>, as bpftool lists it.</summary>
    private static long XdpLinkId(uint programId)
    {
        string json = Shell.Check("bpftool", "-j", "link", "show");
        using var links = System.Text.Json.JsonDocument.Parse(json);
        var xdp = links.RootElement.EnumerateArray()
            .Where(l => l.GetProperty("type").GetString() == "xdp" && l.GetProperty("prog_id").GetUInt32() == programId).ToList();
        Assert.True(xdp.Count == 1, $"one XDP link runs program {programId}: {json}");
        return xdp[0].GetProperty("id").GetInt64();
    }

    private static long Hits(Rig rig)
    {
        var map = rig.Runtime.Programs["verdict"].Object.FindMap("hits")!;
        var value = new byte[8];
        Assert.True(map.TryLookupFromUser(new byte[4], value));
        return BitConverter.ToInt64(value);
    }
}
