using Appliance.Config;
namespace Appliance.Datapath.Pairs;

/// <summary>One side's ordered program chain with bpf_mprog's rules: at most 63 programs, append by
/// default, before/after an anchor, replace in place, a revision that starts at 1 and grows by one per
/// change, and a stale <c>expectedRevision</c> refused. Changes build a new array and publish it with
/// one reference write, so the datapath, which reads <see cref="Programs"/> once per batch, sees the old
/// chain or the new one, never a mix. Writers are serialised by a lock; readers take none.</summary>
public sealed class ProgramChain<TProgram> where TProgram : class, INamedProgram
{
    public const int MaxPrograms = 63;

    private readonly object _writeLock = new();
    private Snapshot _current = new([], 1);

    /// <summary>The programs in run order (an immutable array: read it once per batch).</summary>
    public TProgram[] Programs => Volatile.Read(ref _current).Programs;

    public long Revision => Volatile.Read(ref _current).Revision;

    public void Attach(TProgram program, ChainPosition position, long? expectedRevision = null)
    {
        lock (_writeLock)
        {
            var cur = Check(expectedRevision);
            if (IndexOf(cur.Programs, program.Name) >= 0)
                throw new ChainException(ChainError.AlreadyAttached, $"program '{program.Name}' is already in the chain");
            if (cur.Programs.Length >= MaxPrograms)
                throw new ChainException(ChainError.Full, $"the chain already holds {MaxPrograms} programs, the most bpf_mprog allows");
            int at = position.Anchor is null
                ? (position.Placement == ChainPlacement.Before ? 0 : cur.Programs.Length)
                : AnchorIndex(cur.Programs, position.Anchor) + (position.Placement == ChainPlacement.After ? 1 : 0);
            var next = new TProgram[cur.Programs.Length + 1];
            Array.Copy(cur.Programs, 0, next, 0, at);
            next[at] = program;
            Array.Copy(cur.Programs, at, next, at + 1, cur.Programs.Length - at);
            Publish(next, cur);
        }
    }

    /// <summary>Swaps the program named <paramref name="oldName"/> for <paramref name="program"/> at the same position.</summary>
    public void Replace(string oldName, TProgram program, long? expectedRevision = null)
    {
        lock (_writeLock)
        {
            var cur = Check(expectedRevision);
            int at = AnchorIndex(cur.Programs, oldName);
            int dup = IndexOf(cur.Programs, program.Name);
            if (dup >= 0 && dup != at)
                throw new ChainException(ChainError.AlreadyAttached, $"program '{program.Name}' is already in the chain");
            var next = (TProgram[])cur.Programs.Clone();
            next[at] = program;
            Publish(next, cur);
        }
    }

    public void Detach(string name, long? expectedRevision = null)
    {
        lock (_writeLock)
        {
            var cur = Check(expectedRevision);
            int at = AnchorIndex(cur.Programs, name);
            var next = new TProgram[cur.Programs.Length - 1];
            Array.Copy(cur.Programs, 0, next, 0, at);
            Array.Copy(cur.Programs, at + 1, next, at, cur.Programs.Length - at - 1);
            Publish(next, cur);
        }
    }

    /// <summary>Replaces the whole chain in one change (a config reload); one revision step.</summary>
    public void Set(IReadOnlyList<TProgram> programs, long? expectedRevision = null)
    {
        if (programs.Count > MaxPrograms)
            throw new ChainException(ChainError.Full, $"{programs.Count} programs given; a chain holds at most {MaxPrograms}");
        for (int i = 0; i < programs.Count; i++)
            for (int j = 0; j < i; j++)
                if (programs[i].Name == programs[j].Name)
                    throw new ChainException(ChainError.AlreadyAttached, $"program '{programs[i].Name}' appears twice");
        lock (_writeLock)
        {
            var cur = Check(expectedRevision);
            Publish([.. programs], cur);
        }
    }

    private Snapshot Check(long? expectedRevision)
    {
        var cur = _current;
        if (expectedRevision is { } want && want != cur.Revision)
            throw new ChainException(ChainError.StaleRevision, $"expected revision {want}, but the chain is at revision {cur.Revision}");
        return cur;
    }

    private void Publish(TProgram[] programs, Snapshot cur) => Volatile.Write(ref _current, new Snapshot(programs, cur.Revision + 1));

    private static int AnchorIndex(TProgram[] programs, string name)
    {
        int i = IndexOf(programs, name);
        if (i < 0) throw new ChainException(ChainError.NotFound, $"program {PrintableText.Quote(name)} is not in the chain");
        return i;
    }

    private static int IndexOf(TProgram[] programs, string name)
    {
        for (int i = 0; i < programs.Length; i++)
            if (programs[i].Name == name) return i;
        return -1;
    }

    private sealed record Snapshot(TProgram[] Programs, long Revision);
}

/// <summary>What a chain needs to know of a program: its unique name.</summary>
public interface INamedProgram
{
    string Name { get; }
}
