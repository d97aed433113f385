using Appliance.Bpf.Maps;
using Xunit;

namespace Appliance.Bpf.Tests.Maps;

/// <summary>The LPM trie against a brute-force reference (scan every stored prefix) under random
/// inserts, replacements, deletes and lookups — including churn that prunes and reuses trie nodes. With prefix
/// lengths from anywhere the lookups walk the trie; with a few lengths (now and then one more, which deletes take
/// away again) they probe the exact-key index once per length, and switch between the two as lengths come and go.</summary>
public class LpmTrieReferenceTests
{
    [Theory]
    [InlineData(4, 1, 0)]
    [InlineData(16, 2, 0)]
    [InlineData(4, 3, 2)]
    [InlineData(4, 4, 3)]
    [InlineData(16, 5, 6)]
    public void MatchesABruteForceLongestPrefixSearch(int dataBytes, int seed, int fewLengths)
    {
        int keySize = 4 + dataBytes, maxBits = dataBytes * 8;
        var map = BpfMap.Create(new BpfMapDefinition("lpm", BpfMapType.LpmTrie, keySize, 4, 256, BpfMapFlags.NoPrealloc));
        var reference = new Dictionary<(int Len, string Data), uint>();
        var rng = new Random(seed);
        // A few base addresses so prefixes overlap and nest.
        var bases = Enumerable.Range(0, 4).Select(_ => { var b = new byte[dataBytes]; rng.NextBytes(b); return b; }).ToArray();
        var lengths = Enumerable.Range(0, fewLengths).Select(_ => rng.Next(maxBits / 2, maxBits + 1)).Append(maxBits).ToArray();
        int Length() => fewLengths == 0 || rng.Next(40) == 0 ? rng.Next(maxBits + 1) : lengths[rng.Next(lengths.Length)];

        for (int step = 0; step < 20_000; step++)
        {
            var data = (byte[])bases[rng.Next(bases.Length)].Clone();
            for (int i = 0; i < 2; i++) data[rng.Next(dataBytes)] ^= (byte)(1 << rng.Next(8));
            int op = rng.Next(10);
            if (op < 3)
            {
                int len = Length();
                uint value = (uint)rng.Next();
                int r = map.UpdateFromUser(Key(len, data), BitConverter.GetBytes(value), 0); // waits for grace periods other tests' runs hold
                var k = (len, Masked(data, len));
                if (reference.Count < 256 || reference.ContainsKey(k))
                {
                    Assert.Equal(0, r);
                    reference[k] = value;
                }
                else
                {
                    Assert.Equal(-Errno.ENOSPC, r);
                }
            }
            else if (op < 5)
            {
                int len = Length();
                var stray = reference.Keys.FirstOrDefault(k => !lengths.Contains(k.Len));
                if (fewLengths > 0 && stray.Data is not null)
                    (len, data) = (stray.Len, Convert.FromHexString(stray.Data)); // takes the extra length away again
                var k = (len, Masked(data, len));
                Assert.Equal(reference.Remove(k) ? 0 : -Errno.ENOENT, map.Delete(Key(len, data)));
            }
            else
            {
                int len = rng.Next(maxBits + 1);
                uint? expected = null;
                for (int l = len; l >= 0 && expected is null; l--)
                    if (reference.TryGetValue((l, Masked(data, l)), out var v)) expected = v;
                bool found = map.TryLookup(Key(len, data), out var got);
                Assert.Equal(expected.HasValue, found);
                if (found) Assert.Equal(expected!.Value, BitConverter.ToUInt32(got));
            }
        }
    }

    private static byte[] Key(int len, byte[] data) => [.. BitConverter.GetBytes(len), .. data];

    private static string Masked(byte[] data, int len)
    {
        var m = (byte[])data.Clone();
        for (int bit = len; bit < m.Length * 8; bit++) m[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        return Convert.ToHexString(m);
    }
}
