using System.Buffers.Binary;
using Appliance.Bpf.Tests.Elf;
using Appliance.TestSupport;
using Xunit;

namespace Appliance.Bpf.Tests.Kernel;

/// <summary>Our parse of each object, loaded into the kernel: if the kernel verifier accepts the linked
/// instructions with our maps and computes what the C source says, the loader's map parsing, global
/// data and relocations are right.</summary>
[Collection(KernelCollection.Name)]
public class KernelLoadTests
{
    public static TheoryData<string> AllObjects() =>
        new(TestObjects.Examples.Concat(TestObjects.Examples.Select(e => e + "@v1")).Concat(["test:subprog_globals", "test:legacy_maps", "test:maps_zoo", "test:ctx_helpers", "test:tail_calls", "test:helper_edges", "test:more_helpers", "test:core_kernel_types"]));

    /// <summary>"name" = an example; "name@v1" = the example built with -mcpu=v1; "test:name" = a test program;
    /// "corpus:name@v2" = a corpus program built with -mcpu=v2.</summary>
    internal static Bpf.Objects.BpfObject LoadAny(string name)
    {
        if (name.StartsWith("corpus:", StringComparison.Ordinal))
        {
            var (program, cpu) = (name[7..].Split('@')[0], name.Split('@')[1]);
            return Bpf.Objects.BpfObjectLoader.Load(TestObjects.CorpusPath(program, cpu));
        }
        if (name.StartsWith("test:", StringComparison.Ordinal)) return TestObjects.LoadTestProgram(name[5..]);
        int at = name.IndexOf('@');
        return at < 0 ? TestObjects.LoadExample(name) : Bpf.Objects.BpfObjectLoader.Load(TestObjects.ExamplePath(name[..at], name[(at + 1)..]));
    }

    [PrivilegedTheory]
    [MemberData(nameof(AllObjects))]
    public void EveryObjectLoadsIntoTheKernelAndRuns(string name)
    {
        var obj = LoadAny(name);
        using var k = KernelObject.Load(obj);
        var frame = PacketBuilder.Ipv4(PacketBuilder.Tcp, [10, 0, 0, 1], [10, 0, 0, 2], 1000, 80, 10);
        foreach (var prog in obj.Programs)
        {
            var r = k.Run(prog.Name, frame);
            Assert.True(r.Frame.Length >= 14, $"{prog.Name}: no frame came back");
        }
    }

    [PrivilegedFact]
    public void SubprogramsAndGlobalsComputeWhatTheSourceSays()
    {
        using var k = KernelObject.Load(TestObjects.LoadTestProgram("subprog_globals"));
        uint[] table = [10, 20, 30, 40];
        for (int len = 60; len < 68; len++)
        {
            uint x = (uint)len & 7;
            Assert.Equal(x * 3 + 5 + table[x & 3], k.Run("first", new byte[len]).Retval);          // mix(len & 7)
            Assert.Equal(2 * 3 + 5 + 30 + (uint)"hello"[len & 3], k.Run("second", new byte[len]).Retval);
        }
        Assert.Equal(20u, k.Run("lone", new byte[64]).Retval);
        Assert.Equal(16UL, BitConverter.ToUInt64(k.Lookup(".bss", new byte[4])!)); // `calls`, bumped by mix

        // Rewriting .data through the kernel changes what the programs read at the patched offsets.
        var data = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(data, 100);                  // bias
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 + 4 * i), (uint)(1000 * (i + 1)));
        k.Update(".data", new byte[4], data);
        Assert.Equal(1u * 3 + 100 + 2000, k.Run("first", new byte[65]).Retval);
    }

    [PrivilegedFact]
    public void LegacyMapsWorkInTheKernel()
    {
        using var k = KernelObject.Load(TestObjects.LoadTestProgram("legacy_maps"));
        var frame = new byte[64];
        Assert.Equal(2u, k.Run("use_legacy", frame).Retval); // array always has key 1, the hash does not
        k.Update("legacy_hash", BitConverter.GetBytes(1u), BitConverter.GetBytes(5UL));
        Assert.Equal(3u, k.Run("use_legacy", frame).Retval);
    }

    [PrivilegedFact]
    public void AllowPortFollowsTheAllowListWrittenThroughTheKernel()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("allow_port"));
        k.Update("allowed_ports", BitConverter.GetBytes((ushort)443), BitConverter.GetBytes(0UL));
        byte[] a = [10, 0, 0, 1], b = [10, 0, 0, 2];
        Assert.Equal(0u, k.Run("allow_port", PacketBuilder.Ipv4(PacketBuilder.Tcp, a, b, 5555, 443, 20)).Retval);
        Assert.Equal(0u, k.Run("allow_port", PacketBuilder.Ipv6(PacketBuilder.Udp, new byte[16], new byte[16], 5555, 443, 3, vlan: 7)).Retval);
        Assert.Equal(2u, k.Run("allow_port", PacketBuilder.Ipv4(PacketBuilder.Udp, a, b, 5555, 80, 20)).Retval);
        Assert.Equal(0u, k.Run("allow_port", PacketBuilder.Arp()).Retval);
        Assert.Equal(2UL, BitConverter.ToUInt64(k.Lookup("allowed_ports", BitConverter.GetBytes((ushort)443))!));
        Assert.Equal(1UL, BitConverter.ToUInt64(k.Lookup(".bss", new byte[4])!));
    }

    [PrivilegedFact]
    public void LpmAclPicksTheLongestPrefix()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("lpm_acl"));
        k.Update("acl_v4", [8, 0, 0, 0, 10, 0, 0, 0], BitConverter.GetBytes(2u));
        k.Update("acl_v4", [16, 0, 0, 0, 10, 1, 0, 0], BitConverter.GetBytes(0u));
        byte[] dst = [192, 168, 1, 1];
        Assert.Equal(2u, k.Run("lpm_acl", PacketBuilder.Ipv4(PacketBuilder.Tcp, [10, 2, 3, 4], dst, 1, 2, 0)).Retval);
        Assert.Equal(0u, k.Run("lpm_acl", PacketBuilder.Ipv4(PacketBuilder.Tcp, [10, 1, 3, 4], dst, 1, 2, 0)).Retval);
        Assert.Equal(0u, k.Run("lpm_acl", PacketBuilder.Ipv4(PacketBuilder.Tcp, [172, 16, 0, 1], dst, 1, 2, 0)).Retval);
        Assert.Equal(2UL, BitConverter.ToUInt64(k.Lookup("acl_hits", BitConverter.GetBytes(0u))!));
        Assert.Equal(1UL, BitConverter.ToUInt64(k.Lookup("acl_hits", BitConverter.GetBytes(1u))!));
    }

    [PrivilegedFact]
    public void RewriteChangesAddressesAndKeepsChecksumsValid()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("rewrite"));
        byte[] rule = [10, 9, 9, 9, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0];
        k.Update("nat_rules", new byte[] { 10, 0, 0, 2 }, rule);
        foreach (var proto in new[] { PacketBuilder.Tcp, PacketBuilder.Udp })
        {
            var frame = PacketBuilder.Ipv4(proto, [10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 33);
            var r = k.Run("rewrite", frame);
            Assert.Equal(0u, r.Retval);
            Assert.Equal(rule[4..10], r.Frame[..6]);
            Assert.Equal(new byte[] { 10, 9, 9, 9 }, r.Frame[30..34]);
            Assert.Equal(0, PacketBuilder.Checksum(r.Frame.AsSpan(14, 20), 0));        // IPv4 header sums to 0xffff
            var l4 = r.Frame.AsSpan(34);
            uint pseudo = PacketBuilder.Sum(r.Frame.AsSpan(26, 8)) + proto + (uint)l4.Length;
            Assert.Equal(0, PacketBuilder.Checksum(l4, pseudo));
        }
        var other = PacketBuilder.Ipv4(PacketBuilder.Tcp, [10, 0, 0, 1], [10, 0, 0, 3], 1, 2, 0);
        Assert.Equal(other, k.Run("rewrite", other).Frame);
    }

    [PrivilegedFact]
    public void RedirectMapRedirectsRoutedDestinations()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("redirect_map"));
        k.Update("routes", new byte[] { 10, 0, 0, 2 }, BitConverter.GetBytes(1u));
        Assert.Equal(7u, k.Run("redirect_by_daddr", PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 5)).Retval);
        Assert.Equal(0u, k.Run("redirect_by_daddr", PacketBuilder.Ipv4(PacketBuilder.Udp, [10, 0, 0, 1], [10, 0, 0, 4], 1, 2, 5)).Retval);
        k.Update(".data", new byte[4], BitConverter.GetBytes(2)); // fallback_verdict = TC_ACT_SHOT
        Assert.Equal(2u, k.Run("redirect_by_daddr", PacketBuilder.Arp()).Retval);
        Assert.Equal(1UL, BitConverter.ToUInt64(k.Lookup(".bss", new byte[4])!));
    }

    [PrivilegedFact]
    public void CounterCountsPacketsAndBytesPerTenantAcrossCpus()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("counter"));
        ulong bytes = 0;
        for (int i = 0; i < 10; i++)
        {
            var frame = new byte[60 + i];
            bytes += (ulong)frame.Length;
            Assert.Equal(uint.MaxValue, k.Run("count_tenant", frame, KernelSkBuff.Create(ifindex: 1)).Retval); // TC_ACT_UNSPEC = NEXT
        }
        var all = k.Lookup("tenant_stats", BitConverter.GetBytes(1u))!;
        ulong packets = 0, sum = 0;
        for (int cpu = 0; cpu < KernelObject.PossibleCpus; cpu++)
        {
            packets += BitConverter.ToUInt64(all, cpu * 16);
            sum += BitConverter.ToUInt64(all, cpu * 16 + 8);
        }
        Assert.Equal((10UL, bytes), (packets, sum));
    }

    [PrivilegedFact]
    public void VlanTagTagsOnlyUntaggedFrames()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("vlan_tag"));
        Assert.Equal(NetkitNext, k.Run("vlan_tag", PacketBuilder.Arp()).Retval);
        Assert.Equal(NetkitNext, k.Run("vlan_tag", PacketBuilder.Ipv4(PacketBuilder.Udp, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0, vlan: 5)).Retval);
        Assert.Equal(1UL, BitConverter.ToUInt64(k.Lookup(".bss", new byte[4])!)); // tagged_frames: the ARP frame only
    }

    [PrivilegedFact]
    public void VlanUntagTakesOffItsOwnVlansTagAndDropsAnothersFramesAndUntaggedOnes()
    {
        using var k = KernelObject.Load(TestObjects.LoadExample("vlan_tag"));
        var untagged = PacketBuilder.Ipv4(PacketBuilder.Udp, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        var own = k.Run("vlan_untag", PacketBuilder.Ipv4(PacketBuilder.Udp, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0, vlan: 100)); // vlan_id's default
        Assert.Equal(NetkitNext, own.Retval);
        Assert.Equal(untagged, own.Frame);
        Assert.Equal(NetkitDrop, k.Run("vlan_untag", PacketBuilder.Ipv4(PacketBuilder.Udp, [1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0, vlan: 5)).Retval);
        Assert.Equal(NetkitDrop, k.Run("vlan_untag", untagged).Retval); // the trunk's native VLAN is not vlan_id
        Assert.Equal(2UL, BitConverter.ToUInt64(k.Lookup(".bss", new byte[4])!.AsSpan(16))); // other_vlan_frames
    }

    private const uint NetkitNext = 0xffff_ffff, NetkitDrop = 2;
}
