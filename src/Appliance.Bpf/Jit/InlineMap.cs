using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>A map of the program whose <c>bpf_map_lookup_elem</c> compiled code does itself (see
/// <see cref="JitLowering"/>): the handle r1 carries, the pinned values (and their array's identity hash, the key
/// of the VM's map-value cache), their layout, and the CPU count of a per-CPU map (1 otherwise). Arrays and
/// per-CPU arrays index the values; hash and per-CPU hash maps carry <see cref="Hash"/>, the pinned key index
/// the code walks; LPM tries with IPv4-sized keys carry <see cref="Lpm"/> (their exact-prefix index, probed once
/// per stored length while the map holds few lengths, as <see cref="LpmTrieMap"/> does). The element a lookup finds becomes a region of its own, as with the helper, and the same
/// element found again gets the same region through the cache both engines share. Accesses through the pointer
/// are bounded by that region: checked at run time, or dropped where the verifier proved them inside the value
/// (<see cref="Verifier.AccessProof"/>).</summary>
internal readonly record struct InlineMap(ulong Handle, nint Values, int ValuesHash, int Stride, int ValueSize, int MaxEntries, int CpuCount,
    bool Writable, HashProbe? Hash, LpmProbe? Lpm = null)
{
    /// <summary>The maps of <paramref name="program"/> whose lookups compile inline, under the Linux helper table
    /// (where helper 1 is bpf_map_lookup_elem): plain and per-CPU arrays and hashes, except values holding a
    /// bpf_spin_lock (the lock helpers find the map through the region the helper makes), LRU hashes (a
    /// lookup there marks the key used, which the helper does) and hashes with keys over <see cref="MaxHashKeySize"/>
    /// bytes; and LPM tries whose key is {u32 prefixlen; 4 bytes}.</summary>
    public static InlineMap[] For(LoadedProgram program)
    {
        if (program.Helpers is not LinuxHelperTable) return [];
        var maps = new List<InlineMap>();
        for (int i = 0; i < program.Maps.Count; i++)
        {
            var map = program.Maps[i];
            if (map.Definition.SpinLockOffset >= 0) continue;
            ulong handle = VirtualAddress.MapHandleBase | (uint)i;
            bool writable = map.Definition.ProgramsMayWrite;
            if (map is ArrayMap array)
                maps.Add(new(handle, array.ValuesAddress, array.ValuesHash, array.Stride, map.ValueSize, map.MaxEntries, 1, writable, null));
            else if (map is PercpuArrayMap percpu)
                maps.Add(new(handle, percpu.ValuesAddress, percpu.ValuesHash, percpu.Stride, map.ValueSize, map.MaxEntries, percpu.CpuCount, writable, null));
            else if (map is HashMap or PercpuHashMap && map is HashTableMap hash && map.KeySize <= MaxHashKeySize)
            {
                var slots = hash.Slots;
                maps.Add(new(handle, hash.ValuesAddress, hash.ValuesHash, hash.Stride, map.ValueSize, slots.Capacity, hash.CpuCount, writable,
                    new HashProbe(slots.KeySize, slots.KeysAddress, slots.BucketsAddress, slots.BucketMask, slots.NextAddress,
                        slots.HashesAddress, hash.SequenceAddress)));
            }
            else if (map is LpmTrieMap lpm && map.KeySize == LpmProbe.KeySize)
            {
                var slots = lpm.Slots;
                maps.Add(new(handle, lpm.ValuesAddress, lpm.ValuesHash, lpm.Stride, map.ValueSize, slots.Capacity, 1, writable,
                    null, new LpmProbe(new HashProbe(slots.KeySize, slots.KeysAddress, slots.BucketsAddress, slots.BucketMask,
                        slots.NextAddress, slots.HashesAddress, lpm.SequenceAddress), lpm.LengthsAddress, lpm.DistinctLengthsAddress)));
            }
        }
        return [.. maps];
    }

    /// <summary>The largest hash key an inline lookup hashes and compares: the code does it word by word, unrolled, so it
    /// grows with the key (eleven instructions per 8 key bytes, at every lookup site); a key up to the 512-byte stack a
    /// program builds most keys on stays inline. Larger keys (the kernel takes up to 4 MiB, built in map values or
    /// packets) take the helper call, whose hashing loops over the key.</summary>
    public const int MaxHashKeySize = 512;
}

/// <summary>Where a hash map's key index is (<see cref="HashSlots"/>, pinned): <see cref="KeySize"/>-byte keys by
/// slot, bucket heads (hash &amp; <see cref="BucketMask"/>) and chain links as int slot numbers + 1 (0: none), each
/// slot's 32-bit hash, and the map's seqlock sequence (<see cref="MapSeqLock"/>: odd while a writer changes the
/// index). Compiled code reads them exactly as <see cref="HashTableMap"/>'s lookup does.</summary>
internal readonly record struct HashProbe(int KeySize, nint Keys, nint Buckets, int BucketMask, nint Next, nint Hashes, nint Sequence);

/// <summary>Where an IPv4 LPM trie's lookup state is (<see cref="LpmTrieMap"/>, pinned): the index of exact
/// {prefixlen, masked address} keys, the bit set of stored prefix lengths (lengths 0–32 in its first word) and how
/// many lengths it holds.</summary>
internal readonly record struct LpmProbe(HashProbe Index, nint Lengths, nint DistinctLengths)
{
    /// <summary>The key the inline lookup handles: { u32 prefixlen; u8 addr[4]; }.</summary>
    public const int KeySize = 8;
}
