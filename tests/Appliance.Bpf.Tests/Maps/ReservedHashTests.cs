using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Appliance.Bpf.Maps;
using Appliance.TestSupport;
using Xunit;
using static Appliance.TestSupport.ProcessMemory;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>Hashes and per-CPU hashes with BPF_F_NO_PREALLOC reserve their storage: a map declared for 2^24 keys (as
/// netobserv's flow maps) or for int.MaxValue keys is made at once and its process's memory grows with the keys it
/// holds, not with max_entries; its address space goes when the map is collected. In the serial collection: the
/// resident and virtual sizes read are the process's, which tests running beside would move.</summary>
[Collection(KernelCollection.Name)]
public sealed class ReservedHashTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static BpfMapDefinition Def(string name, BpfMapType type, int key, int value, int max) =>
        new(name, type, key, value, max, BpfMapFlags.NoPrealloc);

    [Fact]
    public void MapsForMillionsOfKeysTakeMemoryForTheKeysTheyHold()
    {
        Settle();
        long before = Status("VmRSS");
        var maps = new[]
        {
            BpfMap.Create(Def("flows", BpfMapType.Hash, 40, 104, 1 << 24)),                     // netobserv's shape: 2.4 GiB preallocated
            BpfMap.Create(Def("small", BpfMapType.Hash, 4, 8, 1 << 24)),                         // the old code took it and wrote 128 MiB of links
            BpfMap.Create(Def("percpu", BpfMapType.PercpuHash, 16, 64, 1 << 24), cpuCount: 4),
        };
        const int keys = 2000;
        foreach (var map in maps)
        {
            var value = new byte[map.UserValueSize];
            for (uint k = 0; k < keys; k++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(value, k * 3);
                Assert.Equal(0, map.UpdateFromUser(Key(map, k), value, BpfUpdateFlags.NoExist));
            }
            for (uint k = 0; k < keys; k += 2) Assert.Equal(0, map.Delete(Key(map, k)));
            for (uint k = keys; k < keys + keys / 2; k++) Assert.Equal(0, map.UpdateFromUser(Key(map, k), value, 0)); // into the freed slots
            var read = new byte[map.UserValueSize];
            Assert.True(map.TryLookupFromUser(Key(map, 7), read));
            Assert.Equal(21u, BinaryPrimitives.ReadUInt32LittleEndian(read));
            Assert.False(map.TryLookupFromUser(Key(map, 8), read));
            Assert.Equal(keys, Count(map));
            Assert.Equal(keys, ((HashTableMap)map).Count);
        }
        Settle();
        long grown = Status("VmRSS") - before;
        output.WriteLine($"RSS grew {grown} kB for {keys} keys in each of {maps.Length} maps of 2^24 entries");
        // What the keys need: their slots (2,000 × a few hundred bytes, contiguous) and a 4 KiB page of bucket heads for
        // each key's bucket (2,000 pages at most, 8 MiB a map). Preallocated, the first map alone is 2.4 GiB.
        Assert.True(grown < 48 << 10, $"RSS grew {grown} kB for {keys} keys in each of {maps.Length} maps of 2^24 entries");
        GC.KeepAlive(maps);
    }

    [Fact]
    public void TheLargestMaxEntriesWorksAndItsAddressSpaceGoesWithTheMap()
    {
        Settle();
        long virtualBefore = Status("VmSize"), residentBefore = Status("VmRSS");
        long reserved = UseLargest();
        output.WriteLine($"int.MaxValue entries: {reserved >> 20} GiB reserved, RSS grew {Status("VmRSS") - residentBefore} kB for 999 keys");
        Assert.True(reserved > 40L << 20, $"int.MaxValue entries reserved only {reserved} kB");
        Assert.True(Status("VmRSS") - residentBefore < 32 << 10, "the largest map took memory for more than its keys");
        Settle();
        Assert.True(Status("VmSize") - virtualBefore < 1 << 20, $"{Status("VmSize") - virtualBefore} kB of address space stayed after the map was collected");
    }

    /// <summary>Makes a hash of int.MaxValue (2^31 - 1) entries, the most a definition holds (the kernel refuses more than
    /// 2^31 with E2BIG), uses it, and returns the address space it reserved (kB); the map is garbage on return.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long UseLargest()
    {
        long before = Status("VmSize");
        var map = BpfMap.Create(Def("largest", BpfMapType.Hash, 4, 4, int.MaxValue));
        long reserved = Status("VmSize") - before;
        for (uint k = 0; k < 1000; k++) Assert.Equal(0, map.Update(BitConverter.GetBytes(k * 7919), BitConverter.GetBytes(k), 0));
        Assert.True(map.TryLookup(BitConverter.GetBytes(999u * 7919), out var v));
        Assert.Equal(999u, BitConverter.ToUInt32(v));
        Assert.Equal(0, map.Delete(BitConverter.GetBytes(999u * 7919)));
        Assert.Equal(999, Count(map));
        return reserved;
    }

    /// <summary>An object whose maps were made but whose program the verifier refuses: its reservations go with it.</summary>
    [Fact]
    public void AnObjectThatFailsToLoadLeavesNoReservationBehind()
    {
        Settle();
        long before = Status("VmSize");
        Assert.ThrowsAny<Exception>(LoadRefused);
        Settle();
        long left = Status("VmSize") - before;
        Assert.True(left < 256 << 10, $"{left} kB of address space stayed after a load that failed (the maps reserve 2.4 GiB each)");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LoadRefused()
    {
        var maps = new[] { Def("flows", BpfMapType.Hash, 40, 104, 1 << 24), Def("flows_percpu", BpfMapType.PercpuHash, 40, 104, 1 << 24) };
        var program = new Objects.BpfProgramImage("uses_r5", "tc", Bpf.Assembly.BpfAssembler.Assemble("mov %r0, %r5\nexit")); // r5 is not set: refused
        using var engine = new Oracle.EngineObject(new Objects.BpfObject("refused", [program], maps, "GPL"));
    }

    [Fact]
    public void AFullReservedHashRefusesANewKeyAndAnOversizedOneIsRefused()
    {
        var map = BpfMap.Create(Def("four", BpfMapType.Hash, 4, 8, 4));
        for (uint k = 0; k < 4; k++) Assert.Equal(0, map.Update(BitConverter.GetBytes(k), new byte[8], 0));
        Assert.Equal(-Errno.E2BIG, map.Update(BitConverter.GetBytes(9u), new byte[8], 0));
        Assert.Equal(0, map.Update(BitConverter.GetBytes(3u), new byte[8], BpfUpdateFlags.Exist));
        Assert.Equal(0, map.Delete(BitConverter.GetBytes(0u)));
        Assert.Equal(0, map.Update(BitConverter.GetBytes(9u), new byte[8], 0));

        var e = Assert.Throws<ArgumentException>(() => BpfMap.Create(Def("huge", BpfMapType.PercpuHash, 64, 4096, 1 << 24), cpuCount: 2));
        Assert.Contains("more than the 64 GiB a BPF_F_NO_PREALLOC hash may reserve", e.Message);
        var preallocated = Assert.Throws<ArgumentException>(() => BpfMap.Create(new BpfMapDefinition("flows", BpfMapType.Hash, 40, 104, 1 << 24)));
        Assert.Contains("with BPF_F_NO_PREALLOC it would take only what it holds", preallocated.Message);
    }

    private static byte[] Key(BpfMap map, uint k)
    {
        var key = new byte[map.KeySize];
        BinaryPrimitives.WriteUInt32LittleEndian(key, k);
        key[^1] = 0x5a;
        return key;
    }

    private static int Count(BpfMap map)
    {
        int n = 0;
        var key = Array.Empty<byte>();
        var next = new byte[map.KeySize];
        while (map.TryGetNextKey(key, next))
        {
            n++;
            key = (byte[])next.Clone();
        }
        return n;
    }
}
