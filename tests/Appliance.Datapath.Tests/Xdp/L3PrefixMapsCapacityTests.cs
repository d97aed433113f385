using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Datapath.Diagnostics;
using Appliance.Datapath.Routing;
using Appliance.Datapath.Xdp.Rules;
using Appliance.Interop;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Datapath.Tests.Xdp;

/// <summary>A port's L3 prefix maps (two kernel LPM_TRIE maps of <see cref="L3PrefixMaps.MaxPrefixes"/> entries)
/// filled past their capacity by tenants' prefixes and the board's addresses inside them: nothing throws, the tenants'
/// prefixes come first, what does not fit is counted and logged as an error, and the kernel maps hold exactly what
/// fits; a full set replaced by another full set goes through (removes first). In the log sink's collection: the test
/// reads the log.</summary>
[Collection("log sink")]
public sealed class L3PrefixMapsCapacityTests
{
    private static (IpFamily, UInt128, int) Net24(int i) => (IpFamily.Inet, 0x0A000000u | (uint)i << 8, 24);

    private static BoardAddresses Board(long version, int count) =>
        new(version, Enumerable.Range(0, count).Select(i => (IpFamily.Inet, (UInt128)(0x0A000001u | (uint)i << 8))).ToHashSet());

    /// <summary>The kernel's longest-prefix answer for an IPv4 address: Tenant, Board, or null (no entry).</summary>
    private static uint? Lookup(L3PrefixMaps maps, uint address)
    {
        Span<byte> key = stackalloc byte[L3PrefixMaps.V4KeySize];
        BinaryPrimitives.WriteUInt32LittleEndian(key, 32);
        BinaryPrimitives.WriteUInt32BigEndian(key[4..], address);
        Span<byte> value = stackalloc byte[4];
        return BpfSyscall.LookupElem(maps.V4Fd, key, value) ? BinaryPrimitives.ReadUInt32LittleEndian(value) : null;
    }

    [PrivilegedFact]
    public void Board_addresses_past_the_capacity_are_left_out_with_an_error_and_nothing_throws()
    {
        using var maps = new L3PrefixMaps("mapp_l3cap", "cap0");
        var log = new StringWriter();
        Log.SetSink(log);
        try
        {
            maps.Set(Enumerable.Range(0, 1000).Select(Net24));
            maps.SetBoardAddresses(Board(1, 40)); // 10.0.i.1 for i < 40, each inside tenant prefix 10.0.i.0/24
        }
        finally
        {
            Log.SetSink(Console.Error);
        }
        Assert.Equal(1000, maps.Count);
        Assert.Equal(24, maps.BoardCount); // 1024 - 1000
        Assert.Equal(16, maps.LeftOut);
        Assert.True(maps.HoldsBoardAddresses, "the datapath keeps checking the board's addresses itself");
        Assert.Contains("L3 prefix maps full: entries left out port=cap0 leftOut=16 capacity=1024", log.ToString());
        int board = Enumerable.Range(0, 40).Count(i => Lookup(maps, 0x0A000001u | (uint)i << 8) == L3PrefixMaps.Board);
        int tenant = Enumerable.Range(0, 40).Count(i => Lookup(maps, 0x0A000001u | (uint)i << 8) == L3PrefixMaps.Tenant);
        Assert.Equal((24, 16), (board, tenant)); // the left-out ones fall to their tenant prefix in the kernel's map
        Assert.Equal(L3PrefixMaps.Tenant, Lookup(maps, 0x0A03E705)); // 10.3.231.5: tenant prefix 999

        // More tenants' prefixes than fit: the map is full of them, the rest and every board address are left out.
        maps.Set(Enumerable.Range(0, 1100).Select(Net24));
        Assert.Equal(1100 - 1024 + 40, maps.LeftOut);
        Assert.Equal(0, maps.BoardCount);

        // Back under the capacity: everything fits again.
        var again = new StringWriter();
        Log.SetSink(again);
        try
        {
            maps.Set(Enumerable.Range(0, 500).Select(Net24));
        }
        finally
        {
            Log.SetSink(Console.Error);
        }
        Assert.Equal((0, 40), (maps.LeftOut, maps.BoardCount));
        Assert.Contains("L3 prefix maps hold every entry again port=cap0", again.ToString());
        Assert.Equal(L3PrefixMaps.Board, Lookup(maps, 0x0A002701)); // 10.0.39.1
        Assert.Null(Lookup(maps, 0x0A03E705)); // prefix 999 went
    }

    [PrivilegedFact]
    public void A_full_set_of_prefixes_replaced_by_another_full_set_goes_through()
    {
        using var maps = new L3PrefixMaps("mapp_l3swap", "swap0");
        maps.Set(Enumerable.Range(0, L3PrefixMaps.MaxPrefixes).Select(Net24));
        maps.Set(Enumerable.Range(L3PrefixMaps.MaxPrefixes, L3PrefixMaps.MaxPrefixes).Select(Net24));
        Assert.Equal((L3PrefixMaps.MaxPrefixes, 0), (maps.Count, maps.LeftOut));
        Assert.Null(Lookup(maps, 0x0A000105)); // 10.0.1.5: prefix 1 of the first set
        Assert.Equal(L3PrefixMaps.Tenant, Lookup(maps, 0x0A040105)); // 10.4.1.5: prefix 1025 of the second
    }
}
