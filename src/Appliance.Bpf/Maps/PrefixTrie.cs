namespace Appliance.Bpf.Maps;

/// <summary>A binary trie over prefix bits (most significant bit of byte 0 first) mapping stored prefixes to
/// value slots, for <see cref="LpmTrieMap"/>: a lookup walks at most one node per bit of the key and keeps
/// the deepest node that holds a value. Nodes live in growable arrays with a free list; deleting a prefix
/// prunes the nodes it no longer needs, so churn does not grow memory. Writers hold the map's write lock;
/// readers run under its seqlock and tolerate torn state (bounded walks, checked indexes).</summary>
internal sealed class PrefixTrie
{
    private const int None = -1;

    private int[] _zero = [None];
    private int[] _one = [None];
    private int[] _slot = [None];
    private int _count = 1; // node 0 is the root (prefix length 0)
    private int _free = None;

    /// <summary>The value slot of the longest stored prefix of <paramref name="data"/> no longer than
    /// <paramref name="maxBits"/>, or -1.</summary>
    public int Longest(ReadOnlySpan<byte> data, int maxBits)
    {
        int[] zero = Volatile.Read(ref _zero), one = Volatile.Read(ref _one), slot = Volatile.Read(ref _slot);
        int n = Math.Min(Math.Min(zero.Length, one.Length), slot.Length);
        int node = 0, best = slot[0];
        for (int bit = 0; bit < maxBits; bit++)
        {
            node = Bit(data, bit) ? one[node] : zero[node];
            if ((uint)node >= (uint)n) break;
            int s = slot[node];
            if (s >= 0) best = s;
        }
        return best;
    }

    /// <summary>Records that the prefix (<paramref name="data"/>, <paramref name="bits"/>) has value slot <paramref name="valueSlot"/>.</summary>
    public void Set(ReadOnlySpan<byte> data, int bits, int valueSlot)
    {
        int node = 0;
        for (int bit = 0; bit < bits; bit++)
        {
            int[] links = Bit(data, bit) ? _one : _zero;
            int next = links[node];
            if (next == None)
            {
                next = NewNode();
                (Bit(data, bit) ? _one : _zero)[node] = next; // the arrays may have grown
            }
            node = next;
        }
        Volatile.Write(ref _slot[node], valueSlot);
    }

    /// <summary>Forgets the prefix and prunes nodes that lead nowhere any more.</summary>
    public void Remove(ReadOnlySpan<byte> data, int bits)
    {
        Span<int> path = bits <= 512 ? stackalloc int[bits + 1] : new int[bits + 1];
        int node = 0;
        path[0] = 0;
        for (int bit = 0; bit < bits; bit++)
        {
            node = Bit(data, bit) ? _one[node] : _zero[node];
            if (node == None) return;
            path[bit + 1] = node;
        }
        Volatile.Write(ref _slot[node], None);
        for (int depth = bits; depth > 0; depth--)
        {
            int n = path[depth];
            if (_slot[n] != None || _zero[n] != None || _one[n] != None) break;
            int parent = path[depth - 1];
            if (_zero[parent] == n) Volatile.Write(ref _zero[parent], None);
            else Volatile.Write(ref _one[parent], None);
            _zero[n] = _free;
            _free = n;
        }
    }

    private int NewNode()
    {
        int node;
        if (_free != None)
        {
            node = _free;
            _free = _zero[node];
        }
        else
        {
            if (_count == _slot.Length)
            {
                int size = _slot.Length * 2;
                var zero = _zero; Array.Resize(ref zero, size);
                var one = _one; Array.Resize(ref one, size);
                var slot = _slot; Array.Resize(ref slot, size);
                Volatile.Write(ref _zero, zero);
                Volatile.Write(ref _one, one);
                Volatile.Write(ref _slot, slot);
            }
            node = _count++;
        }
        _zero[node] = None;
        _one[node] = None;
        _slot[node] = None;
        return node;
    }

    private static bool Bit(ReadOnlySpan<byte> data, int bit) => (data[bit >> 3] & (0x80 >> (bit & 7))) != 0;
}
