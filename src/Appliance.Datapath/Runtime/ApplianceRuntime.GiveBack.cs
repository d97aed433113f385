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
/// <see cref="RunSection"/> (the group-frame flooder, the control socket's map editor) that began before has ended.</summary>
public sealed partial class ApplianceRuntime
{
    /// <summary>How long a reload waits for the grace period itself; after that a thread frees the memory when the
    /// last run or section that could reach it ends (a `maps dump` of a large map, say).</summary>
    private static readonly TimeSpan GiveBackWait = TimeSpan.FromSeconds(1);

    /// <summary>After a reload: what <paramref name="from"/> held and <paramref name="keep"/> (running now) does not.</summary>
    private void GiveBack(ProgramSet from, ProgramSet keep)
    {
        if (ReferenceEquals(from, keep)) return;
        var (maps, programs) = from.LeftBy(keep);
        if (maps.Count == 0 && programs.Count == 0) return;
        long reserved = maps.Sum(m => m.ReservedBytes);
        try
        {
            Between(() => { }); // every worker's next batch reads the chains as they are now
        }
        catch (Exception e)
        {
            // The workers did not park: nothing is freed now (the GC's finalizers unmap it once nothing reaches it).
            Log.Warn("reconcile", "the memory of the dropped programs and maps is left to the GC", ("error", e.Message));
            return;
        }
        bool done = RetiredMemory.Free(maps, programs, GiveBackWait);
        Log.Info("reconcile", done ? "memory given back" : "memory given back once the runs that may reach it end",
            ("maps", maps.Count), ("programs", programs.Count), ("reservedMiB", reserved >> 20));
    }

    /// <summary>A plan that will not be applied (a dry run, a reload refused before <see cref="Apply"/>): the maps and
    /// code it loaded that the running set does not hold are unmapped now (nothing ever ran them or read them). A plan
    /// that <see cref="Apply"/> took is left alone: Apply gives back what it leaves.</summary>
    public void Discard(ReconcilePlan plan)
    {
        lock (_gate)
        {
            if (plan.Taken || ReferenceEquals(plan.Programs, Programs)) return;
            plan.Taken = true;
            var (maps, programs) = plan.Programs.LeftBy(Programs);
            RetiredMemory.FreeUnpublished(maps, programs);
        }
    }
}
