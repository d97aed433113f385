using Appliance.Bpf.Maps;
using Xunit;
using static Appliance.Bpf.Tests.Maps.MapTestKeys;

namespace Appliance.Bpf.Tests.Maps;

public class HashAndArrayMapTests
{
    private static BpfMap Hash(int max = 4) => BpfMap.Create(new BpfMapDefinition("h", BpfMapType.Hash, 4, 8, max));

    [Fact]
    public void HashFollowsKernelFlagsAndErrnos()
    {
        var map = Hash(2);
        Assert.False(map.TryLookup(U32(1), out _));
        Assert.Equal(-Errno.ENOENT, map.Update(U32(1), U64(10), BpfUpdateFlags.Exist));
        Assert.Equal(0, map.Update(U32(1), U64(10), BpfUpdateFlags.NoExist));
        Assert.Equal(-Errno.EEXIST, map.Update(U32(1), U64(11), BpfUpdateFlags.NoExist));
        Assert.Equal(0, map.Update(U32(1), U64(12), BpfUpdateFlags.Exist));
        Assert.Equal(0, map.Update(U32(2), U64(20), BpfUpdateFlags.Any));
        Assert.Equal(-Errno.E2BIG, map.Update(U32(3), U64(30), BpfUpdateFlags.Any));
        Assert.Equal(0, map.Update(U32(2), U64(21), BpfUpdateFlags.Any)); // existing key still updates when full
        Assert.Equal(-Errno.EINVAL, map.Update(U32(2), U64(21), 4));
        Assert.Equal(-Errno.ENOENT, map.Delete(U32(3)));
        Assert.Equal(0, map.Delete(U32(1)));
        Assert.Equal(0, map.Update(U32(3), U64(30), BpfUpdateFlags.Any)); // the freed slot is reused
        Assert.True(map.TryLookup(U32(3), out var v));
        Assert.Equal(30UL, BitConverter.ToUInt64(v));
    }

    [Fact]
    public void LookupHandsOutTheStorageItself()
    {
        var map = Hash();
        map.Update(U32(7), U64(1), 0);
        Assert.True(map.TryLookup(U32(7), out var v));
        BitConverter.TryWriteBytes(v.AsSpan(), 99UL); // a program writing through the pointer
        Assert.True(map.TryLookup(U32(7), out var again));
        Assert.Equal(99UL, BitConverter.ToUInt64(again));
        Assert.Equal(0, again.Origin % 8); // 8-byte aligned for atomics
        map.Update(U32(7), U64(5), 0);   // an update is visible through the segment handed out before
        Assert.Equal(5UL, BitConverter.ToUInt64(v));
    }

    [Fact]
    public void GetNextKeyVisitsEveryKeyOnce()
    {
        var map = BpfMap.Create(new BpfMapDefinition("h", BpfMapType.Hash, 4, 8, 100));
        for (uint k = 0; k < 50; k++) map.Update(U32(k * 3), U64(k), 0);
        map.Delete(U32(9));
        var seen = new List<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[4];
        while (map.TryGetNextKey(key, next))
        {
            seen.Add(BitConverter.ToUInt32(next));
            key = (byte[])next.Clone();
        }
        Assert.Equal(Enumerable.Range(0, 50).Select(k => (uint)k * 3).Where(k => k != 9).Order(), seen.Order());
        Assert.True(map.TryGetNextKey(U32(12345), next)); // an absent key restarts from the first
    }

    [Fact]
    public void ArrayIsPreallocatedZeroedAndCannotDelete()
    {
        var map = BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 4, 12, 3));
        Assert.True(map.TryLookup(U32(2), out var v));
        Assert.Equal(new byte[12], v.ToArray());
        Assert.False(map.TryLookup(U32(3), out _));
        Assert.Equal(-Errno.EEXIST, map.Update(U32(0), new byte[12], BpfUpdateFlags.NoExist));
        Assert.Equal(-Errno.E2BIG, map.Update(U32(3), new byte[12], 0));
        Assert.Equal(0, map.Update(U32(1), Enumerable.Range(1, 12).Select(i => (byte)i).ToArray(), BpfUpdateFlags.Exist));
        Assert.True(map.TryLookup(U32(1), out v));
        Assert.Equal(12, v.AsSpan()[11]);
        Assert.Equal(-Errno.EINVAL, map.Delete(U32(1)));
        var keys = new List<uint>();
        var key = Array.Empty<byte>();
        var next = new byte[4];
        while (map.TryGetNextKey(key, next)) { keys.Add(BitConverter.ToUInt32(next)); key = (byte[])next.Clone(); }
        Assert.Equal(new uint[] { 0, 1, 2 }, keys);
    }

    [Fact]
    public void GlobalDataArrayStartsWithTheSectionBytes()
    {
        var def = new BpfMapDefinition(".data", BpfMapType.Array, 4, 5, 1) { InitialValue = [1, 2, 3, 4, 5] };
        Assert.True(BpfMap.Create(def).TryLookup(U32(0), out var v));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, v.ToArray());
    }

    [Fact]
    public void FactoryRefusesWhatTheKernelRefuses()
    {
        Assert.Contains("key_size must be 4", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new BpfMapDefinition("a", BpfMapType.Array, 8, 8, 1))).Message);
        Assert.Contains("BPF_F_NO_PREALLOC", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new BpfMapDefinition("l", BpfMapType.LpmTrie, 8, 4, 8))).Message);
        Assert.Contains("power of two", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new BpfMapDefinition("r", BpfMapType.RingBuf, 0, 0, 5000))).Message);
        Assert.Contains("max_entries", Assert.Throws<ArgumentException>(() =>
            BpfMap.Create(new BpfMapDefinition("h", BpfMapType.Hash, 4, 4, 0))).Message);
    }

    /// <summary>A map whose storage (keys, values per CPU, slots) would pass 1 GiB is refused with an
    /// ArgumentException before anything is allocated, whatever its type: an object file of a few KB must not
    /// make `validate` or `run` overflow (OverflowException) or allocate gigabytes (found by fuzzing).</summary>
    [Fact]
    public void FactoryRefusesMapsOverOneGibOfStorageOfEveryType()
    {
        var inner = new BpfMapDefinition("in", BpfMapType.Array, 4, 4, 1);
        BpfMapDefinition[] huge =
        [
            new("a", BpfMapType.Array, 4, 8, int.MaxValue),
            new("pa", BpfMapType.PercpuArray, 4, 32 << 10, 1 << 14), // 512 MiB per CPU (the kernel's largest per-CPU value)
            new("h", BpfMapType.Hash, 512, 8, 1 << 22), // 32 MiB of values, 2 GiB of keys
            new("ph", BpfMapType.PercpuHash, 8, 32 << 10, 1 << 14),
            new("lru", BpfMapType.LruHash, 512, 8, 1 << 22),
            new("lpm", BpfMapType.LpmTrie, 260, 8, 1 << 24, BpfMapFlags.NoPrealloc),
            new("lpm2", BpfMapType.LpmTrie, 8, 8, int.MaxValue, BpfMapFlags.NoPrealloc),
            new("pr", BpfMapType.ProgArray, 4, 4, int.MaxValue),
            new("aom", BpfMapType.ArrayOfMaps, 4, 4, int.MaxValue) { InnerMap = inner },
            new("hom", BpfMapType.HashOfMaps, 4, 4, int.MaxValue) { InnerMap = inner },
            new("q", BpfMapType.Queue, 0, 8, int.MaxValue),
            new("hv", BpfMapType.LruHash, 4, 4_000_000, 300), // values within the kernel's limit for one element
            new("av", BpfMapType.Array, 4, int.MaxValue, 1),
        ];
        foreach (var def in huge)
        {
            var e = Assert.Throws<ArgumentException>(() => BpfMap.Create(def, cpuCount: 4));
            Assert.Contains($"map '{def.Name}'", e.Message);
            Assert.Contains("1 GiB", e.Message);
        }
    }

    /// <summary>Sizes at the top of the int range meet the kernel's per-type limits (KernelRefusalTests compares each
    /// limit with the kernel) without overflowing on the way: 8-byte rounding, key + value.</summary>
    [Theory]
    [InlineData(BpfMapType.PercpuArray, 4, "PCPU_MIN_UNIT_SIZE")]
    [InlineData(BpfMapType.LruPercpuHash, 4, "key_size + value_size is 2147483651 bytes")] // the kernel checks the element first too
    [InlineData(BpfMapType.Hash, 512, "key_size + value_size is 2147484159 bytes")]
    [InlineData(BpfMapType.LpmTrie, 8, "an lpm_trie value_size must be 1..4194024")]
    [InlineData(BpfMapType.Queue, 0, "KMALLOC_MAX_SIZE")]
    public void ValuesAtTheTopOfTheIntRangeMeetTheKernelsLimits(BpfMapType type, int keySize, string says)
    {
        var def = new BpfMapDefinition("big", type, keySize, int.MaxValue, 1, type == BpfMapType.LpmTrie ? BpfMapFlags.NoPrealloc : 0);
        var e = Assert.Throws<ArgumentException>(() => BpfMap.Create(def));
        Assert.Contains(says, e.Message);
    }

    /// <summary>Hash keys have no cap of their own, as in the kernel (KernelRefusalTests compares the edges): keys at the
    /// top of the int range meet the element's limit, key + value counted without overflow.</summary>
    [Theory]
    [InlineData(BpfMapType.Hash, 8, "key_size + value_size is 2147483655 bytes")]
    [InlineData(BpfMapType.LruPercpuHash, 8, "key_size + value_size is 2147483655 bytes")]
    [InlineData(BpfMapType.HashOfMaps, 4, "key_size + value_size is 2147483651 bytes")]
    public void KeysAtTheTopOfTheIntRangeMeetTheKernelsElementLimit(BpfMapType type, int valueSize, string says)
    {
        var def = new BpfMapDefinition("big", type, int.MaxValue, valueSize, 1)
        {
            InnerMap = type == BpfMapType.HashOfMaps ? new BpfMapDefinition("in", BpfMapType.Array, 4, 4, 1) : null,
        };
        var e = Assert.Throws<ArgumentException>(() => BpfMap.Create(def));
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public async Task ConcurrentInsertsDeletesAndLookupsStayConsistent()
    {
        var map = BpfMap.Create(new BpfMapDefinition("h", BpfMapType.Hash, 4, 8, 64));
        for (uint k = 0; k < 32; k++) map.Update(U32(k), U64(k * 1000), 0); // stable keys, never touched again
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            var rng = new Random(1);
            while (!stop.IsCancellationRequested)
            {
                uint k = 32 + (uint)rng.Next(64);
                if (rng.Next(2) == 0) map.Update(U32(k), U64(k), 0); else map.Delete(U32(k));
            }
        });
        int misses = 0;
        for (int i = 0; i < 200_000; i++)
        {
            uint k = (uint)(i % 32);
            if (!map.TryLookup(U32(k), out var v) || BitConverter.ToUInt64(v) != k * 1000) misses++;
        }
        stop.Cancel();
        await writer;
        Assert.Equal(0, misses);
    }
}
