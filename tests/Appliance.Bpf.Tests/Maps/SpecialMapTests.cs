using Appliance.Bpf.Maps;
using Xunit;
using static Appliance.Bpf.Tests.Maps.MapTestKeys;

namespace Appliance.Bpf.Tests.Maps;

public class SpecialMapTests
{
    [Fact]
    public void LruPercpuHashKeepsOneValuePerCpuAndEvictsWhenFull()
    {
        var map = (LruHashMap)BpfMap.Create(new BpfMapDefinition("lp", BpfMapType.LruPercpuHash, 4, 8, 2), cpuCount: 2);
        Assert.Equal(2 * 8, map.UserValueSize);
        int saved = BpfCpu.Current;
        try
        {
            BpfCpu.Current = 1;
            Assert.Equal(0, map.Update(U32(1), U64(11), 0)); // CPU 1 gets the value, CPU 0 zero
            Assert.Equal(0, map.Update(U32(2), U64(22), 0));
            Assert.True(map.TryLookup(U32(1), out _)); // used: key 2 is the one to go
            Assert.Equal(0, map.Update(U32(3), U64(33), 0)); // full: evicts instead of failing
        }
        finally
        {
            BpfCpu.Current = saved;
        }
        var all = new byte[map.UserValueSize];
        Assert.True(map.TryLookupFromUser(U32(1), all));
        Assert.Equal(new ulong[] { 0, 11 }, new[] { 0, 8 }.Select(o => BitConverter.ToUInt64(all, o)).ToArray());
        Assert.False(map.TryLookupFromUser(U32(2), all));
        Assert.True(map.TryLookupFromUser(U32(3), all));
        Assert.Equal(-Errno.EINVAL, map.UpdateFromUser(U32(3), new byte[8], 0)); // needs every CPU's value
    }

    [Fact]
    public void PercpuHashKeepsOneValuePerCpuAndUserSpaceSeesThemAll()
    {
        var map = (PercpuHashMap)BpfMap.Create(new BpfMapDefinition("p", BpfMapType.PercpuHash, 4, 4, 8), cpuCount: 3);
        Assert.Equal(3 * 8, map.UserValueSize);
        int saved = BpfCpu.Current;
        try
        {
            BpfCpu.Current = 1;
            Assert.Equal(0, map.Update(U32(5), U32(111), 0)); // new key: CPU 1 gets the value, others zero
            BpfCpu.Current = 2;
            Assert.True(map.TryLookup(U32(5), out var cpu2));
            Assert.Equal(0u, BitConverter.ToUInt32(cpu2));
            BitConverter.TryWriteBytes(cpu2.AsSpan(), 222u);
        }
        finally
        {
            BpfCpu.Current = saved;
        }
        var all = new byte[map.UserValueSize];
        Assert.True(map.TryLookupFromUser(U32(5), all));
        Assert.Equal(new uint[] { 0, 111, 222 }, new[] { 0, 8, 16 }.Select(o => BitConverter.ToUInt32(all, o)).ToArray());

        var set = new byte[24];
        BitConverter.TryWriteBytes(set.AsSpan(16), 7u);
        Assert.Equal(0, map.UpdateFromUser(U32(5), set, BpfUpdateFlags.Exist));
        Assert.True(map.TryLookupOnCpu(U32(5), 2, out var v));
        Assert.Equal(7u, BitConverter.ToUInt32(v));
        Assert.Equal(-Errno.EINVAL, map.UpdateFromUser(U32(5), new byte[4], 0)); // needs every CPU's value
    }

    [Fact]
    public void PercpuArraySeparatesCpus()
    {
        var map = (PercpuArrayMap)BpfMap.Create(new BpfMapDefinition("pa", BpfMapType.PercpuArray, 4, 8, 2), cpuCount: 2);
        Assert.True(map.TryLookupOnCpu(U32(1), 0, out var c0));
        Assert.True(map.TryLookupOnCpu(U32(1), 1, out var c1));
        BitConverter.TryWriteBytes(c1.AsSpan(), 42UL);
        Assert.Equal(0UL, BitConverter.ToUInt64(c0));
        var all = new byte[16];
        Assert.True(map.TryLookupFromUser(U32(1), all));
        Assert.Equal(42UL, BitConverter.ToUInt64(all, 8));
        Assert.Equal(-Errno.EINVAL, map.Delete(U32(0)));
    }

    [Fact]
    public void LruEvictsTheLeastRecentlyUsedWhenFull()
    {
        var map = BpfMap.Create(new BpfMapDefinition("lru", BpfMapType.LruHash, 4, 4, 4));
        foreach (uint k in new uint[] { 1, 2, 3, 4 }) Assert.Equal(0, map.Update(U32(k), U32(k), 0));
        foreach (uint k in new uint[] { 1, 2, 3 }) Assert.True(map.TryLookup(U32(k), out _));
        Assert.Equal(0, map.Update(U32(5), U32(5), 0)); // full: 4 is the only key not used since insertion
        Assert.False(map.TryLookup(U32(4), out _));
        foreach (uint k in new uint[] { 1, 2, 3, 5 }) Assert.True(map.TryLookup(U32(k), out _));
        Assert.Equal(-Errno.ENOENT, map.Update(U32(9), U32(9), BpfUpdateFlags.Exist));
    }

    [Fact]
    public void LpmTrieReturnsTheLongestMatchingPrefix()
    {
        var map = BpfMap.Create(new BpfMapDefinition("lpm", BpfMapType.LpmTrie, 8, 4, 8, BpfMapFlags.NoPrealloc));
        Assert.Equal(0, map.Update(Lpm4(8, 10, 0, 0, 0), U32(8), 0));
        Assert.Equal(0, map.Update(Lpm4(16, 10, 1, 0, 0), U32(16), 0));
        Assert.Equal(0, map.Update(Lpm4(24, 10, 1, 2, 99), U32(24), 0)); // host bits are ignored
        Assert.Equal(0, map.Update(Lpm4(0, 0, 0, 0, 0), U32(0), 0));
        Assert.Equal(24u, Lookup(map, Lpm4(32, 10, 1, 2, 3)));
        Assert.Equal(16u, Lookup(map, Lpm4(32, 10, 1, 3, 3)));
        Assert.Equal(8u, Lookup(map, Lpm4(32, 10, 200, 3, 3)));
        Assert.Equal(0u, Lookup(map, Lpm4(32, 192, 168, 0, 1)));
        Assert.Equal(16u, Lookup(map, Lpm4(20, 10, 1, 2, 3)));  // the key's prefixlen caps the match
        Assert.False(map.TryLookup(Lpm4(33, 10, 1, 2, 3), out _), "a key prefix longer than the key's data finds nothing (the kernel's trie_lookup_elem), not even the default route");
        Assert.Equal(-Errno.EINVAL, map.Update(Lpm4(33, 1, 1, 1, 1), U32(1), 0));
        Assert.Equal(-Errno.EEXIST, map.Update(Lpm4(16, 10, 1, 7, 7), U32(1), BpfUpdateFlags.NoExist));
        Assert.Equal(0, map.Delete(Lpm4(24, 10, 1, 2, 0)));
        Assert.Equal(16u, Lookup(map, Lpm4(32, 10, 1, 2, 3)));
        Assert.Equal(-Errno.ENOENT, map.Delete(Lpm4(24, 10, 1, 2, 0)));
        var keys = new List<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[8];
        while (map.TryGetNextKey(key, next)) { keys.Add(BitConverter.ToUInt32(next)); key = (byte[])next.Clone(); }
        Assert.Equal(new uint[] { 16, 8, 0 }, keys);
    }

    [Fact]
    public void LpmTrieIsFullWithEnospc()
    {
        var map = BpfMap.Create(new BpfMapDefinition("lpm", BpfMapType.LpmTrie, 8, 4, 2, 1));
        map.Update(Lpm4(32, 1, 1, 1, 1), U32(1), 0);
        map.Update(Lpm4(32, 1, 1, 1, 2), U32(1), 0);
        Assert.Equal(-Errno.ENOSPC, map.Update(Lpm4(32, 1, 1, 1, 3), U32(1), 0));
    }

    [Fact]
    public void ProgArrayHoldsProgramReferences()
    {
        var map = (ProgArrayMap)BpfMap.Create(new BpfMapDefinition("progs", BpfMapType.ProgArray, 4, 4, 4));
        Assert.False(map.TryGetProgram(1, out _));
        Assert.Equal(0, map.Update(U32(1), U32(3), 0));
        Assert.True(map.TryGetProgram(1, out int p));
        Assert.Equal(3, p);
        Assert.False(map.TryLookup(U32(1), out _)); // programs cannot read a prog_array
        var user = new byte[4];
        Assert.True(map.TryLookupFromUser(U32(1), user));
        Assert.Equal(3u, BitConverter.ToUInt32(user));
        Assert.Equal(-Errno.E2BIG, map.Update(U32(4), U32(0), 0));
        Assert.Equal(0, map.Delete(U32(1)));
        Assert.Equal(-Errno.ENOENT, map.Delete(U32(1)));
        Assert.False(map.TryGetProgram(1, out _));
    }

    [Fact]
    public void RingBufDeliversSubmittedRecordsInOrderAndSkipsDiscarded()
    {
        var ring = (RingBufMap)BpfMap.Create(new BpfMapDefinition("rb", BpfMapType.RingBuf, 0, 0, 4096));
        Assert.True(ring.TryReserve(5, out var a));
        Assert.True(ring.TryReserve(3, out var b));
        "hello"u8.CopyTo(a);
        "bye"u8.CopyTo(b);
        var got = new List<string>();
        Assert.Equal(0, ring.Consume(r => got.Add(System.Text.Encoding.ASCII.GetString(r)))); // a is still busy
        Assert.Equal(0, ring.Commit(b.Offset, discard: false));
        Assert.Equal(0, ring.Consume(r => got.Add(System.Text.Encoding.ASCII.GetString(r))));
        Assert.Equal(0, ring.Commit(a.Offset, discard: false));
        Assert.Equal(-Errno.EINVAL, ring.Commit(a.Offset, discard: false)); // not reserved any more
        Assert.Equal(0, ring.Output("xyz!"u8));
        Assert.True(ring.TryReserve(1, out var c));
        Assert.Equal(0, ring.Commit(c.Offset, discard: true));
        Assert.Equal(3, ring.Consume(r => got.Add(System.Text.Encoding.ASCII.GetString(r))));
        Assert.Equal(new[] { "hello", "bye", "xyz!" }, got);
        Assert.Equal(0, ring.PendingBytes);
    }

    [Fact]
    public void RingBufRefusesWhenFullAndWrapsAfterConsuming()
    {
        var ring = (RingBufMap)BpfMap.Create(new BpfMapDefinition("rb", BpfMapType.RingBuf, 0, 0, 4096));
        int records = 0;
        while (ring.Output(new byte[1000]) == 0) records++;
        Assert.Equal(4, records); // 4 × (8 + 1000) fits, a fifth does not
        Assert.Equal(-Errno.EAGAIN, ring.Output(new byte[1000]));
        int total = 0;
        for (int round = 0; round < 50; round++)
        {
            ring.Consume(_ => total++);
            var payload = new byte[700];
            payload[0] = (byte)round;
            Assert.Equal(0, ring.Output(payload));
        }
        var last = new List<byte>();
        ring.Consume(r => { last.Add(r[0]); Assert.Equal(700, r.Length); });
        Assert.Equal(49, last[^1]);
        Assert.Equal(4 + 49, total);
    }

    private static uint Lookup(BpfMap map, byte[] key)
    {
        Assert.True(map.TryLookup(key, out var v), "no match");
        return BitConverter.ToUInt32(v);
    }
}
