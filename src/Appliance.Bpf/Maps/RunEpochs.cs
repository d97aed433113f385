using System.Runtime.InteropServices;

namespace Appliance.Bpf.Maps;

/// <summary>Grace periods for deferred reuse of map slots: the user-space counterpart of the kernel's RCU (a
/// quiescent-state scheme). Every program-running VM owns a cell, on its own cache line: 0 while it runs no
/// program, otherwise 1 + the global epoch it read when its current run began (<see cref="Enter"/> and
/// <see cref="Exit"/>, one plain store each per run). A map that frees a slot starts a new epoch and tags the slot
/// with it (<see cref="TagForFree"/>); the slot may be handed out again once no runner is still in a run that began
/// in an older epoch (<see cref="SafeEpoch"/>), so a program that looked the slot up before it was deleted has
/// finished with it. Runners never wait and never fence: a process-wide barrier (membarrier) makes every runner's
/// store visible before the cells are read, and only slots tagged up to the epoch of an issued barrier
/// (<see cref="Fenced"/>) are reclaimed. On the packet path (a program's insert) nothing issues it: the insert asks
/// for a grace period (<see cref="Request"/>, a flag check) and the grace-period thread issues the barrier, at most
/// once per <see cref="BarrierInterval"/>, sleeping while nothing is asked for (the kernel's RCU kthread);
/// user-space updates, which may wait, issue it themselves (<see cref="WaitFor"/>).</summary>
internal static unsafe class RunEpochs
{
    private const int CellBytes = 64;

    /// <summary>The global epoch, on a cache line of its own; runners keep its address (<see cref="Epoch"/>), so a run
    /// reads it without a static-base access or class-initialisation check.</summary>
    private static readonly long* s_epoch = NewCell();
    /// <summary>The highest epoch a process-wide barrier was issued after (cells read afterwards are current).</summary>
    private static long s_fenced;
    /// <summary>The highest epoch a barrier was asked for (<see cref="Request"/>); pending while above <see cref="s_fenced"/>.</summary>
    private static long s_requested;
    /// <summary>1 while the grace-period thread sleeps until it is woken; the requester that clears it wakes it.</summary>
    private static int s_parked;
    private static int s_started;
    private static readonly AutoResetEvent s_wake = new(false);
    private static long s_barriers;
    [ThreadStatic] private static long t_barriers;
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

    /// <summary>Slots tagged up to this epoch are covered by an issued barrier: their reuse waits only for the cells
    /// (<see cref="SafeEpoch"/>).</summary>
    public static long Fenced => Volatile.Read(ref s_fenced);

    /// <summary>Process-wide barriers issued so far (by the grace-period thread and by user-space updates).</summary>
    internal static long BarriersIssued => Volatile.Read(ref s_barriers);

    /// <summary>Process-wide barriers the calling thread issued (none, on a thread that only runs programs).</summary>
    internal static long BarriersIssuedByThisThread => t_barriers;

    /// <summary>The highest epoch a barrier was asked for.</summary>
    internal static long Requested => Volatile.Read(ref s_requested);

    /// <summary>True while a requested grace period's barrier has not been issued yet.</summary>
    internal static bool GracePeriodPending => Volatile.Read(ref s_requested) > Volatile.Read(ref s_fenced);

    /// <summary>The grace-period thread issues a barrier at most this often: a tenant whose program deletes and
    /// inserts on every packet costs the process at most 1000 barriers (IPIs to its CPUs) a second, whatever its
    /// packet rate, and a slot waits about a millisecond after it was asked for (expedited RCU's order).</summary>
    internal const int BarrierInterval = 1; // ms

    /// <summary>How many idle turns of <see cref="BarrierInterval"/> the thread stays awake after its last barrier
    /// before it parks: under steady churn a program's request finds it awake, so the packet path makes no futex
    /// wake; after 100 ms without a request it sleeps with no timer (idle costs nothing).</summary>
    internal const int IdleTurnsBeforeParking = 100;

    /// <summary>The grace-period thread is parked (asleep until a request wakes it).</summary>
    internal static bool GracePeriodThreadParked => Volatile.Read(ref s_parked) != 0;

    /// <summary>Starts the grace-period thread (once; a map with deferred reuse does, when it is created, so no
    /// program run ever starts a thread). It sleeps until <see cref="Request"/> wakes it.</summary>
    public static void StartGracePeriods()
    {
        if (Volatile.Read(ref s_started) != 0 || Interlocked.Exchange(ref s_started, 1) != 0) return;
        try
        {
            new Thread(GracePeriods) { IsBackground = true, Name = "bpf-grace-periods" }.Start();
        }
        catch
        {
            Volatile.Write(ref s_started, 0); // the next map tries again; requests are not left unserved for good
            throw;
        }
    }

    /// <summary>Asks for a barrier covering epoch <paramref name="tag"/> without issuing it: for a program's insert that
    /// found (nearly) only slots waiting for a grace period. No syscall while one is already asked for (a read); the
    /// request that finds the thread asleep wakes it (one futex wake per sleep of the thread).</summary>
    public static void Request(long tag)
    {
        // The barrier asked for fences the epoch current when it is issued: a request at tag or above covers this one.
        long requested = Volatile.Read(ref s_requested);
        while (requested < tag)
        {
            long seen = Interlocked.CompareExchange(ref s_requested, tag, requested);
            if (seen == requested) break;
            requested = seen;
        }
        if (requested >= tag) return;
        // After the full fence of the exchange above: the thread either sees the request before it sleeps or has
        // marked itself asleep; the one requester that clears the mark wakes it.
        if (Volatile.Read(ref s_parked) != 0 && Interlocked.CompareExchange(ref s_parked, 0, 1) == 1) s_wake.Set();
    }

    /// <summary>The grace-period thread: issues a barrier for each pending request, at most one per
    /// <see cref="BarrierInterval"/>; after <see cref="IdleTurnsBeforeParking"/> turns without one it sleeps (no timer).</summary>
    private static void GracePeriods()
    {
        int idle = 0;
        while (true)
        {
            long requested = Volatile.Read(ref s_requested);
            if (requested > Volatile.Read(ref s_fenced))
            {
                Advance(requested);
                idle = 0;
                Thread.Sleep(BarrierInterval);
                continue;
            }
            if (idle++ < IdleTurnsBeforeParking)
            {
                Thread.Sleep(BarrierInterval);
                continue;
            }
            idle = 0;
            Interlocked.Exchange(ref s_parked, 1);
            if (Volatile.Read(ref s_requested) > Volatile.Read(ref s_fenced))
            {
                // A request came meanwhile. If its requester already cleared the mark, its wake is coming: the
                // event stays set and costs one extra turn of this loop later.
                Interlocked.Exchange(ref s_parked, 0);
                continue;
            }
            s_wake.WaitOne();
            // Awake: a request follows (served next turn) or the wake was a leftover, after which it parks again at once.
            Interlocked.Exchange(ref s_parked, 0);
            idle = IdleTurnsBeforeParking;
        }
    }

    /// <summary>Makes every runner's cell store up to epoch <paramref name="tag"/> visible before the cells are read
    /// (one process-wide barrier, only when none was issued since that epoch began). Never on the packet path: the
    /// grace-period thread and user-space updates.</summary>
    public static void Advance(long tag)
    {
        if (Volatile.Read(ref s_fenced) >= tag) return;
        long epoch = Volatile.Read(ref *s_epoch);
        Interlocked.MemoryBarrierProcessWide();
        Interlocked.Increment(ref s_barriers);
        t_barriers++;
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
