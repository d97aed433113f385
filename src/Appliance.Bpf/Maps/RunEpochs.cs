using System.Runtime.InteropServices;

namespace Appliance.Bpf.Maps;

/// <summary>Grace periods for deferred reuse of map slots: the user-space counterpart of the kernel's RCU (a
/// quiescent-state scheme). Every program-running VM owns a cell, on its own cache line: 0 while it runs no
/// program, otherwise 1 + the global epoch it read when its current run began (<see cref="Enter"/> and
/// <see cref="Exit"/>, one plain store each per run). A map that frees a slot starts a new epoch and tags the slot
/// with it (<see cref="TagForFree"/>); the slot may be handed out again once no runner is still in a run that began
/// in an older epoch (<see cref="SafeEpoch"/>), so a program that looked the slot up before it was deleted has
/// finished with it. Runners never wait and never fence: the reclaiming side makes every runner's store visible with one process-wide barrier
/// (membarrier) before it reads the cells, at most once per epoch.</summary>
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

    /// <summary>The tag of a slot the caller just unlinked (so no lookup that starts later finds it): a new epoch.
    /// Runs that begin from now on read it or a later one and cannot hold the slot; the runs already going may.</summary>
    public static long TagForFree() => Interlocked.Increment(ref *s_epoch); // a full barrier: the unlinking is visible first

    /// <summary>Makes every runner's cell store up to epoch <paramref name="tag"/> visible before the cells are read
    /// (one process-wide barrier, only when none was issued since that epoch began).</summary>
    public static void Advance(long tag)
    {
        if (Volatile.Read(ref s_fenced) >= tag) return;
        long epoch = Volatile.Read(ref *s_epoch);
        Interlocked.MemoryBarrierProcessWide();
        long fenced;
        while ((fenced = Volatile.Read(ref s_fenced)) < epoch)
            Interlocked.CompareExchange(ref s_fenced, epoch, fenced);
    }

    /// <summary>Waits until a slot tagged <paramref name="tag"/> may be reused (synchronize_rcu), for at most
    /// <paramref name="timeout"/>; false when a run that began before it still goes on. Never from a thread inside a
    /// run (it would wait for itself): for user-space updates.</summary>
    public static bool WaitFor(long tag, TimeSpan timeout)
    {
        Advance(tag);
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var spin = new SpinWait();
        while (SafeEpoch() < tag)
        {
            if (Environment.TickCount64 > deadline) return false;
            spin.SpinOnce();
        }
        return true;
    }

    /// <summary>Slots tagged up to this epoch may be reused: the epoch of the last process-wide barrier, or lower while
    /// a runner is still in a run that began in an older epoch. Call after <see cref="Advance"/>.</summary>
    public static long SafeEpoch()
    {
        long safe = Volatile.Read(ref s_fenced);
        foreach (long* cell in Volatile.Read(ref s_cells))
        {
            long running = Volatile.Read(ref *cell);
            if (running != 0 && running - 1 < safe) safe = running - 1;
        }
        return safe;
    }
}
