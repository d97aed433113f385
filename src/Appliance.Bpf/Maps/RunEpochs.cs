using System.Runtime.InteropServices;

namespace Appliance.Bpf.Maps;

/// <summary>Grace periods for deferred reuse of map slots: the user-space counterpart of the kernel's RCU (a
/// quiescent-state scheme). Every program-running VM owns a cell, on its own cache line: 0 while it runs no
/// program, otherwise 1 + the global epoch it read when its current run began (<see cref="Enter"/> and
/// <see cref="Exit"/>, one plain store each per run). A map that frees a slot tags it with the epoch that must
/// be reached (<see cref="TagForFree"/>); the slot may be handed out again once the global epoch reached the tag
/// and no runner is still in a run that began before it (<see cref="SafeEpoch"/>), so a program that looked
/// the slot up before it was deleted has finished with it. Runners never wait and never fence: the reclaiming
/// side raises the epoch and makes every runner's store visible with one process-wide barrier (membarrier),
/// at most once per epoch.</summary>
internal static unsafe class RunEpochs
{
    private const int CellBytes = 64;

    /// <summary>The global epoch, on a cache line of its own; runners keep its address (<see cref="Epoch"/>), so a run
    /// reads it without a static-base access or class-initialisation check.</summary>
    private static readonly long* s_epoch = NewCell();
    /// <summary>The highest epoch a process-wide barrier was issued after (cells read afterwards are current).</summary>
    private static long s_fenced;
    private static long*[] s_cells = [];
    private static readonly Stack<nint> s_spare = new();
    private static readonly Lock s_registry = new();

    /// <summary>A cell for a new runner (reused after <see cref="Release"/>; cells are never freed, readers may hold them).</summary>
    public static long* Register()
    {
        lock (s_registry)
        {
            if (s_spare.TryPop(out nint spare)) return (long*)spare;
            var cell = NewCell();
            var cells = new long*[s_cells.Length + 1];
            s_cells.CopyTo(cells, 0);
            cells[^1] = cell;
            Volatile.Write(ref s_cells, cells);
            return cell;
        }
    }

    /// <summary>The address of the global epoch, for <see cref="Enter"/>.</summary>
    public static long* Epoch => s_epoch;

    private static long* NewCell()
    {
        var cell = (long*)NativeMemory.AlignedAlloc(CellBytes, CellBytes);
        *cell = 0;
        return cell;
    }

    public static void Release(long* cell)
    {
        Volatile.Write(ref *cell, 0);
        lock (s_registry) s_spare.Push((nint)cell);
    }

    /// <summary>A run begins: what it looks up from now on is covered until <see cref="Exit"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static void Enter(long* cell, long* epoch) => Volatile.Write(ref *cell, Volatile.Read(ref *epoch) + 1);

    /// <summary>The run ended: it holds nothing it looked up (a quiescent state).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static void Exit(long* cell) => Volatile.Write(ref *cell, 0);

    /// <summary>The tag of a slot the caller just unlinked (so no lookup that starts later finds it): the epoch
    /// that must be reached before it is reused.</summary>
    public static long TagForFree()
    {
        Interlocked.MemoryBarrier(); // the unlinking stores are visible before the epoch is read
        return Volatile.Read(ref *s_epoch) + 1;
    }

    /// <summary>Raises the global epoch to at least <paramref name="tag"/> and makes every runner's cell store
    /// visible (a process-wide barrier, issued at most once per epoch).</summary>
    public static void Advance(long tag)
    {
        long epoch;
        while ((epoch = Volatile.Read(ref *s_epoch)) < tag)
            Interlocked.CompareExchange(ref *s_epoch, epoch + 1, epoch);
        if (Volatile.Read(ref s_fenced) >= epoch) return;
        Interlocked.MemoryBarrierProcessWide();
        long fenced;
        while ((fenced = Volatile.Read(ref s_fenced)) < epoch)
            Interlocked.CompareExchange(ref s_fenced, epoch, fenced);
    }

    /// <summary>Slots tagged up to this epoch may be reused: the global epoch, or lower while a runner is still in a
    /// run that began in an older epoch. Call after <see cref="Advance"/>.</summary>
    public static long SafeEpoch()
    {
        long safe = Math.Min(Volatile.Read(ref *s_epoch), Volatile.Read(ref s_fenced));
        foreach (long* cell in Volatile.Read(ref s_cells))
        {
            long running = Volatile.Read(ref *cell);
            if (running != 0 && running - 1 < safe) safe = running - 1;
        }
        return safe;
    }
}
