using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Each example program parses into the programs, sections and maps its source declares, with
/// sizes that exist only in BTF.</summary>
public class ExampleObjectTests
{
    [Fact]
    public void AllowPort_HasNetkitPeerProgramHashMapRodataAndBss()
    {
        var obj = TestObjects.LoadExample("allow_port");
        var prog = Assert.Single(obj.Programs);
        Assert.Equal(("allow_port", "netkit/peer"), (prog.Name, prog.Section));
        Assert.Equal("GPL", obj.License);
        AssertMap(obj, "allowed_ports", BpfMapType.Hash, 2, 8, 256, 0);
        var rodata = AssertMap(obj, ".rodata", BpfMapType.Array, 4, 4, 1, BpfMapFlags.ReadOnlyProg);
        Assert.True(rodata.Frozen);
        Assert.Equal(new byte[] { 1, 0, 0, 0 }, rodata.InitialValue); // pass_non_l4 = 1
        var bss = AssertMap(obj, ".bss", BpfMapType.Array, 4, 8, 1, 0);
        Assert.False(bss.Frozen);
        Assert.Equal(new byte[8], bss.InitialValue);
        Assert.Equal(3, obj.Maps.Count);
    }

    [Fact]
    public void Counter_HasPercpuHashWithStructValue()
    {
        var obj = TestObjects.LoadExample("counter");
        Assert.Equal(("count_tenant", "tc"), (obj.Programs[0].Name, obj.Programs[0].Section));
        AssertMap(obj, "tenant_stats", BpfMapType.PercpuHash, 4, 16, 1024, 0);
        Assert.Single(obj.Maps);
    }

    [Fact]
    public void VlanTag_HasOnlyGlobalData()
    {
        var obj = TestObjects.LoadExample("vlan_tag");
        Assert.Equal([("vlan_tag", "tc"), ("vlan_untag", "netkit/primary")], obj.Programs.Select(p => (p.Name, p.Section)));
        var rodata = AssertMap(obj, ".rodata", BpfMapType.Array, 4, 2, 1, BpfMapFlags.ReadOnlyProg);
        Assert.Equal(100, BitConverter.ToUInt16(rodata.InitialValue!)); // vlan_id = 100, shared by both programs
        AssertMap(obj, ".bss", BpfMapType.Array, 4, 24, 1, 0); // tagged_frames, untagged_frames, other_vlan_frames
    }

    [Fact]
    public void Rewrite_HasNatRuleMap()
    {
        var obj = TestObjects.LoadExample("rewrite");
        Assert.Equal(("rewrite", "tc"), (obj.Programs[0].Name, obj.Programs[0].Section));
        AssertMap(obj, "nat_rules", BpfMapType.Hash, 4, 12, 1024, 0);
    }

    [Fact]
    public void RedirectMap_HasRoutesDataAndBss()
    {
        var obj = TestObjects.LoadExample("redirect_map");
        Assert.Equal("redirect_by_daddr", Assert.Single(obj.Programs).Name);
        AssertMap(obj, "routes", BpfMapType.Hash, 4, 4, 4096, 0);
        var data = AssertMap(obj, ".data", BpfMapType.Array, 4, 4, 1, 0);
        Assert.Equal(new byte[4], data.InitialValue); // fallback_verdict = TC_ACT_OK
        Assert.False(data.Frozen);
        AssertMap(obj, ".bss", BpfMapType.Array, 4, 8, 1, 0);
    }

    [Fact]
    public void LpmAcl_HasTrieWithNoPreallocAndArray()
    {
        var obj = TestObjects.LoadExample("lpm_acl");
        Assert.Equal(("lpm_acl", "netkit/primary"), (obj.Programs[0].Name, obj.Programs[0].Section));
        AssertMap(obj, "acl_v4", BpfMapType.LpmTrie, 8, 4, 1024, 1);
        AssertMap(obj, "acl_hits", BpfMapType.Array, 4, 8, 2, 0);
        Assert.Equal(0, BitConverter.ToInt32(AssertMap(obj, ".rodata", BpfMapType.Array, 4, 4, 1, 0x80).InitialValue!));
    }

    [Theory]
    [MemberData(nameof(ExampleNames))]
    public void EveryMapReferenceIsAPseudoLddwWithAValidIndex(string example)
    {
        var obj = TestObjects.LoadExample(example);
        foreach (var prog in obj.Programs)
        {
            var insns = prog.Instructions;
            int refs = 0;
            for (int i = 0; i < insns.Length; i++)
            {
                if ((byte)insns[i] != 0x18) continue;
                int src = (int)((insns[i] >> 12) & 0xf);
                int imm = (int)(insns[i] >> 32);
                if (src is 1 or 2)
                {
                    refs++;
                    Assert.InRange(imm, 0, obj.Maps.Count - 1);
                    if (src == 2)
                        Assert.InRange((int)(insns[i + 1] >> 32), 0, obj.Maps[imm].ValueSize - 1);
                    else
                        Assert.Null(obj.Maps[imm].InitialValue); // src 1 never points at global data
                }
                Assert.NotEqual(0, src); // clang emits lddw here only for map and global references
                i++;
            }
            Assert.True(refs > 0, $"{example}: no map references found");
        }
    }

    public static TheoryData<string> ExampleNames() => new(TestObjects.Examples);

    private static BpfMapDefinition AssertMap(BpfObject obj, string name, BpfMapType type, int key, int value, int max, uint flags)
    {
        var map = Assert.Single(obj.Maps, m => m.Name == name);
        Assert.Equal((type, key, value, max, flags), (map.Type, map.KeySize, map.ValueSize, map.MaxEntries, map.Flags));
        return map;
    }
}
