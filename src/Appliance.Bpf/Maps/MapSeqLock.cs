namespace Appliance.Bpf.Maps;

/// <summary>Writers (inserts and deletes, from the control socket or a program) serialise on a lock and
/// bump a sequence number around each change (odd while changing); readers (lookups on the datapath)
/// take no lock: they retry when the sequence changed under them. Value bytes are not covered: like the
/// kernel without BPF_F_LOCK, a value may be read while another thread writes it.</summary>
internal sealed class MapSeqLock
{
    private readonly Lock _writer = new();
    private int _sequence;

    public int ReadBegin()
    {
        var spin = new SpinWait();
        while (true)
        {
            int s = Volatile.Read(ref _sequence);
            if ((s & 1) == 0) return s;
            spin.SpinOnce();
        }
    }

    public bool ReadRetry(int start)
    {
        Interlocked.MemoryBarrier();
        return Volatile.Read(ref _sequence) != start;
    }

    public WriteScope Write() => new(this);

    public readonly ref struct WriteScope
    {
        private readonly MapSeqLock _owner;

        public WriteScope(MapSeqLock owner)
        {
            _owner = owner;
            owner._writer.Enter();
            Interlocked.Increment(ref owner._sequence);
        }

        public void Dispose()
        {
            Interlocked.Increment(ref _owner._sequence);
            _owner._writer.Exit();
        }
    }
}
