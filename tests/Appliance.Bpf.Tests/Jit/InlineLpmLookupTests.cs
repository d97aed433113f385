using Appliance.Bpf.Maps;
using Appliance.Bpf.Tests.Vm;
using Appliance.Bpf.Verifier;
using Appliance.Bpf.Vm;
using Xunit;

namespace Appliance.Bpf.Tests.Jit;

/// <summary>bpf_map_lookup_elem on an IPv4 LPM trie ({u32 prefixlen; u8 addr[4]}), which the JIT compiles inline
/// while the map holds few prefix lengths (a probe of the exact-prefix index per stored length, longest first) and
/// leaves to the helper otherwise: the same answers as a brute-force longest-prefix search and as the interpreter,
/// for key prefix lengths below and at 32 (above: NULL, as in the kernel), maps with few and with many lengths, deleted prefixes, read-only
/// maps, and lookups while another thread adds and removes prefixes. Each case runs on both engines.</summary>
public sealed class InlineLpmLookupTests
{
    /// <summary>Reads the 8-byte key from the frame's first bytes (bpf_skb_load_bytes), looks it up and returns the
    /// u32 value, or 0xdead for NULL.</summary>
    private const string LookupFromFrame = """
        mov %r2, 0
        mov %r3, %r10
        add %r3, -8
        mov %r4, 8
        call 26
        lddw %r1, map[0]
        mov %r2, %r10
        add %r2, -8
        call 1
        jeq %r0, 0, null
        ldxw %r0, [%r0+0]
        exit
        null:
        mov %r0, 0xdead
        exit
        """;

    private static LpmTrieMap Lpm(bool readOnly = false) => (LpmTrieMap)BpfMap.Create(
        new BpfMapDefinition("acl", BpfMapType.LpmTrie, 8, 4, 256, BpfMapFlags.NoPrealloc | (readOnly ? BpfMapFlags.ReadOnlyProg : 0)));

    private static byte[] Key(int len, uint address) => [.. BitConverter.GetBytes(len), (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address];

    private static ulong Lookup(BpfVm vm, LoadedProgram program, int len, uint address)
    {
        var frame = new byte[64];
        Key(len, address).CopyTo(frame, 0);
        var packet = VmTestSupport.Packet(frame);
        var r = vm.Run(program, ref packet);
        Assert.Equal(BpfFault.None, r.Fault);
        return r.R0;
    }

    /// <summary>The value of the longest of <paramref name="prefixes"/> matching <paramref name="address"/> within
    /// <paramref name="len"/> bits, or 0xdead; a key prefix longer than the key's 32 bits finds nothing (the kernel's
    /// trie_lookup_elem).</summary>
    private static ulong Expected(Dictionary<(int Len, uint Net), uint> prefixes, int len, uint address)
    {
        if (len > 32) return 0xdead;
        for (int l = len; l >= 0; l--)
            if (prefixes.TryGetValue((l, Net(address, l)), out uint v)) return v;
        return 0xdead;
    }

    private static uint Net(uint address, int len) => len == 0 ? 0 : address & (0xFFFFFFFFu << (32 - len));

    public static TheoryData<bool, int> Cases()
    {
        var data = new TheoryData<bool, int>();
        foreach (bool jit in new[] { false, true })
            foreach (int lengths in new[] { 1, 2, 4, 9 }) // 9 lengths: more than a /32 lookup probes, the trie answers
                data.Add(jit, lengths);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LookupsFindTheLongestMatchingPrefix(bool jit, int distinctLengths)
    {
        var rng = new Random(distinctLengths);
        var map = Lpm();
        int[] lengths = [32, .. Enumerable.Range(0, distinctLengths - 1).Select(i => new[] { 0, 8, 16, 24, 20, 12, 28, 30 }[i])];
        uint[] bases = [0x0A000001, 0x0A010203, 0xC0A80107, 0x0A0000FF];
        var prefixes = new Dictionary<(int, uint), uint>();
        for (int i = 0; i < 60; i++)
        {
            int len = lengths[rng.Next(lengths.Length)];
            uint net = Net(bases[rng.Next(bases.Length)] ^ (uint)rng.Next(4), len);
            uint value = (uint)rng.Next(1000);
            Assert.Equal(0, map.Update(Key(len, net), BitConverter.GetBytes(value), 0));
            prefixes[(len, net)] = value;
        }
        var program = VmTestSupport.LoadFor(LookupFromFrame, jit, map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        foreach (int keyLen in new[] { 32, 33, 1000, 24, 17, 8, 0 })
            for (int i = 0; i < 40; i++)
            {
                uint address = bases[rng.Next(bases.Length)] ^ (uint)rng.Next(8) ^ (rng.Next(5) == 0 ? 0x00010000u : 0);
                Assert.Equal(Expected(prefixes, keyLen, address), Lookup(vm, program, keyLen, address));
            }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ADeletedPrefixLeavesTheNextShorterOne(bool jit)
    {
        var map = Lpm();
        Assert.Equal(0, map.Update(Key(8, 0x0A000000), BitConverter.GetBytes(8u), 0));
        Assert.Equal(0, map.Update(Key(32, 0x0A000001), BitConverter.GetBytes(32u), 0));
        var program = VmTestSupport.LoadFor(LookupFromFrame, jit, map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        Assert.Equal(32UL, Lookup(vm, program, 32, 0x0A000001));
        Assert.Equal(0, map.Delete(Key(32, 0x0A000001)));
        Assert.Equal(8UL, Lookup(vm, program, 32, 0x0A000001));
        Assert.Equal(0, map.Delete(Key(8, 0x0A000000)));
        Assert.Equal(0xdeadUL, Lookup(vm, program, 32, 0x0A000001));
        Assert.Equal(0, map.Update(Key(0, 0), BitConverter.GetBytes(99u), 0));  // the default route matches everything
        Assert.Equal(99UL, Lookup(vm, program, 32, 0x0A000001));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AReadOnlyTriesValueCannotBeWritten(bool jit)
    {
        var map = Lpm(readOnly: true);
        Assert.Equal(0, map.Update(Key(24, 0x0A000000), BitConverter.GetBytes(7u), 0));
        string text = LookupFromFrame.Replace("ldxw %r0, [%r0+0]", "stw [%r0+0], 1\nmov %r0, 1");
        Assert.Contains("write into map forbidden", Assert.Throws<BpfVerifierException>(() => VmTestSupport.LoadFor(text, jit, map)).Message);
        var program = VmTestSupport.LoadFor(VmTestSupport.WithR0Unplaced(text), jit, map);
        using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
        var frame = new byte[64];
        Key(32, 0x0A000005).CopyTo(frame, 0);
        var packet = VmTestSupport.Packet(frame);
        Assert.Equal(BpfFault.ReadOnlyWrite, vm.Run(program, ref packet).Fault);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LookupsWhileAnotherThreadAddsAndRemovesPrefixesFindTheStableOnes(bool jit)
    {
        // The stable prefixes 10.0.0.0/8 and 10.0.0.1/32 stay; another thread adds and removes /32s (and now and then
        // a /24 covering the looked-up host, which is longer than /8 and shorter than /32). Every lookup of 10.0.0.1
        // must answer 32, and of 10.0.0.2 either 8 or, while the /24 is there, 24 — never NULL, never another value:
        // a /24 deleted while the program holds its value keeps its slot until the run ended (a grace period, as the
        // kernel's RCU-freed trie nodes), so the churn's next /32 (1000) cannot take it over meanwhile.
        var map = Lpm();
        Assert.Equal(0, map.Update(Key(8, 0x0A000000), BitConverter.GetBytes(8u), 0));
        Assert.Equal(0, map.Update(Key(32, 0x0A000001), BitConverter.GetBytes(32u), 0));
        var program = VmTestSupport.LoadFor(LookupFromFrame, jit, map);
        bool stop = false;
        var churn = new Thread(() =>
        {
            for (uint i = 0; !Volatile.Read(ref stop); i++)
            {
                var key = i % 7 == 0 ? Key(24, 0x0A000000) : Key(32, 0x0A000100 + i % 64);
                map.Update(key, BitConverter.GetBytes(i % 7 == 0 ? 24u : 1000u), 0);
                map.Delete(key);
            }
        }) { IsBackground = true };
        churn.Start();
        try
        {
            using var vm = new BpfVm(new BpfVmOptions { UseJit = jit });
            for (int i = 0; i < 20_000; i++)
            {
                Assert.Equal(32UL, Lookup(vm, program, 32, 0x0A000001));
                Assert.Contains(Lookup(vm, program, 32, 0x0A000002), new[] { 8UL, 24UL });
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            churn.Join();
        }
    }
}
