using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_map_lookup_elem on hash and per-CPU hash maps, which the JIT compiles inline (the map's hash,
/// the bucket chain walked under its seqlock, no helper call): the same results as the interpreter's helper for
/// every key size (word, half-word and byte steps of the hash), long chains, missing and deleted keys, per-CPU
/// slots, values changed from user space, read-only maps, accesses past the value, one address per element, and
/// lookups while another thread inserts and deletes keys. Each case runs on both engines.</summary>
public sealed class InlineHashLookupTests
{
    private static HashTableMap Hash(int keySize = 4, int entries = 64, bool readOnly = false) =>
        (HashTableMap)BpfMap.Create(new BpfMapDefinition("hash", BpfMapType.Hash, keySize, 8, entries, readOnly ? BpfMapFlags.ReadOnlyProg : 0));

    /// <summary>A key of <paramref name="size"/> bytes derived from <paramref name="n"/> (every byte depends on it).</summary>
    private static byte[] Key(int n, int size)
    {
        var key = new byte[size];
        for (int i = 0; i < size; i++) key[i] = (byte)(n * 37 + i * 11 + (n >> 3));
        return key;
    }

    /// <summary>Looks up <paramref name="key"/> (built on the stack at r10-24); adds 1 to the 8-byte value and
    /// returns it, or returns 0xdead for NULL.</summary>
    private static string Increment(byte[] key)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < key.Length; i++) text.Append($"stb [%r10-{24 - i}], {key[i]}\n");
        text.Append("""
            lddw %r1, map[0]
            mov %r2, %r10
            add %r2, -24
            call 1
            jeq %r0, 0, null
            ldxdw %r1, [%r0+0]
            add %r1, 1
            stxdw [%r0+0], %r1
            mov %r0, %r1
            exit
            null:
            mov %r0, 0xdead
            exit
            """);
        return text.ToString();
    }

    private static LoadedProgram Load(string text, bool jit, params BpfMap[] maps) => VmTestSupport.LoadFor(text, jit, maps);

    private static BpfRunResult Run(BpfVm vm, LoadedProgram program) => VmTestSupport.RunOnZeroFrame(vm, program);

    private static ulong Value(BpfMap map, byte[] key, int cpu = 0) => VmTestSupport.UserValue(map, key, cpu);

    public static TheoryData<bool, int> KeySizes()
    {
        var data = new TheoryData<bool, int>();
        foreach (bool jit in new[] { false, true })
            foreach (int size in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 12, 16 })
                data.Add(jit, size);
        return data;
    }

    [Theory]
    [MemberData(nameof(KeySizes))]
    public void EveryKeyOfAFullMapFindsItsOwnValue(bool jit, int keySize)
    {
        // 64 keys in 64 buckets: chains of several slots, so the walk passes other keys (same bucket, other hash or
        // other bytes) before it finds the one looked up. One-byte keys have only 64 distinct values here too.
        var map = Hash(keySize);
        for (int n = 0; n < 64; n++) Assert.Equal(0, map.UpdateFromUser(Key(n, keySize), BitConverter.GetBytes(1000UL * (ulong)n), 0));
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        for (int n = 0; n < 64; n++)
        {
            var r = Run(vm, Load(Increment(Key(n, keySize)), jit, map));
            Assert.Equal(BpfFault.None, r.Fault);
            Assert.Equal(1000UL * (ulong)n + 1, r.R0);
        }
        for (int n = 0; n < 64; n++) Assert.Equal(1000UL * (ulong)n + 1, Value(map, Key(n, keySize)));
    }

    [Theory]
    [MemberData(nameof(KeySizes))]
    public void AMissingKeyFindsNothing(bool jit, int keySize)
    {
        var map = Hash(keySize);
        for (int n = 0; n < 20; n++) Assert.Equal(0, map.UpdateFromUser(Key(n, keySize), BitConverter.GetBytes(5UL), 0));
        var missing = Key(20, keySize);
        missing[^1] ^= 0x80; // differs from every inserted key (in its last byte at least) when keys are longer than one byte
        if (keySize == 1) missing = [0xff]; // Key(n, 1) for n < 20 never gives 0xff
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(Increment(missing), jit, map));
        Assert.Equal(BpfFault.None, r.Fault);
        Assert.Equal(0xdeadUL, r.R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADeletedKeyIsGoneAndComesBackWithItsNewValue(bool jit)
    {
        var map = Hash();
        var key = Key(3, 4);
        Assert.Equal(0, map.UpdateFromUser(key, BitConverter.GetBytes(10UL), 0));
        var program = Load(Increment(key), jit, map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(11UL, Run(vm, program).R0);
        Assert.Equal(0, map.Delete(key));
        Assert.Equal(0xdeadUL, Run(vm, program).R0);
        Assert.Equal(0, map.UpdateFromUser(key, BitConverter.GetBytes(100UL), 0));
        Assert.Equal(101UL, Run(vm, program).R0);
        Assert.Equal(0, map.UpdateFromUser(key, BitConverter.GetBytes(200UL), 0));  // in place, as `maps update` does
        Assert.Equal(201UL, Run(vm, program).R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APerCpuHashLookupUsesTheSlotOfTheVmsProcessor(bool jit)
    {
        var map = new PercpuHashMap(new BpfMapDefinition("percpu", BpfMapType.PercpuHash, 4, 8, 8), cpuCount: 3);
        var key = Key(1, 4);
        Assert.Equal(0, map.UpdateFromUser(key, new byte[3 * 8], 0));
        var program = Load(Increment(key), jit, map);
        using (var vm = new BpfVm(new BpfVmOptions { UseJit = jit, ProcessorId = 2 }))
        {
            Assert.Equal(1UL, Run(vm, program).R0);
            Assert.Equal(2UL, Run(vm, program).R0);
        }
        using (var vm = new BpfVm(new BpfVmOptions { UseJit = jit, ProcessorId = 0 }))
            Assert.Equal(1UL, Run(vm, program).R0);
        Assert.Equal(1UL, Value(map, key, cpu: 0));
        Assert.Equal(0UL, Value(map, key, cpu: 1));
        Assert.Equal(2UL, Value(map, key, cpu: 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadOnlyHashsValueCannotBeWritten(bool jit)
    {
        var map = Hash(readOnly: true);
        var key = Key(0, 4);
        Assert.Equal(0, map.UpdateFromUser(key, BitConverter.GetBytes(9UL), 0));
        Assert.Contains("write into map forbidden", Assert.Throws<BpfVerifierException>(() => Load(Increment(key), jit, map)).Message);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(VmTestSupport.WithR0Unplaced(Increment(key)), jit, map));
        Assert.Equal(BpfFault.ReadOnlyWrite, r.Fault);
        Assert.Equal(9UL, Value(map, key));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnAccessPastTheValueFaults(bool jit)
    {
        // The value is 8 bytes; the next slot's value is right behind it in the map's memory, but not the program's.
        var map = Hash();
        Assert.Equal(0, map.UpdateFromUser(Key(0, 4), BitConverter.GetBytes(7UL), 0));
        Assert.Equal(0, map.UpdateFromUser(Key(1, 4), BitConverter.GetBytes(8UL), 0));
        var key = Key(0, 4);
        string text = $"stw [%r10-4], {BitConverter.ToInt32(key)}\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\nldxdw %r0, [%r0+8]\nout:\nexit";
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var r = Run(vm, Load(text, jit, map));
        Assert.Equal(BpfFault.OutOfBounds, r.Fault);
        Assert.Equal(7, r.FaultInstruction);
    }

    /// <summary>Two maps hold the same key with other values: a lookup finds the value of the map r1 names, whether the
    /// code just before the call loaded r1 with that map (compiled code then looks only there) or a branch chose it
    /// (compiled code compares r1 with each map's handle).</summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    public void TheLookupFindsTheValueOfTheMapR1Names(bool jit, int chosen)
    {
        var first = Hash();
        var second = Hash();
        var key = Key(3, 4);
        Assert.Equal(0, first.UpdateFromUser(key, BitConverter.GetBytes(100UL), 0));
        Assert.Equal(0, second.UpdateFromUser(key, BitConverter.GetBytes(200UL), 0));
        string store = $"stw [%r10-4], {BitConverter.ToInt32(key)}\nmov %r2, %r10\nadd %r2, -4\n";
        string tail = "call 1\njeq %r0, 0, null\nldxdw %r0, [%r0+0]\nexit\nnull:\nmov %r0, 0xdead\nexit\n";
        string known = store + $"lddw %r1, map[{chosen}]\n" + tail;
        string branched = $"mov %r6, {chosen}\n" + store + "lddw %r1, map[0]\njeq %r6, 0, call\nlddw %r1, map[1]\ncall:\n" + tail;
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        foreach (string text in new[] { known, branched })
        {
            var r = Run(vm, Load(text, jit, first, second));
            Assert.Equal((BpfFault.None, chosen == 0 ? 100UL : 200UL), (r.Fault, r.R0));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoLookupsOfOneKeyGiveOneAddress(bool jit)
    {
        // Key a, then b, then a again: the same pointer both times (the kernel's is the same too).
        var map = Hash();
        int a = BitConverter.ToInt32(Key(1, 4)), b = BitConverter.ToInt32(Key(2, 4));
        Assert.Equal(0, map.UpdateFromUser(BitConverter.GetBytes(a), new byte[8], 0));
        Assert.Equal(0, map.UpdateFromUser(BitConverter.GetBytes(b), new byte[8], 0));
        string Lookup(int k) => $"stw [%r10-4], {k}\nlddw %r1, map[0]\nmov %r2, %r10\nadd %r2, -4\ncall 1\n";
        string text = Lookup(a) + "mov %r6, %r0\n" + Lookup(b) + "mov %r7, %r0\n" + Lookup(a) +
            "mov %r1, %r0\nmov %r0, 0\njeq %r6, 0, out\njeq %r7, %r6, out\njne %r1, %r6, out\nmov %r0, 1\nout:\nexit\n";
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(1UL, Run(vm, Load(text, jit, map)).R0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LookupsWhileAnotherThreadInsertsAndDeletesFindTheStableKeysEveryTime(bool jit)
    {
        // A small map (8 buckets) whose chains another thread changes all the time, as the CLI or another worker
        // would: lookups of the 4 keys that stay must find them on every run (the walk sees a torn chain, or the
        // seqlock changed, and goes to the helper, which looks up again), and never anything else.
        const int entries = 8, stable = 4, runs = 20_000;
        var map = Hash(entries: entries);
        for (int n = 0; n < stable; n++) Assert.Equal(0, map.UpdateFromUser(Key(n, 4), BitConverter.GetBytes((ulong)n << 32), 0));
        var programs = Enumerable.Range(0, stable).Select(n => Load(Increment(Key(n, 4)), jit, map)).ToArray();
        bool stop = false;
        var churn = new Thread(() =>
        {
            for (int i = 0; !Volatile.Read(ref stop); i++)
            {
                var key = Key(stable + i % (entries - stable), 4);
                map.UpdateFromUser(key, new byte[8], 0);
                map.Delete(key);
            }
        }) { IsBackground = true };
        churn.Start();
        try
        {
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            for (int i = 0; i < runs; i++)
            {
                var r = Run(vm, programs[i % stable]);
                Assert.Equal(BpfFault.None, r.Fault);
                Assert.Equal((ulong)(i % stable) << 32, r.R0 - (ulong)(i / stable) - 1);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            churn.Join();
        }
        for (int n = 0; n < stable; n++) Assert.Equal(((ulong)n << 32) + runs / stable, Value(map, Key(n, 4)));
    }

    [Fact]
    public void AnLruHashLookupAgreesOnBothEngines()
    {
        // An LRU hash's lookup marks the key used, which the helper does: its lookups stay helper calls under the JIT.
        foreach (bool jit in new[] { false, true })
        {
            var map = BpfMap.Create(new BpfMapDefinition("lru", BpfMapType.LruHash, 4, 8, 8));
            Assert.Equal(0, map.UpdateFromUser(Key(5, 4), BitConverter.GetBytes(41UL), 0));
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            Assert.Equal(42UL, Run(vm, Load(Increment(Key(5, 4)), jit, map)).R0);
        }
    }

    /// <summary>A key built in a map value (map 1, an array whose one value is the key), looked up in the hash (map 0):
    /// adds 1 to the 8-byte value found and returns it, or 0xdead for NULL.</summary>
    private const string IncrementByValueKey = """
        mov %r1, 0
        stxw [%r10-4], %r1
        lddw %r1, map[1]
        mov %r2, %r10
        add %r2, -4
        call 1
        jeq %r0, 0, null
        mov %r2, %r0
        lddw %r1, map[0]
        call 1
        jeq %r0, 0, null
        ldxdw %r1, [%r0+0]
        add %r1, 1
        stxdw [%r0+0], %r1
        mov %r0, %r1
        exit
        null:
        mov %r0, 0xdead
        exit
        """;

    /// <summary>Keys larger than the stack (the kernel takes hash keys up to 4 MiB less the value and a 48-byte header)
    /// come from map values: both engines find the value of every key (among keys differing in their first, middle or
    /// last byte) and none for a missing one. Past <see cref="Bpf.Jit.InlineMap.MaxHashKeySize"/> bytes compiled code
    /// calls the helper, so its size does not grow with the key (an unrolled hash of a 1 MiB key would be megabytes).</summary>
    [Theory]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public void KeysLargerThanTheStackAreFoundThroughAMapValue(int keySize)
    {
        var map = Hash(keySize, entries: 4);
        var keys = BpfMap.Create(new BpfMapDefinition("keys", BpfMapType.Array, 4, keySize, 1));
        byte[][] stored = [new byte[keySize], new byte[keySize], new byte[keySize]];
        stored[0][0] = 1;
        stored[1][keySize / 2] = 1;
        stored[2][keySize - 1] = 1;
        for (int n = 0; n < stored.Length; n++) Assert.Equal(0, map.UpdateFromUser(stored[n], BitConverter.GetBytes(100UL * (ulong)n), 0));
        foreach (bool jit in new[] { false, true })
        {
            var program = Load(IncrementByValueKey, jit, map, keys);
            if (jit) Assert.True(program.JitCode!.Length <= 64 * 1024, $"{program.JitCode.Length} bytes of code for {keySize}-byte keys");
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            for (int n = 0; n < stored.Length; n++)
            {
                Assert.Equal(0, keys.UpdateFromUser(BitConverter.GetBytes(0u), stored[n], 0));
                var r = Run(vm, program);
                Assert.Equal(BpfFault.None, r.Fault);
                Assert.Equal(100UL * (ulong)n + (jit ? 2UL : 1UL), r.R0);
            }
            Assert.Equal(0, keys.UpdateFromUser(BitConverter.GetBytes(0u), new byte[keySize], 0)); // all zero: not stored
            Assert.Equal(0xdeadUL, Run(vm, program).R0);
        }
    }
}
