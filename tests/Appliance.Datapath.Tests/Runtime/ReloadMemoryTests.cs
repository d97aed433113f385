using Appliance.Bpf.Maps;
using Appliance.Config;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>What a reload gives back, on a namespaced board: an edit that drops a program's object returns its
/// BPF_F_NO_PREALLOC maps' reservations and the pages written into them at once — no GC is asked for here, and in
/// steady state the appliance makes none — and many reloads that add and remove a pair and a program leave the
/// process's fds, threads, mappings and memory where they were, while an untouched pair's stream loses nothing.</summary>
[Collection(KernelCollection.Name)]
public sealed class ReloadMemoryTests(ITestOutputHelper output)
{
    /// <summary>flow_table's two tables, each declared for 2^24 flows with BPF_F_NO_PREALLOC.</summary>
    private static ProgramConfig Flows => new() { Name = "flows", Object = "flow_table.bpf.o", Section = "tc" };

    [PrivilegedFact]
    public void AReloadThatDropsAFilledFlowTableGivesItsMemoryBackAtOnce()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a')]);
        var bare = rt.Config;
        long sizeBare = ProcessMemory.Status("VmSize");
        rt.Apply(rt.Plan(bare with { Pairs = [board.Pair(0, primary: MetaBoard.Side(chain: "flows"))], Programs = [.. bare.Programs, Flows] }));
        Assert.Equal(5, ReachA(board)); // the program ran on A's frames (its code and maps in use)
        long reserved = ProcessMemory.Status("VmSize") - sizeBare;
        long rssEmpty = ProcessMemory.Status("VmRSS");
        Fill(rt.Programs["flows"].Object.FindMap("flows")!, 200_000);
        long rssFilled = ProcessMemory.Status("VmRSS");
        long written = rssFilled - rssEmpty;
        output.WriteLine($"loading flow_table reserved {reserved >> 10} MiB of address space; 200,000 flows written take {written >> 10} MiB");
        Assert.True(reserved > 2 << 20, $"the two tables reserve gigabytes ({reserved} kB)");
        Assert.True(written > 32 << 10, $"the filled table takes memory ({written} kB)");

        rt.Apply(rt.Plan(bare));

        long rssAfter = ProcessMemory.Status("VmRSS"), left = ProcessMemory.Status("VmSize") - sizeBare;
        output.WriteLine($"after the reload that drops it: RSS -{(rssFilled - rssAfter) >> 10} MiB, {left >> 10} MiB of its address space left");
        Assert.True(left < 64 << 10, $"the reservations ({reserved >> 10} MiB) left the process's mappings: {left >> 10} MiB stayed");
        Assert.True(rssFilled - rssAfter >= written * 8 / 10, $"the {written >> 10} MiB written went back: RSS fell by {(rssFilled - rssAfter) >> 10} MiB");
        Assert.Equal(5, ReachA(board)); // A forwards as before
    }

    /// <summary>Preallocated maps are managed arrays: big_tables' hash and array (2^20 64-byte values each), run by
    /// A's frames (the JIT pins what they touch) and filled from user space, then dropped by a reload. Their memory
    /// is back when the reload answers: the workers' VMs forgot them and the runtime asked for a collection; the test
    /// asks for none.</summary>
    [PrivilegedFact]
    public void AReloadThatDropsFilledPreallocatedMapsGivesTheirMemoryBack()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a')]);
        var bare = rt.Config;
        long rssEmpty = ProcessMemory.Status("VmRSS");
        LoadAndFillBigTables(rt, board, bare);
        long rssFilled = ProcessMemory.Status("VmRSS"), written = rssFilled - rssEmpty;
        Assert.True(written > 64 << 10, $"the filled tables take memory ({written >> 10} MiB)");

        rt.Apply(rt.Plan(bare));

        long rssAfter = ProcessMemory.Status("VmRSS");
        output.WriteLine($"big_tables loaded and filled: +{written >> 10} MiB; after the reload that drops it: -{(rssFilled - rssAfter) >> 10} MiB");
        Assert.True(rssFilled - rssAfter >= written * 8 / 10, $"the {written >> 10} MiB went back: RSS fell by {(rssFilled - rssAfter) >> 10} MiB");
        Assert.Equal(5, ReachA(board));
    }

    /// <summary>Out of the test's frame, so no local of it holds the tables.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void LoadAndFillBigTables(ApplianceRuntime rt, MetaBoard board, ApplianceConfig bare)
    {
        var big = new ProgramConfig { Name = "big", Object = "big_tables.bpf.o", Section = "tc" };
        rt.Apply(rt.Plan(bare with { Pairs = [board.Pair(0, primary: MetaBoard.Side(chain: "big"))], Programs = [.. bare.Programs, big] }));
        Assert.Equal(5, ReachA(board)); // the program ran on A's frames
        Fill(rt.Programs["big"].Object.FindMap("by_length")!, 500_000);
        Fill(rt.Programs["big"].Object.FindMap("slots")!, 1 << 20);
    }

    /// <summary>160 reloads alternating "A alone" and "A plus pair B running flow_table" (its tables written each time):
    /// after the first 40 (the heap's warm-up), the fds, threads, mappings and RSS stay where they were, the address
    /// space is back after every reload that drops B and its tables, and A's steady stream, which no reload touches,
    /// loses no frame.</summary>
    [PrivilegedFact]
    public void ManyReloadsAddingAndRemovingAPairAndAProgramLeakNothing()
    {
        const int Reloads = 160, Warmup = 40;
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var rt = board.Start([board.Port(0)], [board.Pair(0, primary: MetaBoard.Side(chain: "a"))], [MetaBoard.Probe("a", 'a')]);
        var alone = rt.Config;
        var withB = alone with { Pairs = [alone.Pairs[0], board.Pair(1, primary: MetaBoard.Side(chain: "flows"))], Programs = [.. alone.Programs, Flows] };
        Snapshot? baseline = null;
        long sizeAlone = ProcessMemory.Status("VmSize"), largestAlone = 0; // the address space with A alone: at the start, the most after a reload
        using (var stream = new SteadyStream(board.Outside.Name, MetaBoard.OutsideInterface(0), board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), board.OutsideMac(0)))
        {
            for (int i = 0; i < Reloads; i++)
            {
                bool addB = i % 2 == 0;
                rt.Apply(rt.Plan(addB ? withB : alone));
                if (addB) Fill(rt.Programs["flows"].Object.FindMap("flows")!, 2_000);
                if (i == Warmup - 1) baseline = Snapshot.Take();
                if (!addB) largestAlone = Math.Max(largestAlone, ProcessMemory.Status("VmSize"));
            }
            stream.Stop();
            output.WriteLine($"A's stream over {Reloads} reloads: {stream}");
            Assert.True(stream.Sent > 100, stream.ToString());
            Assert.Equal(0, stream.Lost);
        }
        var end = Snapshot.Take();
        output.WriteLine($"after {Warmup} reloads: {baseline}\nafter {Reloads}: {end}");
        Assert.Equal(alone, rt.Config);
        Assert.True(end.Fds <= baseline!.Fds + 2, $"open fds: {baseline.Fds} → {end.Fds}");
        Assert.True(end.Threads <= baseline.Threads + 2, $"threads: {baseline.Threads} → {end.Threads}");
        Assert.True(end.Mappings <= baseline.Mappings + 32, $"memory mappings: {baseline.Mappings} → {end.Mappings}");
        Assert.True(largestAlone <= sizeAlone + (1 << 20),
            $"address space after a reload that dropped B's tables (3 GiB reserved): {sizeAlone >> 10} MiB at the start, up to {largestAlone >> 10} MiB after");
        Assert.True(end.RssKb <= baseline.RssKb + (32 << 10), $"RSS: {baseline.RssKb >> 10} → {end.RssKb >> 10} MiB");
        Assert.Equal(5, ReachA(board));
    }

    /// <summary>A chain edit that comes between a reload's plan and its apply (the control socket's attach while a
    /// reload from the file watcher runs) attaches a program of the set the reload replaces: that program, its code
    /// and its tables stay while a chain runs it. Given back, A's next frame would run unmapped code.</summary>
    [PrivilegedFact]
    public void AProgramAttachedWhileAReloadRunsKeepsItsCodeAndTables()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a'), Flows]);
        var withoutFlows = rt.Config with { Programs = [.. rt.Config.Programs.Where(p => p.Name != "flows")] };
        long size = ProcessMemory.Status("VmSize");
        var plan = rt.Plan(withoutFlows); // drops flow_table and its two 2^24-flow tables
        var flows = rt.Programs["flows"];
        var side = rt.FindPair(board.PairNames[0]).Primary;
        rt.BetweenReloads(() => { side.Chain.Attach(flows, Appliance.Datapath.Pairs.ChainPosition.Append); return 0; });

        rt.Apply(plan);

        long gone = size - ProcessMemory.Status("VmSize");
        output.WriteLine($"{gone >> 10} MiB of address space went with the reload");
        Assert.True(gone < 64 << 10, $"flow_table, which A's chain runs, keeps its tables: {gone >> 10} MiB of address space went");
        Assert.Same(flows, Assert.Single(side.Chain.Programs));
        Assert.Equal(5, ReachA(board)); // A's frames run it
    }

    /// <summary>A reload refused after its objects were loaded (a second program names a section flow_table lacks)
    /// leaves none of the tables' reservations behind, and the running set is untouched.</summary>
    [PrivilegedFact]
    public void AReloadRefusedAfterItsObjectLoadedLeavesNoReservationBehind() => ARefusedPlanLeavesNoReservationBehind(
        (board, config) => config with { Programs = [.. config.Programs, Flows, Flows with { Name = "missing", Section = "tc/missing" }] },
        "has no section");

    /// <summary>A plan refused after its programs loaded — a chain names a program the config does not list (a config
    /// handed to the runtime without validation: the planner finds it only once the objects are loaded) — says what is
    /// wrong and leaves none of flow_table's reservations behind; the running set is untouched.</summary>
    [PrivilegedFact]
    public void APlanRefusedAfterItsProgramsLoadedLeavesNoReservationBehind() => ARefusedPlanLeavesNoReservationBehind(
        (board, config) => config with { Pairs = [board.Pair(0, primary: MetaBoard.Side(chain: "missing"))], Programs = [.. config.Programs, Flows] },
        "no program called 'missing'");

    /// <summary>A running A; <paramref name="edit"/> of its config, which loads flow_table (3 GiB reserved), is refused
    /// with <paramref name="why"/>; the address space is back and A answers.</summary>
    private void ARefusedPlanLeavesNoReservationBehind(Func<MetaBoard, ApplianceConfig, ApplianceConfig> edit, string why)
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a')]);
        long size = ProcessMemory.Status("VmSize");
        var e = Assert.Throws<RuntimeSetupException>(() => rt.Plan(edit(board, rt.Config)));
        Assert.Contains(why, e.Message);
        long left = ProcessMemory.Status("VmSize") - size;
        output.WriteLine($"{e.Message}\n{left >> 10} MiB of address space left after the refused plan");
        Assert.True(left < 64 << 10, $"the refused plan's reservations (3 GiB) went: {left >> 10} MiB stayed");
        Assert.Equal(5, ReachA(board));
    }

    /// <summary>An apply that fails (pair B's name is taken by an interface made after the plan: a real netlink
    /// refusal) and is undone gives back what its plan loaded though the caller still holds the plan: big_tables'
    /// preallocated hash and array, filled, are back when Apply throws (the test asks for no collection), and the plan
    /// cannot be applied again.</summary>
    [PrivilegedFact]
    public void AFailedApplyGivesBackWhatItsPlanLoaded()
    {
        using var board = new MetaBoard(ports: 1, tenants: 2);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a')]);
        var start = rt.Config;
        long rssEmpty = ProcessMemory.Status("VmRSS");
        var plan = PlanPairBWithFilledBigTables(rt, board);
        long rssFilled = ProcessMemory.Status("VmRSS"), written = rssFilled - rssEmpty;
        Assert.True(written > 64 << 10, $"the plan's filled tables take memory ({written >> 10} MiB)");
        string taken = board.PairNames[1];
        Shell.Check("ip", "link", "add", taken, "type", "veth", "peer", "name", NetNamespace.UniqueInterface("mrm"));
        try
        {
            var e = Assert.Throws<ReconcileException>(() => rt.Apply(plan));
            long rssAfter = ProcessMemory.Status("VmRSS");
            output.WriteLine($"{e.Message}\nthe plan's tables: +{written >> 10} MiB; after the failed apply: -{(rssFilled - rssAfter) >> 10} MiB");
            Assert.Contains($"FAILED: create  pair {taken}", e.Message);
            Assert.True(rssFilled - rssAfter >= written * 8 / 10, $"the {written >> 10} MiB went back: RSS fell by {(rssFilled - rssAfter) >> 10} MiB");
            Assert.Contains("plan again", Assert.Throws<InvalidOperationException>(() => rt.Apply(plan)).Message);
        }
        finally
        {
            Shell.Run("ip", "link", "del", taken);
        }
        Assert.Same(start, rt.Config);
        Assert.Equal(5, ReachA(board));
    }

    /// <summary>The plan adding pair B with big_tables on its chain, the plan's tables filled from user space. Out of
    /// the test's frame, so no local of it holds the tables (the plan does).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ReconcilePlan PlanPairBWithFilledBigTables(ApplianceRuntime rt, MetaBoard board)
    {
        var big = new ProgramConfig { Name = "big", Object = "big_tables.bpf.o", Section = "tc" };
        var plan = rt.Plan(rt.Config with
        {
            Pairs = [.. rt.Config.Pairs, board.Pair(1, primary: MetaBoard.Side(chain: "big"))], Programs = [.. rt.Config.Programs, big],
        });
        Fill(plan.Programs["big"].Object.FindMap("by_length")!, 500_000);
        Fill(plan.Programs["big"].Object.FindMap("slots")!, 1 << 20);
        return plan;
    }

    /// <summary>A plan that is not applied (`reload --dry-run`) is discarded: what it loaded goes at once, and it can
    /// no longer be applied.</summary>
    [PrivilegedFact]
    public void ADiscardedPlanGivesBackWhatItLoaded()
    {
        using var board = new MetaBoard(ports: 1, tenants: 1);
        var rt = board.Start([board.Port(0)], [board.Pair(0)], [MetaBoard.Probe("a", 'a')]);
        long size = ProcessMemory.Status("VmSize");
        var plan = rt.Plan(rt.Config with { Programs = [.. rt.Config.Programs, Flows] });
        long loaded = ProcessMemory.Status("VmSize") - size;
        Assert.True(loaded > 2 << 20, $"the plan's flow_table reserved gigabytes ({loaded >> 10} MiB)");
        rt.Discard(plan);
        long left = ProcessMemory.Status("VmSize") - size;
        output.WriteLine($"the plan reserved {loaded >> 10} MiB; {left >> 10} MiB left once it was discarded");
        Assert.True(left < 64 << 10, $"the discarded plan's reservations went: {left >> 10} MiB stayed");
        Assert.Contains("discarded", Assert.Throws<InvalidOperationException>(() => rt.Apply(plan)).Message);
        Assert.Equal(5, ReachA(board));
    }

    private static int ReachA(MetaBoard board) =>
        FrameProbe.Exchange(board.Outside.Name, MetaBoard.OutsideInterface(0), board.Tenants[0].Name, MetaBoard.TenantInterface,
            MetaBoard.TenantMac(0).GetBytes(), board.OutsideMac(0), 5, out _).Count;

    /// <summary>Writes <paramref name="count"/> flows from user space (one key and value buffer: no allocation per flow).</summary>
    private static void Fill(BpfMap map, int count)
    {
        var key = new byte[map.KeySize];
        var value = new byte[map.UserValueSize];
        for (int i = 0; i < count; i++)
        {
            BitConverter.TryWriteBytes(key, i);
            BitConverter.TryWriteBytes(value.AsSpan(0, 8), (long)i);
            Assert.Equal(0, map.UpdateFromUser(key, value, 0));
        }
    }

    private sealed record Snapshot(int Fds, int Threads, int Mappings, long SizeKb, long RssKb)
    {
        public static Snapshot Take() => new(Directory.GetFileSystemEntries("/proc/self/fd").Length, Directory.GetDirectories("/proc/self/task").Length,
            File.ReadLines("/proc/self/maps").Count(), ProcessMemory.Status("VmSize"), ProcessMemory.Status("VmRSS"));
    }
}
