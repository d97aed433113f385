using Appliance.Bpf.Maps;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Programs;
using Appliance.Datapath.Runtime.Reconcile;

namespace Appliance.Datapath.Runtime;

/// <summary>What a reload gives back: the programs and maps the running set no longer holds (an object dropped or
/// replaced; its maps that the new object did not keep) have their reserved memory (BPF_F_NO_PREALLOC maps) and native
/// code unmapped as soon as no run can reach them, not at some later GC (the datapath allocates nothing per frame, so
/// in steady state none may come for hours). The grace period: the new set is published (chains swapped, the new
/// topology taken between batches), every forwarding worker parks once more between batches (its next batch reads
/// the chains as they are now), then <see cref="RetiredMemory"/> waits until every program run and
/// <see cref="RunSection"/> (the group-frame flooder, the control socket's map editor) that began before has ended.
/// Preallocated maps are managed arrays: the workers (parked) and the flooder (between frames) forget what they kept of
/// the old programs, the plan's steps let go of theirs, and a large drop asks for a full collection
/// (<see cref="CollectDropped"/>).</summary>
public sealed partial class ApplianceRuntime
{
    /// <summary>How long a reload waits for the grace period itself; after that a thread frees the memory when the
    /// last run or section that could reach it ends (a `maps dump` of a large map, say).</summary>
    private static readonly TimeSpan GiveBackWait = TimeSpan.FromSeconds(1);

    /// <summary>Preallocated map storage a reload must drop (keys and values, about) to ask for a full collection.</summary>
    private const long CollectAbove = 16 << 20;

    /// <summary>After a reload: what <paramref name="from"/> held and <paramref name="keep"/> (running now) does not.
    /// Returns the preallocated (managed) map storage it dropped, about, for <see cref="CollectDropped"/>.</summary>
    private long GiveBack(ProgramSet from, ProgramSet keep)
    {
        if (ReferenceEquals(from, keep)) return 0;
        // What the published chains run stays, whichever set it came from (ProgramSet.LeftBy): read under the gate,
        // which chain edits take too (BetweenReloads), so none attaches a program of the set given back from now on.
        var (maps, programs) = from.LeftBy(keep, AttachedPrograms());
        if (maps.Count == 0 && programs.Count == 0) return 0;
        long reserved = maps.Sum(m => m.ReservedBytes), managed = ProgramSet.Preallocated(maps);
        try
        {
            // Every worker's next batch reads the chains as they are now; meanwhile each forgets the old ones (its
            // VM's last program, pins and regions), so the dropped preallocated maps' arrays become garbage.
            Between(() => { foreach (var h in _handlers) h.ForgetPrograms(); });
            _flooder?.ForgetPrograms();
        }
        catch (Exception e)
        {
            // The workers did not park: nothing is freed now (the GC's finalizers unmap it once nothing reaches it).
            Log.Warn("reconcile", "the memory of the dropped programs and maps is left to the GC", ("error", e.Message));
            return 0;
        }
        bool done = RetiredMemory.Free(maps, programs, GiveBackWait);
        Log.Info("reconcile", done ? "memory given back" : "memory given back once the runs that may reach it end",
            ("maps", maps.Count), ("programs", programs.Count), ("reservedMiB", reserved >> 20), ("preallocatedMiB", managed >> 20));
        return managed;
    }

    /// <summary>An apply that failed and was undone: what the plan loaded that the running set does not hold, and no
    /// chain runs (an undo that failed may have left the plan's programs on one), is given back as after a reload
    /// (<see cref="GiveBack"/>: its programs may have run), and the plan lets go of it. Returns what
    /// <see cref="CollectDropped"/> takes; out of line, so no local of the caller holds the plan's set.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long GiveBackFailed(ReconcilePlan plan)
    {
        long managed = GiveBack(plan.Programs, Programs);
        plan.Release();
        return managed;
    }

    /// <summary>The programs on the running pairs' chains, both sides.</summary>
    private IEnumerable<RuntimeProgram> AttachedPrograms() =>
        Topology.Pairs.SelectMany(p => p.Primary.Chain.Programs.Concat(p.Peer.Chain.Programs));

    /// <summary>Runs a control-socket operation on the running pairs and programs (a chain's attach, replace or detach;
    /// `maps` reading or writing a map) under the runtime's gate: it comes before or after a reload's plan or apply, never
    /// inside one. So a program it attaches is the running set's, a reload that gives back the set it replaced sees the
    /// chains as they are, and no map it touches is given back while it does (a reload gives back only maps the set it
    /// replaced held, never the running set's).</summary>
    public T BetweenReloads<T>(Func<T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (_gate) return operation();
    }

    /// <summary>Preallocated maps are managed arrays (up to 1 GiB): the GC takes them once nothing reaches them (the
    /// plan's steps spent, the workers' VMs forgot them), and with nothing allocated per frame none may come for hours.
    /// When a reload dropped <see cref="CollectAbove"/> or more, a full collection now (blocking, as the reload already
    /// is; Aggressive gives the freed regions back to the system). Called where no local holds the dropped set.</summary>
    private static void CollectDropped(long preallocated)
    {
        if (preallocated >= CollectAbove) GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>A plan that will not be applied (a dry run, a reload refused before <see cref="Apply"/>): the maps and
    /// code it loaded that the running set does not hold are unmapped now (nothing ever ran them or read them), and the
    /// plan lets go of them (its preallocated maps are garbage then, collected at once when large). A plan that
    /// <see cref="Apply"/> took is left alone: Apply gives back what it leaves.</summary>
    public void Discard(ReconcilePlan plan)
    {
        lock (_gate)
        {
            if (plan.Taken) return;
            CollectDropped(FreeUnapplied(plan));
        }
    }

    /// <summary>What <paramref name="plan"/> loaded and the running set does not hold, freed at once: nothing ever ran
    /// it (a refused or discarded plan). Returns what <see cref="CollectDropped"/> takes; out of line, so no local of
    /// the caller holds the plan's set.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private long FreeUnapplied(ReconcilePlan plan)
    {
        long managed = plan.Programs.FreeUnpublished(Programs);
        plan.Release();
        return managed;
    }
}
