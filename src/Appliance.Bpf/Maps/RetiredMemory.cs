using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Maps;

/// <summary>Gives back the memory of maps and programs the running set no longer holds (a reload dropped or replaced
/// them): the reserved mappings of BPF_F_NO_PREALLOC maps (<see cref="BpfMap.Free"/>) and the programs' native code
/// (<see cref="LoadedProgram.FreeCode"/>), with munmap, at once instead of at some later GC. Safe only after a grace
/// period: the caller has published the set without them (no run that begins from now on can reach them: chains
/// swapped, batch snapshots renewed), and this waits until every run and <see cref="RunSection"/> that began before has
/// ended (<see cref="RunEpochs.WaitFor"/>, synchronize_rcu). When one is still going after <c>wait</c>, a thread of
/// its own frees them once it ends. Never from a thread inside a run or a section (it would wait for itself).</summary>
public static class RetiredMemory
{
    /// <summary>Frees <paramref name="maps"/> and <paramref name="programs"/> after the grace period; true when that
    /// happened within <paramref name="wait"/>, false when a thread frees them later.</summary>
    public static bool Free(IReadOnlyCollection<BpfMap> maps, IReadOnlyCollection<LoadedProgram> programs, TimeSpan wait)
    {
        if (maps.Count == 0 && programs.Count == 0) return true;
        long tag = RunEpochs.TagForFree();
        if (RunEpochs.WaitFor(tag, wait))
        {
            FreeNow(maps, programs);
            return true;
        }
        new Thread(() =>
        {
            while (!RunEpochs.WaitFor(tag, TimeSpan.FromSeconds(1))) Thread.Sleep(10);
            FreeNow(maps, programs);
        }) { IsBackground = true, Name = "bpf-retired-memory" }.Start();
        return false;
    }

    /// <summary>Frees at once what no run or user-space reader was ever given (a loaded set that was never published).</summary>
    public static void FreeUnpublished(IReadOnlyCollection<BpfMap> maps, IReadOnlyCollection<LoadedProgram> programs) => FreeNow(maps, programs);

    private static void FreeNow(IReadOnlyCollection<BpfMap> maps, IReadOnlyCollection<LoadedProgram> programs)
    {
        foreach (var program in programs) program.FreeCode();
        foreach (var map in maps) map.Free();
    }
}
