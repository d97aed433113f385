namespace Appliance.Bpf.Maps;

/// <summary>Writers (inserts and deletes, from the control socket or a program) serialise on a lock and
/// bump a sequence number around each change (odd while changing); readers (lookups on the datapath)
/// take no lock: they retry when the sequence changed under them. Value bytes are not covered: like the
/// kernel without BPF_F_LOCK, a value may be read while another thread writes it. The sequence lives in pinned
/// memory (<see cref="SequenceAddress"/>), so code the JIT compiled reads it the same way (see
/// <see cref="Jit.InlineMap"/>).</summary>
internal sealed class MapSeqLock
{
    private readonly Lock _writer = new();
    private readonly int[] _cell = GC.AllocateArray<int>(1, pinned: true);

    private ref int Sequence => ref _cell[0];

    /// <summary>The host address of the sequence (never moves).</summary>
    public unsafe nint SequenceAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _cell[0]);

    public int ReadBegin()
    {
        var spin = new SpinWait();
        while (true)
        {
            int s = Volatile.Read(ref Sequence);
            if ((s & 1) == 0) return s;
            spin.SpinOnce();
        }
    }

    public bool ReadRetry(int start)
    {
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref Sequence) != start;
    }

    public WriteScope Write() => new(this);

    public readonly ref struct WriteScope
    {
        private readonly MapSeqLock _owner;

        public WriteScope(MapSeqLock owner)
        {
            _owner = owner;
            owner._writer.Enter();
            Interlocked.Increment(ref owner.Sequence);
        }

        public void Dispose()
        {
            Interlocked.Increment(ref _owner.Sequence);
            _owner._writer.Exit();
        }
    }
}
