using System.Buffers.Binary;

namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_LPM_TRIE: keys are <c>{ u32 prefixlen; u8 data[key_size − 4]; }</c> (data in
/// network order). A lookup returns the value of the longest stored prefix that matches the key's data
/// within the key's own prefixlen (a prefixlen above 8 × data size finds nothing, as in the kernel); update/delete address one exact prefix. Kernel rules: the map needs
/// BPF_F_NO_PREALLOC; prefixlen above 8 × data size gives -EINVAL; a new prefix when full gives -ENOSPC.
/// Storage: an index of exact (prefixlen, masked data) keys holds the values and serves update/delete/iteration;
/// a lookup either probes that index once per prefix length the map holds, longest first (when the map holds few
/// lengths: an ACL of /32 hosts and a few networks), or walks a bit trie (<see cref="PrefixTrie"/>), at most one
/// step per key bit (when it holds many).
/// Stored keys keep only their prefix bits (host bits are
/// cleared); GET_NEXT_KEY walks longest prefixes first — the kernel's trie order differs, the set is the same.</summary>
public sealed class LpmTrieMap : BpfMap
{
    private const int MaxKeySize = 4 + 256;

    private readonly HashSlots _slots;
    private readonly MapSeqLock _lock = new();
    private readonly byte[] _values;
    private readonly int _stride;
    private readonly int[] _perLength;
    /// <summary>Bit L (of word L / 64) set while some stored prefix has length L; writers change it under the lock.</summary>
    private readonly ulong[] _lengths;
    /// <summary>How many lengths have a bit in <see cref="_lengths"/> (element 0). Both pinned: compiled code reads them (see Jit.InlineMap).</summary>
    private readonly int[] _distinctLengths = GC.AllocateArray<int>(1, pinned: true);
    private readonly PrefixTrie _trie = new();
    private readonly int _maxPrefix;

    /// <summary>Key bits one index probe is worth in trie steps: a lookup probes by length while the map holds at
    /// most wanted / <see cref="BitsPerProbe"/> distinct lengths, and walks the trie otherwise.</summary>
    internal const int BitsPerProbe = 8;

    /// <summary>Spare slots at least (max_entries when more). A program's insert never waits for a grace period, and
    /// the grace-period thread issues a barrier at most once per <see cref="RunEpochs.BarrierInterval"/> ms and only
    /// once half the spare slots are gone: so a run that deletes and inserts costs at most one barrier per
    /// MinSpare / 2 runs, and such churn stays free of -ENOSPC while the thread answers within MinSpare / 2 runs
    /// (256 deletes per millisecond sustained). About 20 KB for an IPv4 key and a small value.</summary>
    internal const int MinSpare = 512;

    public LpmTrieMap(BpfMapDefinition definition) : base(definition)
    {
        _maxPrefix = (definition.KeySize - 4) * 8;
        _stride = MapLayout.Stride(definition.ValueSize);
        // A deleted prefix's slot is reused only after a grace period (as the kernel frees trie nodes after an RCU
        // grace period): spare slots serve inserts meanwhile, so a full map can be replaced at once and a program
        // that deletes and inserts on every run finds free slots while the grace-period thread catches up.
        _slots = new HashSlots(definition.KeySize, definition.MaxEntries, spare: Math.Max(definition.MaxEntries, MinSpare));
        _values = GC.AllocateArray<byte>(checked(_stride * _slots.Capacity), pinned: true);
        _perLength = new int[_maxPrefix + 1];
        _lengths = GC.AllocateArray<ulong>(_maxPrefix / 64 + 1, pinned: true);
    }

    // For the JIT's inline lookup (Jit.InlineMap), which probes by length as LongestByLength does: the exact-key
    // index, its seqlock, the pinned length bits and count, and the pinned values (slot s at s * Stride).
    internal HashSlots Slots => _slots;
    internal nint SequenceAddress => _lock.SequenceAddress;
    internal unsafe nint LengthsAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _lengths[0]);
    internal unsafe nint DistinctLengthsAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _distinctLengths[0]);
    internal int ValuesHash => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_values);
    internal unsafe nint ValuesAddress => (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_values));
    internal int Stride => _stride;

    public int Count => _slots.Count;

    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        value = default;
        if (key.Length < KeySize) return false;
        Span<byte> exact = stackalloc byte[MaxKeySize];
        exact = exact[..KeySize];
        int slot, seq;
        do
        {
            seq = _lock.ReadBegin();
            slot = Longest(key, exact);
        } while (_lock.ReadRetry(seq));
        if (slot < 0) return false;
        value = new MapValue(_values, slot * _stride, ValueSize);
        return true;
    }

    /// <summary>A copy taken under the map's sequence, again when a writer came meanwhile: this thread runs no program,
    /// so a grace period would not wait for it, and a slot deleted and reused during the copy changes the sequence.
    /// (Not under the write lock: that made the sequence odd, sending the programs' inline lookups to the helper; only
    /// after <see cref="UserReadRetries"/> torn copies, when programs change the map without pause, does it take the lock,
    /// so a control-plane read always ends.)</summary>
    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (key.Length < KeySize) return false;
        Span<byte> exact = stackalloc byte[MaxKeySize];
        exact = exact[..KeySize];
        for (int attempt = 0; attempt < UserReadRetries; attempt++)
        {
            int seq = _lock.ReadBegin();
            int found = CopyLongest(key, exact, value);
            if (!_lock.ReadRetry(seq)) return found >= 0;
        }
        using (_lock.Write()) return CopyLongest(key, exact, value) >= 0;
    }

    private const int UserReadRetries = 64;

    private int CopyLongest(ReadOnlySpan<byte> key, Span<byte> exact, Span<byte> value)
    {
        int slot = Longest(key, exact);
        if (slot >= 0) _values.AsSpan(slot * _stride, ValueSize).CopyTo(value);
        return slot;
    }

    /// <summary>The slot of the longest stored prefix matching <paramref name="key"/> (of at least KeySize bytes), or -1:
    /// by probing the index per stored length while the map holds few lengths, else by walking the trie.
    /// <paramref name="exact"/> is room for one masked key.</summary>
    private int Longest(ReadOnlySpan<byte> key, Span<byte> exact)
    {
        uint wanted = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (wanted > (uint)_maxPrefix) return -1; // a key prefix longer than its data finds nothing (the kernel's trie_lookup_elem)
        return Volatile.Read(ref _distinctLengths[0]) * BitsPerProbe <= (int)wanted
            ? LongestByLength(key, (int)wanted, exact)
            : _trie.Longest(key[4..KeySize], (int)wanted);
    }

    /// <summary>The slot of the longest stored prefix of <paramref name="key"/>'s data no longer than
    /// <paramref name="wanted"/> bits, by probing the index with the key masked to each stored length, longest
    /// first; -1 when none matches. <paramref name="exact"/> is room for one masked key.</summary>
    private int LongestByLength(ReadOnlySpan<byte> key, int wanted, Span<byte> exact)
    {
        for (int word = wanted >> 6; word >= 0; word--)
        {
            ulong bits = Volatile.Read(ref _lengths[word]);
            if (word == wanted >> 6 && (wanted & 63) != 63) bits &= (1UL << ((wanted & 63) + 1)) - 1;
            while (bits != 0)
            {
                int bit = 63 - System.Numerics.BitOperations.LeadingZeroCount(bits);
                bits &= ~(1UL << bit);
                Mask(key, word * 64 + bit, exact);
                int slot = _slots.Find(exact);
                if (slot >= 0) return slot;
            }
        }
        return -1;
    }

    /// <summary>Counts a prefix of length <paramref name="len"/> in or out (under the write lock).</summary>
    private void CountLength(int len, int change)
    {
        int before = _perLength[len];
        _perLength[len] = before + change;
        if (before != 0 && before + change != 0) return;
        ref ulong word = ref _lengths[len >> 6];
        Volatile.Write(ref word, change > 0 ? word | 1UL << (len & 63) : word & ~(1UL << (len & 63)));
        Volatile.Write(ref _distinctLengths[0], _distinctLengths[0] + change);
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        if (!MapLayout.ValidFlags(flags) || key.Length < KeySize || value.Length < ValueSize) return -Errno.EINVAL;
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (len > (uint)_maxPrefix) return -Errno.EINVAL;
        Span<byte> exact = stackalloc byte[MaxKeySize];
        exact = exact[..KeySize];
        Mask(key, (int)len, exact);
        using var write = _lock.Write();
        int slot = _slots.Find(exact);
        if (slot >= 0)
        {
            if (flags == BpfUpdateFlags.NoExist) return -Errno.EEXIST;
        }
        else
        {
            if (flags == BpfUpdateFlags.Exist) return -Errno.ENOENT;
            slot = _slots.Insert(exact);
            if (slot < 0) return -Errno.ENOSPC;
            CountLength((int)len, 1);
            _trie.Set(exact[4..], (int)len, slot);
        }
        value[..ValueSize].CopyTo(_values.AsSpan(slot * _stride, ValueSize));
        return 0;
    }

    /// <summary>A user-space update: when only slots in their grace period are left, it waits for the oldest one's
    /// grace period (issuing the barrier itself, then at most a second, as synchronize_rcu would) and tries again, so
    /// a full trie refuses a new prefix only for max_entries prefixes, as the kernel's does. (A program's update never
    /// waits and never issues a barrier: -ENOSPC until the grace-period thread has run.)</summary>
    public override int UpdateFromUser(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        int r = Update(key, value, flags);
        if (r != -Errno.ENOSPC) return r;
        long tag;
        using (_lock.Write())
        {
            tag = _slots.OldestPendingTag;
            if (tag == 0 || _slots.Count >= MaxEntries) return r;
        }
        return RunEpochs.WaitFor(tag, TimeSpan.FromSeconds(1)) ? Update(key, value, flags) : r;
    }

    public override int Delete(ReadOnlySpan<byte> key)
    {
        if (key.Length < KeySize) return -Errno.EINVAL;
        uint len = BinaryPrimitives.ReadUInt32LittleEndian(key);
        if (len > (uint)_maxPrefix) return -Errno.EINVAL;
        Span<byte> exact = stackalloc byte[MaxKeySize];
        exact = exact[..KeySize];
        Mask(key, (int)len, exact);
        using var write = _lock.Write();
        int slot = _slots.Find(exact);
        if (slot < 0) return -Errno.ENOENT;
        _slots.Remove(slot);
        CountLength((int)len, -1);
        _trie.Remove(exact[4..], (int)len);
        return 0;
    }

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        using var write = _lock.Write();
        // Order: by prefix length, longest first, then slot order within a length.
        int currentLen = int.MaxValue, currentSlot = -1;
        if (key.Length >= KeySize)
        {
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(key);
            if (len <= (uint)_maxPrefix)
            {
                Span<byte> exact = stackalloc byte[MaxKeySize];
                exact = exact[..KeySize];
                Mask(key, (int)len, exact);
                int slot = _slots.Find(exact);
                if (slot >= 0) (currentLen, currentSlot) = ((int)len, slot);
            }
        }
        for (int len = Math.Min(currentLen, _maxPrefix); len >= 0; len--)
        {
            if (_perLength[len] == 0) continue;
            for (int s = len == currentLen ? currentSlot + 1 : 0; s < _slots.Capacity; s++)
            {
                if (_slots.IsUsed(s) && BinaryPrimitives.ReadUInt32LittleEndian(_slots.KeyAt(s)) == (uint)len)
                {
                    _slots.KeyAt(s).CopyTo(nextKey);
                    return true;
                }
            }
        }
        return false;
    }

    /// <summary>Writes {len, data with bits past len cleared} into <paramref name="dst"/>.</summary>
    private static void Mask(ReadOnlySpan<byte> key, int len, Span<byte> dst)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(dst, (uint)len);
        var data = key[4..dst.Length];
        var outData = dst[4..];
        int full = len / 8, rest = len % 8;
        data[..full].CopyTo(outData);
        int at = full;
        if (rest != 0)
        {
            outData[at] = (byte)(data[at] & (0xff << (8 - rest)));
            at++;
        }
        outData[at..].Clear();
    }
}
