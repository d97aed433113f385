using System.Net.NetworkInformation;
using Appliance.Config;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Links;
using Appliance.Datapath.Runtime.Reconcile;
using Appliance.Datapath.Xdp;
using Appliance.Datapath.Xsk;
using Appliance.Datapath.Programs;

namespace Appliance.Datapath.Runtime;

/// <summary>The reconciler: running config → new config as an ordered plan of small steps, each undoable.
/// <list type="bullet">
/// <item>A pair is re-created (deleted and made again; only that pair) when its mode, tenant netns, tenant interface
/// name, tenant MAC or primaryInterface changes. Everything else about a pair changes in place: addresses (added and
/// removed on the live interface), MTU (both veth ends), uplink, policy, scrub, chains; headroom/tailroom are checked
/// against the frames' room (the headroom reserved at start is the most a pair can have without a restart).</item>
/// <item>A program whose object file's bytes changed is loaded and verified anew and swapped into every
/// chain that names it between two batches; its maps are the running ones when name, type, key size, value size,
/// max entries, flags and a map of maps' inner-map template match (contents kept), otherwise fresh with the config's initial contents. A change of a map's
/// contents in the config writes the new entries and deletes the keys the config no longer lists.</item>
/// <item>Ports: a new port is claimed (its own UMEM, its steering, its socket added to the running worker); a removed
/// one released; MAC and MTU set in place; a change of <c>unclaimed</c> swaps the port's XDP program (frames that
/// arrive in the instant between detach and attach go to the kernel); a change of <c>queues</c> closes that port's
/// sockets, sets its channels and opens a socket per queue again (its XDP program and claims stay; meanwhile its frames go
/// to the kernel and frames for it are dropped). No other port or pair is touched.</item>
/// <item>A pair or port of the running config that a failed reload's undo could not make again (<see cref="NotRunning"/>)
/// is made anew by the next reload whose config has it (with that config) and is simply dropped by one without it; no
/// step changes or removes it meanwhile. So is one whose change could not be undone (it is taken out, a port with the
/// pairs whose uplink it is).</item>
/// </list></summary>
public sealed partial class ApplianceRuntime
{
    /// <summary>Why a step's undo failed, by the step's target ("pair tenant-b"): the reason a part is not running.</summary>
    private readonly Dictionary<string, string> _undoFailures = new(StringComparer.Ordinal);

    /// <summary>The running config's pairs and ports that are not running (a failed reload's undo could not make them
    /// again), as of the last apply; empty normally. Set under the gate, read from any thread.</summary>
    public IReadOnlyList<NotRunningPart> NotRunning { get; private set; } = [];

    /// <summary>Validates <paramref name="next"/> against what is running (programs loaded and verified, frame room,
    /// limits) and returns the steps that would turn the running config into it. Nothing running changes; an
    /// unusable config throws <see cref="RuntimeSetupException"/>.</summary>
    public ReconcilePlan Plan(ApplianceConfig next)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RefuseUnimplemented(next);
            CheckFrameRoom(next, FrameHeadroom);
            var running = Config;
            var programs = ProgramSet.Load(next.Programs, _options.ConfigDirectory, _options.ObjectDirectory, running: Programs);
            try
            {
                return PlanSteps(running, next, programs);
            }
            catch
            {
                programs.FreeUnpublished(Programs); // refused after its programs loaded (nothing ran them): as a refused load
                throw;
            }
        }
    }

    /// <summary>The steps from <paramref name="running"/> to <paramref name="next"/>, whose programs are loaded.</summary>
    private ReconcilePlan PlanSteps(ApplianceConfig running, ApplianceConfig next, ProgramSet programs)
    {
        var diff = ConfigDiff.Compute(running, next);
        var steps = new List<PlanStep>();
        var notes = new List<string>();
        var oldPrograms = Programs;
        var nextPairs = next.Pairs.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var nextPorts = next.Ports.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var oldPairs = running.Pairs.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var oldPorts = running.Ports.ToDictionary(p => p.Name, StringComparer.Ordinal);

        // Parts a failed undo left out: made again with the new config when it has them, else dropped; never changed.
        var missingPairs = running.Pairs.Select(p => p.Name).Where(n => !_pairs.Any(p => p.Name == n)).ToHashSet(StringComparer.Ordinal);
        var missingPorts = running.Ports.Select(p => p.Name).Where(n => !_ports.Any(p => p.Name == n)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in missingPairs) notes.Add(NotRunningNote($"pair {name}", nextPairs.ContainsKey(name)));
        foreach (var name in missingPorts) notes.Add(NotRunningNote($"port {name}", nextPorts.ContainsKey(name)));

        foreach (var name in diff.Ports.Added) steps.Add(ClaimPortStep(nextPorts[name]));
        foreach (var name in missingPorts.Where(nextPorts.ContainsKey)) steps.Add(MakesAgain(ClaimPortStep(nextPorts[name])));
        PlanPrograms(running, next, programs, steps);

        var recreated = diff.PairsChanged.Where(c => c.IsInterfaceLevel && !missingPairs.Contains(c.Name)).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in recreated)
        {
            steps.Add(DeletePairStep(oldPairs[name], oldPrograms, "re-created"));
            notes.Add($"pair {name} is re-created (its mode, tenant netns, tenant interface, tenant MAC or primaryInterface changed); its tenant loses traffic meanwhile");
        }
        foreach (var pc in next.Pairs)
            if (missingPairs.Contains(pc.Name)) steps.Add(MakesAgain(CreatePairStep(pc, programs)));
            else if (diff.PairsAdded.Contains(pc.Name) || recreated.Contains(pc.Name)) steps.Add(CreatePairStep(pc, programs));
        foreach (var change in diff.PairsChanged.Where(c => !recreated.Contains(c.Name) && !missingPairs.Contains(c.Name)))
            PlanPairChange(oldPairs[change.Name], nextPairs[change.Name], change.Parts, steps, notes);
        foreach (var pc in next.Pairs)
            if (oldPairs.ContainsKey(pc.Name) && !recreated.Contains(pc.Name) && !missingPairs.Contains(pc.Name)) PlanChains(pc, programs, steps);
        foreach (var name in diff.PairsRemoved.Where(n => !missingPairs.Contains(n))) steps.Add(DeletePairStep(oldPairs[name], oldPrograms, "removed"));
        foreach (var name in diff.Ports.Removed.Where(n => !missingPorts.Contains(n))) steps.Add(ReleasePortStep(oldPorts[name]));
        foreach (var name in diff.Ports.Changed.Where(n => !missingPorts.Contains(n))) PlanPortChange(oldPorts[name], nextPorts[name], steps);
        if (diff.ControlSocketChanged) notes.Add("controlSocket changes at the next start (the socket stays where it is)");
        if (diff.MetricsChanged) notes.Add("metrics changes at the next start (the endpoint stays where it is)");
        if (diff.MemoryChanged) notes.Add("memory changes at the next start (the rings keep their sizes)");
        if (diff.WorkersChanged) notes.Add("workers changes at the next start (the running workers keep their queues)");
        if (diff.JitChanged) notes.Add("jit changes at the next start (the programs keep their engine)");
        if (diff.ButtonChanged) notes.Add("button changes at the next start (the running one stays watched)");
        if (diff.BoardChanged) notes.Add("board changes at the next start");
        return new ReconcilePlan(running, next, programs, steps, notes);
    }

    /// <summary><paramref name="step"/>, which makes a not-running part again, as a step whose failure leaves that part
    /// not running and lets the rest of the plan go on (<see cref="PlanStep.MakesAgain"/>).</summary>
    private static PlanStep MakesAgain(PlanStep step)
    {
        step.MakesAgain = true;
        return step;
    }

    private static string NotRunningNote(string target, bool kept) =>
        $"{target} is not running (a failed reload's undo left it out): " + (kept ? "it is made again" : "the new config drops it");

    /// <summary>The plan from <paramref name="running"/> to <paramref name="next"/> without a running appliance
    /// (`validate --diff`): the same planner on a detached runtime built from <paramref name="running"/> (its programs
    /// loaded from their files now, its chains as configured). It cannot know a running object's old bytes: an object
    /// counts as replaced when its path or section changes.</summary>
    public static ReconcilePlan PlanOffline(ApplianceConfig running, string runningDirectory, ApplianceConfig next, string nextDirectory,
        string? objectDirectory = null)
    {
        RefuseUnimplemented(running);
        var programs = ProgramSet.Load(running.Programs, runningDirectory, objectDirectory);
        var rt = new ApplianceRuntime(running, programs, new RuntimeOptions { ConfigDirectory = nextDirectory, ObjectDirectory = objectDirectory })
        {
            FrameSize = FrameSizeFor(running),
            FrameHeadroom = ReservedHeadroom(running),
        };
        for (int i = 0; i < running.Ports.Count; i++)
            rt._ports.Add(new PortRuntime(i, running.Ports[i], 0, default, [], new Pairs.L2Classifier([], new Dictionary<int, MacAddress>())));
        for (int i = 0; i < running.Pairs.Count; i++)
        {
            var pc = running.Pairs[i];
            var pair = new PairRuntime(running.Ports.Count + i, pc, running.Ports.Select(p => p.Name).ToList().IndexOf(pc.Uplink));
            programs.BuildChains(pair);
            rt._pairs.Add(pair);
        }
        return rt.Plan(next);
    }

    /// <summary>Applies a plan made by <see cref="Plan"/> from the config running now: each step in order; if one
    /// fails, the steps done are undone newest first and <see cref="ReconcileException"/> lists every step and the
    /// failure (the running config stays; a pair or port an undo that failed left out is <see cref="NotRunning"/>, named
    /// there too). Then the new config and programs are the running ones.</summary>
    public void Apply(ReconcilePlan plan)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!ReferenceEquals(plan.Running, Config))
                throw new InvalidOperationException("the running config changed since this plan was made; plan again");
            if (plan.Taken) throw new InvalidOperationException("this plan was applied or discarded already; plan again");
            plan.Taken = true;
            var before = Programs;
            var done = new List<PlanStep>();
            foreach (var step in plan.Steps)
            {
                try
                {
                    _options.BeforeStep?.Invoke(step);
                    step.Apply();
                    done.Add(step);
                    Log.Info("reconcile", "step done", ("step", step.ToString()));
                }
                catch (Exception e) when (step.MakesAgain && e is not PartLeftOutException)
                {
                    // The part stays as it was, not running (a failed step leaves nothing behind); the others go on.
                    _undoFailures[step.Target] = e.Message;
                    Log.Warn("reconcile", "a part that is not running could not be made again; it stays not running, the reload goes on",
                        ("step", step.ToString()), ("error", e.Message));
                }
                catch (Exception e)
                {
                    Log.Error("reconcile", "step failed, undoing", ("step", step.ToString()), ("error", e.Message));
                    var lines = new List<string>();
                    var unsure = new List<string>(); // "pair X" and "port X" that run as neither config says: taken out
                    if (e is PartLeftOutException left)
                    {
                        unsure.Add(left.Target);
                        _undoFailures[left.Target] = left.Message;
                    }
                    for (int i = done.Count - 1; i >= 0; i--)
                    {
                        try
                        {
                            done[i].Undo();
                            lines.Add($"undone: {done[i]}");
                        }
                        catch (Exception u)
                        {
                            lines.Add($"undo failed: {done[i]}: {u.Message}");
                            _undoFailures[done[i].Target] = u.Message;
                            if (PartOf(done[i].Target) is { } part && !unsure.Contains(part))
                            {
                                unsure.Add(part);
                                _undoFailures[part] = u.Message;
                            }
                            Log.Error("reconcile", "undo failed", ("step", done[i].ToString()), ("error", u.Message));
                        }
                    }
                    lines.Reverse();
                    foreach (var part in unsure.OrderBy(p => p.StartsWith("port ", StringComparison.Ordinal))) TakeOut(part, lines);
                    foreach (var s in plan.Steps) s.Spend();
                    CollectDropped(GiveBackFailed(plan)); // the caller may hold the plan a while: it lets go of them
                    TakeNotRunning();
                    var text = string.Join('\n', [.. plan.Steps.TakeWhile(s => s != step).Select(s => done.Contains(s) ? $"done:   {s}" : $"failed, left not running: {s}"),
                        $"FAILED: {step}: {e.Message}", .. lines, .. NotRunning.Select(p => $"NOT RUNNING: {p}"),
                        NotRunning.Count == 0 ? "the running config stays" : "the running config stays, without what is not running"]);
                    throw new ReconcileException(text, e, NotRunning);
                }
            }
            Commit(plan);
            TakeNotRunning();
            foreach (var s in plan.Steps) s.Spend();
            CollectDropped(GiveBack(before, plan.Programs));
        }
    }

    /// <summary>The pair or port a step changes, by its target: "pair X" for "pair X" and "chain X/side", "port X" for
    /// "port X"; null for maps and programs.</summary>
    private static string? PartOf(string target) =>
        target.StartsWith("pair ", StringComparison.Ordinal) || target.StartsWith("port ", StringComparison.Ordinal) ? target
        : target.StartsWith("chain ", StringComparison.Ordinal) && target.LastIndexOf('/') is > 6 and var slash ? $"pair {target[6..slash]}"
        : null;

    /// <summary>A pair or port whose undo failed runs as neither config says (an address, its uplink or a chain half put
    /// back; a port's MAC, MTU, queues or unclaimed policy; a port left without sockets): it is taken out, so it is not
    /// running (<see cref="NotRunning"/>) and the next reload makes it again from its config, rather than forwarding
    /// under rules no one wrote. A port goes with the pairs whose uplink it is (a pair forwards only through its uplink;
    /// they are not running the same way). What cannot be taken out stays as it is, said in the reply and the log.</summary>
    private void TakeOut(string target, List<string> lines)
    {
        string name = NotRunningPart.NameOf(target);
        if (NotRunningPart.KindOf(target) == "port") TakeOutPort(name, lines);
        else TakeOutPair(name, lines, "it would run as neither config says");
    }

    private void TakeOutPair(string name, List<string> lines, string why)
    {
        if (_pairs.FirstOrDefault(p => p.Name == name) is not { } pair) return; // its undo left it out already
        try
        {
            DeletePairLive(pair);
            lines.Add($"taken out: pair {name} ({why})");
        }
        catch (Exception e)
        {
            lines.Add($"taking out failed: pair {name}: {e.Message}");
            Log.Error("reconcile", "a pair whose undo failed could not be taken out", ("pair", name), ("error", e.Message));
        }
    }

    private void TakeOutPort(string name, List<string> lines)
    {
        if (_ports.FirstOrDefault(p => p.Name == name) is not { } port) return; // its undo left it out already
        foreach (var pair in _pairs.Where(p => p.UplinkPort == port.Index).ToList())
        {
            _undoFailures[$"pair {pair.Name}"] = $"its uplink, port {name}, was taken out";
            TakeOutPair(pair.Name, lines, $"its uplink, port {name}, is taken out");
        }
        try
        {
            if (_pairs.Any(p => p.UplinkPort == port.Index)) throw new InvalidOperationException("a pair on it could not be taken out");
            RemovePortLive(port);
            lines.Add($"taken out: port {name} (it would run as neither config says; its frames are the kernel's meanwhile)");
        }
        catch (Exception e)
        {
            lines.Add($"taking out failed: port {name}: {e.Message}");
            Log.Error("reconcile", "a port whose undo failed could not be taken out", ("port", name), ("error", e.Message));
        }
    }

    /// <summary>After an apply: <see cref="NotRunning"/> from the running config and what runs; the reasons of parts
    /// that run again are forgotten.</summary>
    private void TakeNotRunning()
    {
        var missing = Config.Pairs.Where(pc => !_pairs.Any(p => p.Name == pc.Name)).Select(pc => $"pair {pc.Name}")
            .Concat(Config.Ports.Where(pc => !_ports.Any(p => p.Name == pc.Name)).Select(pc => $"port {pc.Name}")).ToList();
        foreach (var target in _undoFailures.Keys.Except(missing).ToList()) _undoFailures.Remove(target);
        NotRunning = [.. missing.Select(t => new NotRunningPart(t, _undoFailures.GetValueOrDefault(t, "its undo failed")))];
        foreach (var part in NotRunning) Log.Error("reconcile", "not running after a failed reload; a reload makes it again", ("what", part.Target), ("why", part.Why));
    }

    /// <summary>The new config and programs become the running ones; pairs and ports take their new config and config order.</summary>
    private void Commit(ReconcilePlan plan)
    {
        var next = plan.Next;
        if (!ReferenceEquals(plan.Programs, Programs)) LogEngines(plan.Programs);
        plan.Programs.TakeConfigs();
        Programs = plan.Programs;
        Config = next;
        PublishTopology(() =>
        {
            foreach (var p in _pairs)
                if (next.Pairs.FirstOrDefault(c => c.Name == p.Name) is { } pc) p.Config = pc;
            foreach (var p in _ports)
                if (next.Ports.FirstOrDefault(c => c.Name == p.Name) is { } pc) p.Config = pc;
            var pairOrder = next.Pairs.Select(p => p.Name).ToList();
            _pairs.Sort((a, b) => pairOrder.IndexOf(a.Name).CompareTo(pairOrder.IndexOf(b.Name)));
            var portOrder = next.Ports.Select(p => p.Name).ToList();
            _ports.Sort((a, b) => portOrder.IndexOf(a.Name).CompareTo(portOrder.IndexOf(b.Name)));
        });
        Log.Info("reconcile", "applied", ("steps", plan.Steps.Count), ("pairs", _pairs.Count), ("ports", _ports.Count));
    }

    private static PlanStep Noop(PlanAction action, string target, string detail) => new(action, target, detail, () => { }, () => { });

    private void PlanPrograms(ApplianceConfig running, ApplianceConfig next, ProgramSet programs, List<PlanStep> steps)
    {
        var oldConfigs = running.Programs.ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var pc in next.Programs)
        {
            var p = programs[pc.Name];
            if (!Programs.TryGet(pc.Name, out var old))
            {
                steps.Add(Noop(PlanAction.Load, $"program {pc.Name}", $"{pc.Object} section {pc.Section}, verified"));
                continue;
            }
            if (!ReferenceEquals(p.Object, old.Object))
            {
                var carried = p.Object.Maps.Where(programs.IsLive).Select(m => m.Name).ToList();
                var fresh = p.Object.Maps.Where(m => !programs.IsLive(m)).Select(m => m.Name).ToList();
                steps.Add(Noop(PlanAction.Replace, $"program {pc.Name}",
                    (old.Object.Hash != p.Object.Hash ? $"object changed (xxh128 {old.Object.Hash[..12]} → {p.Object.Hash[..12]})" : $"object {pc.Object}")
                    + $", verified; maps kept: {List(carried)}; fresh: {List(fresh)}"));
            }
            else if (old.Config.Section != pc.Section)
                steps.Add(Noop(PlanAction.Replace, $"program {pc.Name}", $"section {old.Config.Section} → {pc.Section}, verified"));
            if (oldConfigs.TryGetValue(pc.Name, out var oldConfig)) PlanMaps(oldConfig, pc, p, programs, steps);
        }
        foreach (var pc in running.Programs)
            if (!programs.TryGet(pc.Name, out _)) steps.Add(Noop(PlanAction.Unload, $"program {pc.Name}", ""));
    }

    private static string List(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names);

    /// <summary>A live map (kept from the running program) whose contents the config changed: write the new entries,
    /// delete the keys it no longer lists. Undo puts back what was there.</summary>
    private void PlanMaps(ProgramConfig before, ProgramConfig after, RuntimeProgram program, ProgramSet programs, List<PlanStep> steps)
    {
        foreach (var name in after.Maps.Keys.Union(before.Maps.Keys))
        {
            var map = program.Object.FindMap(name);
            // A fresh map got the config's contents when it was loaded; a live one (kept) gets them here.
            if (map is null || !(programs.IsLive(map) || Programs.Objects.Contains(program.Object))) continue;
            var was = before.Maps.TryGetValue(name, out var b) ? ProgramSet.Entries(before, name, map, b) : [];
            var now = after.Maps.TryGetValue(name, out var a) ? ProgramSet.Entries(after, name, map, a) : [];
            if (was.Count == now.Count && was.Zip(now).All(x => x.First.Key.AsSpan().SequenceEqual(x.Second.Key) && x.First.Value.AsSpan().SequenceEqual(x.Second.Value)))
                continue;
            var gone = was.Where(w => !now.Any(n => n.Key.AsSpan().SequenceEqual(w.Key))).Select(w => w.Key).ToList();
            var saved = new List<(byte[] Key, byte[]? Value)>();
            steps.Add(new PlanStep(PlanAction.SetMap, $"map {after.Name}/{name}", $"{now.Count} entries from the config, {gone.Count} removed",
                () =>
                {
                    saved.Clear();
                    foreach (var key in now.Select(n => n.Key).Concat(gone))
                    {
                        var value = new byte[map.UserValueSize];
                        saved.Add((key, map.TryLookupFromUser(key, value) ? value : null));
                    }
                    foreach (var (key, value) in now)
                        if (map.UpdateFromUser(key, value, 0) is int rc and not 0)
                            throw new InvalidOperationException($"map {after.Name}/{name}: update failed with {rc} (full?)");
                    foreach (var key in gone) map.Delete(key);
                },
                () =>
                {
                    foreach (var (key, value) in saved)
                        if (value is null) map.Delete(key);
                        else map.UpdateFromUser(key, value, 0);
                }));
        }
    }

    private void PlanChains(PairConfig pc, ProgramSet programs, List<PlanStep> steps)
    {
        foreach (var kind in new[] { PairSideKind.Primary, PairSideKind.Peer })
        {
            var wanted = SideConfig(pc, kind).Chain.Select(e => programs.TryGet(e.Program, out var p) ? p
                : throw new RuntimeSetupException($"pair '{pc.Name}' {kind.ToString().ToLowerInvariant()} chain: no program called '{e.Program}'")).ToArray();
            var pair = PairNamed(pc.Name);
            var side = pair.Side(kind);
            var current = side.Chain.Programs;
            if (current.Length == wanted.Length && current.Zip(wanted).All(x => ReferenceEquals(x.First, x.Second))) continue;
            string sideName = kind.ToString().ToLowerInvariant();
            steps.Add(new PlanStep(PlanAction.Swap, $"chain {pc.Name}/{sideName}",
                $"{Chain(current)} → {Chain(wanted)}",
                () => PairNamed(pc.Name).Side(kind).Chain.Set(wanted),
                () => PairNamed(pc.Name).Side(kind).Chain.Set(current)));
        }
    }

    private static string Chain(RuntimeProgram[] programs) => programs.Length == 0 ? "(empty)" : string.Join(" -> ", programs.Select(p => p.Name));

    private void PlanPairChange(PairConfig before, PairConfig after, PairChangeParts parts, List<PlanStep> steps, List<string> notes)
    {
        string name = after.Name, target = $"pair {name}";
        if (parts.HasFlag(PairChangeParts.Addresses) && after.PrimaryInterface is null)
        {
            var add = after.Tenant.Addresses.Except(before.Tenant.Addresses).ToList();
            var remove = before.Tenant.Addresses.Except(after.Tenant.Addresses).ToList();
            steps.Add(new PlanStep(PlanAction.Change, target, $"addresses +[{string.Join(", ", add)}] -[{string.Join(", ", remove)}]",
                () => ChangeAddresses(before, after), () => ChangeAddresses(after, before)));
        }
        if (parts.HasFlag(PairChangeParts.Mtu))
        {
            if (after.PrimaryInterface is null)
                steps.Add(new PlanStep(PlanAction.Change, target, $"MTU {before.Tenant.Mtu} → {after.Tenant.Mtu}",
                    () => SetPairMtu(before, after.Tenant.Mtu), () => SetPairMtu(before, before.Tenant.Mtu)));
            else notes.Add($"pair {name} is adopted: its MTU is its owner's to set");
        }
        if (parts.HasFlag(PairChangeParts.Uplink))
            steps.Add(new PlanStep(PlanAction.Change, target, $"uplink {before.Uplink} → {after.Uplink}",
                () => MoveUplink(name, after.Uplink), () => MoveUplink(name, before.Uplink)));
        foreach (var kind in new[] { PairSideKind.Primary, PairSideKind.Peer })
        {
            var (b, a) = (SideConfig(before, kind), SideConfig(after, kind));
            string side = kind.ToString().ToLowerInvariant();
            if (b.Policy != a.Policy)
                steps.Add(new PlanStep(PlanAction.Change, target, $"{side} policy {Lower(b.Policy)} → {Lower(a.Policy)}",
                    () => Between(() => PairNamed(name).Side(kind).Policy = a.Policy), () => Between(() => PairNamed(name).Side(kind).Policy = b.Policy)));
            if (b.Scrub != a.Scrub)
                steps.Add(new PlanStep(PlanAction.Change, target, $"{side} scrub {Lower(b.Scrub)} → {Lower(a.Scrub)}",
                    () => Between(() => PairNamed(name).Side(kind).Scrub = a.Scrub), () => Between(() => PairNamed(name).Side(kind).Scrub = b.Scrub)));
        }
        if (parts.HasFlag(PairChangeParts.Learning))
            steps.Add(Noop(PlanAction.Change, target, $"learnLimit {before.LearnLimit} → {after.LearnLimit} (the uplink's classifier takes it at commit)"));
        if (parts.HasFlag(PairChangeParts.Services))
            steps.Add(Noop(PlanAction.Change, target, $"serves {Services(before)} → {Services(after)} (the peer side takes it at commit)"));
        if (parts.HasFlag(PairChangeParts.Room))
            steps.Add(Noop(PlanAction.Change, target, $"headroom {before.Headroom} → {after.Headroom}, tailroom {before.Tailroom} → {after.Tailroom} (fits the frames)"));
    }

    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    private static string Services(PairConfig pc) => pc.Tenant.Serves.Count == 0 ? "(none)" : string.Join(", ", pc.Tenant.Serves.Select(s => Lower(s)));

    private void Between(Action action)
    {
        if (_engine is null) action();
        else _engine.RunBetweenBatches(action);
    }

    /// <summary>Takes the tenant's interface from <paramref name="from"/>'s addresses to <paramref name="to"/>'s (Linux
    /// removes an IPv4 address's secondaries with it: those the tenant keeps are set again, those it loses are gone
    /// already). An L3
    /// tenant with an address of a family has that family's default route (as at creation: set again, since Linux
    /// deletes the IPv4 one with the last IPv4 address, which may go before the new ones come), and loses it with its
    /// last one (IPv4's goes with the last address by itself).</summary>
    private static void ChangeAddresses(PairConfig from, PairConfig to)
    {
        var tenant = to.Tenant;
        using var inside = new LinkManager(tenant.Netns);
        var addresses = new LinkAddresses(inside);
        foreach (var a in from.Tenant.Addresses.Except(tenant.Addresses))
        {
            try { addresses.Remove(tenant.Interface, a.Address, a.PrefixLength); }
            catch (Interop.PlatformException e) when (e.Errno == Errno.EADDRNOTAVAIL) { } // gone with the primary of its subnet, removed before
        }
        // Every address it keeps or gains: a kept IPv4 address that went with a removed primary of its subnet comes back.
        foreach (var a in tenant.Addresses) addresses.Replace(tenant.Interface, a.Address, a.PrefixLength);
        if (to.Mode != PairMode.L3) return;
        var routes = new LinkRoutes(inside);
        foreach (var family in (Bpf.Routing.IpFamily[])[Bpf.Routing.IpFamily.Inet, Bpf.Routing.IpFamily.Inet6])
        {
            bool had = LinkRoutes.HasFamily(from.Tenant.Addresses, family), has = LinkRoutes.HasFamily(tenant.Addresses, family);
            if (has) routes.ReplaceDefault(tenant.Interface, family);
            else if (had && !has) routes.DeleteDefault(tenant.Interface, family);
        }
    }

    private void SetPairMtu(PairConfig pc, int mtu)
    {
        using (var inside = new LinkManager(pc.Tenant.Netns)) inside.SetMtu(pc.Tenant.Interface, mtu);
        _links!.SetMtu(PairNamed(pc.Name).PrimaryName, mtu);
    }

    private void MoveUplink(string pair, string uplink)
    {
        var p = PairNamed(pair);
        int port = PortNamed(uplink).Index;
        PublishTopology(() => p.UplinkPort = port);
    }

    private PlanStep CreatePairStep(PairConfig pc, ProgramSet programs) =>
        new(PlanAction.Create, $"pair {pc.Name}", $"tenant {pc.Tenant.Netns}/{pc.Tenant.Interface} on {pc.Uplink}" +
            (pc.Tenant.Mac is { } mac ? $", MAC {mac}" : "") + (pc.Tenant.Addresses.Count > 0 ? $", {string.Join(" ", pc.Tenant.Addresses)}" : ""),
            () => CreatePairLive(pc, programs), () => DeletePairLive(PairNamed(pc.Name)));

    private PlanStep DeletePairStep(PairConfig pc, ProgramSet programs, string why) =>
        new(PlanAction.Delete, $"pair {pc.Name}", why + (pc.PrimaryInterface is null ? $": its veth and tenant {pc.Tenant.Netns}/{pc.Tenant.Interface}" : ": adopted veth left in place"),
            () => DeletePairLive(PairNamed(pc.Name)), () => CreatePairLive(pc, programs));

    /// <summary>Creates a pair while running: veth (or adoption), chains, its socket (a UMEM of its own) added to
    /// the worker, then the topology that routes to it. On failure nothing of it is left.</summary>
    private PairRuntime CreatePairLive(PairConfig pc, ProgramSet programs)
    {
        int uplink = PortNamed(pc.Uplink).Index;
        int index = FreeIndex();
        _indices.Add(index);
        PairRuntime pair;
        try
        {
            pair = pc.PrimaryInterface is null ? CreatePair(index, pc, uplink) : AdoptPair(index, pc, uplink);
        }
        catch
        {
            _indices.Remove(index);
            throw;
        }
        IReadOnlyList<XskPort> sockets = [];
        bool installed = false, listed = false;
        try
        {
            programs.BuildChains(pair);
            sockets = _xsk!.OpenSeparate(index, new XskPortSpec(pair.PrimaryName) { Queues = QueuesFor(pair.PrimaryName) }, _options.XdpMode);
            _engine!.AddPort(sockets);
            installed = true;
            OpenToTenant(pair);
            _pairs.Add(pair);
            listed = true;
            _carrierByName[pair.PrimaryName] = pair;
            ReadCarrier(pair);
            PublishTopology();
            return pair;
        }
        catch (Exception e)
        {
            Log.Warn("runtime", "pair creation failed, removing what was made", ("pair", pc.Name), ("error", e.Message));
            _carrierByName.TryRemove(pair.PrimaryName, out _);
            if (listed)
            {
                _pairs.Remove(pair);
                TryLog(() => PublishTopology());
            }
            if (installed) TryLog(() => _engine!.RemovePort(index));
            else foreach (var s in sockets) s.Dispose();
            TryLog(() => DeletePairLinks(pc, pair.NamespaceCreated));
            _indices.Remove(index);
            throw;
        }
    }

    /// <summary>Deletes a pair while running: out of the topology (its MACs released), its socket off the worker and
    /// closed, its veth and the namespace created for it deleted (an adopted veth stays).</summary>
    private void DeletePairLive(PairRuntime pair)
    {
        _pairs.Remove(pair);
        _carrierByName.TryRemove(pair.PrimaryName, out _);
        PublishTopology();
        CloseToTenant(pair);
        _engine!.RemovePort(pair.Index); // every worker's socket of it
        _indices.Remove(pair.Index);
        DeletePairLinks(pair.Config, pair.NamespaceCreated);
        Log.Info("runtime", "pair deleted", ("pair", pair.Name));
    }

    private static void TryLog(Action action)
    {
        try { action(); }
        catch (Exception e) { Log.Error("runtime", "clean-up after a failed step failed", ("error", e.Message)); }
    }

    private PlanStep ClaimPortStep(PortConfig pc) =>
        new(PlanAction.Claim, $"port {pc.Name}", $"unclaimed {Lower(pc.Unclaimed)}" + (pc.Mac is { } m ? $", MAC {m}" : "") + (pc.Mtu is { } u ? $", MTU {u}" : "")
            + (pc.Queues is { } q ? $", {q} queues" : ""),
            () => AddPortLive(pc), () => RemovePortLive(PortNamed(pc.Name)));

    private PlanStep ReleasePortStep(PortConfig pc) =>
        new(PlanAction.Release, $"port {pc.Name}", "XDP detached, socket closed (the interface stays, back with the kernel)",
            () => RemovePortLive(PortNamed(pc.Name)), () => AddPortLive(pc));

    private PortRuntime AddPortLive(PortConfig pc)
    {
        int index = FreeIndex();
        var (link, steering) = ClaimPort(pc);
        _indices.Add(index);
        IReadOnlyList<XskPort> sockets = [];
        PortRuntime? port = null;
        bool installed = false;
        try
        {
            sockets = _xsk!.OpenSeparate(index, new XskPortSpec(pc.Name, AttachSteering: false) { Queues = QueuesFor(pc.Name) }, _options.XdpMode);
            port = ClaimPortSteering(index, pc, link, steering, sockets, [], _ports.Select(p => p.Mac));
            _engine!.AddPort(sockets);
            installed = true;
            _ports.Add(port);
            PublishTopology();
            return port;
        }
        catch
        {
            if (port is not null && _ports.Remove(port)) TryLog(() => PublishTopology());
            steering.Dispose();
            if (installed) TryLog(() => _engine!.RemovePort(index));
            else foreach (var s in sockets) s.Dispose();
            _indices.Remove(index);
            TryLog(() => RestorePortSettings(pc.Name));
            throw;
        }
    }

    private void RemovePortLive(PortRuntime port)
    {
        _ports.Remove(port);
        PublishTopology();
        ClaimedMacSteering? steering = null;
        Between(() => (steering, port.Steering) = (port.Steering, null));
        steering?.Dispose(); // XDP detached: its frames are the kernel's again
        _engine!.RemovePort(port.Index);
        _indices.Remove(port.Index);
        RestorePortSettings(port.Name); // its sockets are closed: the queues they were bound to may go
        Log.Info("runtime", "port released", ("port", port.Name));
    }

    private void PlanPortChange(PortConfig before, PortConfig after, List<PlanStep> steps)
    {
        string target = $"port {after.Name}";
        if (before.Mac != after.Mac && after.Mac is { } mac)
        {
            PhysicalAddress? was = null;
            steps.Add(new PlanStep(PlanAction.Change, target, $"MAC → {mac}",
                () =>
                {
                    was = _links!.Get(after.Name).Mac;
                    _links.SetMac(after.Name, new PhysicalAddress(mac.GetBytes()));
                    TakePortMac(after.Name);
                },
                () =>
                {
                    if (was is null) return;
                    _links!.SetMac(after.Name, was);
                    TakePortMac(after.Name);
                }));
        }
        if (before.Mtu != after.Mtu && after.Mtu is { } mtu)
        {
            int was = 0;
            steps.Add(new PlanStep(PlanAction.Change, target, $"MTU → {mtu}",
                () =>
                {
                    was = _links!.Get(after.Name).Mtu;
                    _links.SetMtu(after.Name, mtu);
                },
                () => { if (was > 0) _links!.SetMtu(after.Name, was); }));
        }
        if (before.Queues != after.Queues)
            steps.Add(new PlanStep(PlanAction.Change, target, $"queues {QueueCount(before.Queues)} → {QueueCount(after.Queues)} " +
                    "(its sockets re-opened on the new queues; meanwhile frames from it go to the kernel, frames for it are dropped)",
                () => ChangeQueues(after.Name, after.Queues, before.Queues), () => RequeuePort(after.Name, before.Queues)));
        if (before.Unclaimed != after.Unclaimed)
            steps.Add(new PlanStep(PlanAction.Change, target, $"unclaimed {Lower(before.Unclaimed)} → {Lower(after.Unclaimed)} (its XDP program is swapped)",
                () => SetUnclaimed(after.Name, after.Unclaimed), () => SetUnclaimed(after.Name, before.Unclaimed)));
    }

    /// <summary>The port's runtime takes its interface's MAC (a reload set it): its steering's L3 rules, then its
    /// <see cref="PortRuntime.Mac"/> between batches (the classifiers reserve it anew).</summary>
    private void TakePortMac(string name)
    {
        var port = PortNamed(name);
        var mac = MacAddress.Read(_links!.Get(name).Mac!.GetAddressBytes());
        port.Steering?.SetPortMac(mac);
        PublishTopology(() => port.Mac = mac);
    }

    private static string QueueCount(int? queues) => queues?.ToString() ?? "all";

    /// <summary>A reload's <c>queues</c> change (<see cref="RequeuePort"/>). When the port's sockets cannot be opened on its
    /// new queues (another AF_XDP user holds one, the driver refuses the sockets), the change is undone at once: its old
    /// queues set and its sockets opened on them again, so what runs is the running config, as the reply says. When
    /// that fails too the port is left without sockets: <see cref="PartLeftOutException"/> has it taken out.</summary>
    private void ChangeQueues(string name, int? queues, int? was)
    {
        try { RequeuePort(name, queues); }
        catch (Exception e)
        {
            Log.Warn("reconcile", "the port's sockets could not be opened on its new queues; putting its queues back", ("port", name),
                ("queues", QueueCount(queues)), ("was", QueueCount(was)), ("error", e.Message));
            try { RequeuePort(name, was); }
            catch (Exception u)
            {
                throw new PartLeftOutException($"port {name}", $"its sockets could be opened neither on {QueueCount(queues)} queues ({e.Message}) " +
                    $"nor on its {QueueCount(was)} again ({u.Message})", e);
            }
            throw;
        }
    }

    /// <summary>A reload changed the port's <c>queues</c>: every socket of it closed (its steering stays: frames meanwhile
    /// find no socket and go to the kernel; frames for it are dropped as NoTarget), its channels set (<see cref="SetQueues"/>), a socket per queue it has now
    /// opened, registered in its steering and handed to the workers. Only this port's sockets change.</summary>
    private void RequeuePort(string name, int? queues)
    {
        var port = PortNamed(name);
        _engine!.RemovePort(port.Index);
        SetQueues(name, queues, socketsClosed: true);
        var sockets = _xsk!.OpenSeparate(port.Index, new XskPortSpec(name, AttachSteering: false) { Queues = QueuesFor(name) }, _options.XdpMode);
        bool installed = false;
        try
        {
            foreach (var socket in sockets) port.Steering?.Register(socket.Queue, socket.Fd);
            _engine.AddPort(sockets);
            installed = true;
            Between(() => port.Sockets = sockets);
        }
        catch
        {
            if (installed) TryLog(() => _engine.RemovePort(port.Index));
            else foreach (var s in sockets) s.Dispose();
            throw;
        }
        Log.Info("runtime", "port's sockets re-opened", ("port", name), ("queues", sockets.Count));
    }

    /// <summary>Swaps the port's steering program for one with the new unclaimed policy in one step
    /// (<see cref="ClaimedMacSteering.SetDropUnclaimed"/>: BPF_LINK_UPDATE, same maps, so every claim and the socket
    /// stay and no frame is mis-steered); then the handler's policy, between batches.</summary>
    private void SetUnclaimed(string name, UnclaimedPolicy policy)
    {
        var port = PortNamed(name);
        port.Steering?.SetDropUnclaimed(policy == UnclaimedPolicy.Drop);
        Between(() => port.Config = port.Config with { Unclaimed = policy });
    }

    private PairRuntime PairNamed(string name) => _pairs.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"no pair called {PrintableText.Quote(name)} is running");

    private PortRuntime PortNamed(string name) => _ports.FirstOrDefault(p => p.Name == name)
        ?? throw new KeyNotFoundException($"no port called {PrintableText.Quote(name)} is running");
}
