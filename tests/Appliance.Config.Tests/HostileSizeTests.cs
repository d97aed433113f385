using System.Text;
using Xunit;

namespace Appliance.Config.Tests;

/// <summary>Big hostile files: every error is still found, each message stays short, and structure errors in
/// many places do not multiply the work of the meaning checks.</summary>
public sealed class HostileSizeTests
{
    /// <summary>A board with one port and <paramref name="programs"/> programs p0, p1, …</summary>
    private static string WithPrograms(int programs, string pairs) =>
        $$"""
        { "board": "qemu-virt", "ports": [{ "name": "eth0" }], "pairs": [{{pairs}}],
          "programs": [{{string.Join(",", Enumerable.Range(0, programs).Select(i => $"{{\"name\":\"p{i}\",\"object\":\"o{i}.o\",\"section\":\"tc\"}}"))}}] }
        """;

    [Fact]
    public void AnUnknownReferenceNamesAtMostTwentyOfTheNamesItExpected()
    {
        string pair = """{ "name": "t", "mode": "l2", "uplink": "eth0", "tenant": { "netns": "n", "interface": "e" }, "peer": { "chain": [{ "program": "zzz" }] } }""";
        var few = ConfigTexts.LoadText(WithPrograms(3, pair), ConfigTexts.FileName);
        Assert.Equal("unknown program \"zzz\" (expected one of: p0, p1, p2)", Assert.Single(few.Errors).Message);
        var many = ConfigTexts.LoadText(WithPrograms(5000, pair), ConfigTexts.FileName);
        string message = Assert.Single(many.Errors).Message;
        Assert.Equal($"unknown program \"zzz\" (expected one of: {string.Join(", ", Enumerable.Range(0, 20).Select(i => $"p{i}"))} and 4980 more programs)", message);
    }

    [Fact]
    public void TwentyThousandBrokenPairsGetEveryErrorAtItsOwnPlace()
    {
        // Each pair: a wrong value left out (headroom), an unknown uplink and a repeated name and tenant
        // interface found by the meaning checks on the sound part.
        const int n = 20_000;
        var pairs = new StringBuilder();
        for (int i = 0; i < n; i++)
            pairs.Append(i == 0 ? "" : ",\n").Append("""{"name":"a","mode":"l2","uplink":"u","tenant":{"netns":"n","interface":"e"},"headroom":"x"}""");
        var result = ConfigTexts.LoadText(WithPrograms(0, pairs.ToString()), ConfigTexts.FileName);
        var byPath = result.Errors.GroupBy(e => e.JsonPath).ToDictionary(g => g.Key, g => g.Count());
        for (int i = 0; i < n; i += 997)
        {
            Assert.Equal(1, byPath.GetValueOrDefault($"$.pairs[{i}].headroom"));
            Assert.Equal(1, byPath.GetValueOrDefault($"$.pairs[{i}].uplink"));
        }
        Assert.Equal(n, result.Errors.Count(e => e.Message.StartsWith("unknown port \"u\"", StringComparison.Ordinal)));
        Assert.Equal(n - 1, result.Errors.Count(e => e.Message.StartsWith("duplicate pair name", StringComparison.Ordinal)));
        Assert.Equal(n - 1, result.Errors.Count(e => e.Message.Contains("is already the tenant of", StringComparison.Ordinal)));
        var last = result.Errors.Single(e => e.JsonPath == $"$.pairs[{n - 1}].headroom");
        Assert.Equal((n, 88), (last.Line, last.Column)); // pair k is on line k + 1: the first line holds the board and pair 0
    }

    [Fact]
    public void TenThousandL3AddressesFindTheOneMartianAndTheOneRepeat()
    {
        // One l3 tenant with 10,000 /32s (10.0.0.0 up): the address checks stay one pass (no pair of addresses
        // compared), and still name the one martian and the one address given twice, at their own places, and the
        // first prefix past what the port's XDP steering holds.
        const int n = 10_000;
        var addresses = Enumerable.Range(0, n).Select(i => $"\"10.{(i + 1) >> 16}.{((i + 1) >> 8) & 255}.{(i + 1) & 255}/32\"").ToArray();
        addresses[4321] = "\"127.0.0.9/32\"";
        addresses[n - 1] = addresses[17];
        string pair = $$"""{ "name": "t", "mode": "l3", "uplink": "eth0", "tenant": { "netns": "n", "interface": "e", "addresses": [{{string.Join(",", addresses)}}] } }""";
        var result = ConfigTexts.LoadText(WithPrograms(0, pair), ConfigTexts.FileName);
        Assert.Equal(
            [("$.pairs[0].tenant.addresses[1024]", "this is l3 prefix 1025 of IPv4 on uplink \"eth0\": the port's XDP steering holds 1024 per family (the board's own addresses inside them included)"),
             ("$.pairs[0].tenant.addresses[4321]", "127.0.0.9 is a loopback address: an l3 tenant's packets from it are never routed (they are dropped as invalidSource); give the tenant a routable address"),
             ($"$.pairs[0].tenant.addresses[{n - 1}]", "address 10.0.0.18 is already claimed by $.pairs[0].tenant.addresses[17]")],
            result.Errors.Select(e => (e.JsonPath, e.Message)).Where(e => !e.Message.StartsWith("prefix ", StringComparison.Ordinal)).ToArray());
        // The repeat is the same /32 route too.
        Assert.Single(result.Errors, e => e.Message.StartsWith("prefix 10.0.0.18/32 on uplink \"eth0\" is already routed", StringComparison.Ordinal));
    }

    [Fact]
    public void PositionsAreRightOnAOneLineFile()
    {
        // The whole file on one line: columns keep counting characters (é is two bytes, one character).
        string text = """{"$schema":"é","board":"b","ports":[{"name":"eth0","mtu":"x"},{"name":"eth1","mtu":"y"}]}""";
        var result = ConfigTexts.LoadText(text, ConfigTexts.FileName);
        Assert.Equal([(1, 58), (1, 84)], result.Errors.Select(e => (e.Line, e.Column)).ToArray());
    }
}
