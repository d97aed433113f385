using Appliance.Bpf.Maps;
using Appliance.Bpf.Objects;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>bpf-to-bpf calls, globals and several programs per section (TestPrograms/subprog_globals.bpf.c).</summary>
public class LinkingTests
{
    private static readonly BpfObject Obj = TestObjects.LoadTestProgram("subprog_globals");

    [Fact]
    public void EveryFunctionOfEveryProgramSectionIsAProgram_TextFunctionsAreNot()
    {
        Assert.Equal(new[] { ("first", "tc"), ("second", "tc"), ("lone", "classifier") },
            Obj.Programs.Select(p => (p.Name, p.Section)).ToArray());
        Assert.Equal("Dual BSD/GPL", Obj.License);
    }

    /// <summary>libbpf's static prog-array initialiser (TestPrograms/prog_array_init.bpf.c): 4-byte values without a
    /// value_size, and the named programs' indices in the slots, which the live map holds after binding.</summary>
    [Fact]
    public void AProgArrayInitialiserFillsItsSlotsWithProgramIndices()
    {
        var obj = TestObjects.LoadTestProgram("prog_array_init");
        var def = Assert.Single(obj.Maps);
        Assert.Equal((BpfMapType.ProgArray, 4, 4, 4), (def.Type, def.KeySize, def.ValueSize, def.MaxEntries));
        int odd = obj.Programs.ToList().FindIndex(p => p.Name == "by_length_odd"), three = obj.Programs.ToList().FindIndex(p => p.Name == "by_length_three");
        Assert.Equal(new[] { (1, odd), (3, three) }, def.InitialPrograms.ToArray());
        var map = BpfMap.Create(def);
        MapOfMaps.BindInitialSlots([map]);
        var value = new byte[4];
        Assert.True(map.TryLookupFromUser(BitConverter.GetBytes(3u), value));
        Assert.Equal(three, BitConverter.ToInt32(value));
        Assert.False(map.TryLookupFromUser(BitConverter.GetBytes(2u), value));
    }

    [Fact]
    public void GlobalSectionsBecomeOneEntryArrayMapsInSectionOrder()
    {
        Assert.Equal(new[] { ".rodata", ".data", ".bss", ".rodata.str1.1" }, Obj.Maps.Select(m => m.Name).ToArray());
        Assert.All(Obj.Maps, m => Assert.Equal((BpfMapType.Array, 4, 1), (m.Type, m.KeySize, m.MaxEntries)));
        Assert.Equal(new byte[] { 3, 0, 0, 0 }, Obj.Maps[0].InitialValue);                      // scale
        Assert.Equal(new uint[] { 5, 10, 20, 30, 40 }, U32s(Obj.Maps[1].InitialValue!));           // bias, table[]
        Assert.Equal(new byte[8], Obj.Maps[2].InitialValue);                                     // calls
        Assert.Equal("hello\0"u8.ToArray(), Obj.Maps[3].InitialValue);
        Assert.Equal(new[] { true, false, false, true }, Obj.Maps.Select(m => m.Frozen).ToArray());
    }

    [Fact]
    public void SubprogramsAreAppendedOnceAndEveryCallLandsOnAFunctionEntry()
    {
        var first = Obj.Programs[0].Instructions;
        // first (4) + mix (16) + pick (7): pick is reached twice (from mix) but appended once.
        Assert.Equal(4 + 16 + 7, first.Length);
        var calls = Insn.Calls(first);
        Assert.Equal(new[] { 2, 4 + 12 }, calls.ToArray());
        Assert.Equal(4, 2 + 1 + Insn.Imm(first[2]));            // first -> mix, placed right after first
        Assert.Equal(4 + 16, 16 + 1 + Insn.Imm(first[16]));     // mix -> pick, placed after mix

        var lone = Obj.Programs[2].Instructions;                 // calls the static pick via the .text section symbol
        Assert.Equal(3 + 7, lone.Length);
        Assert.Equal(3, 1 + 1 + Insn.Imm(lone[1]));
        Assert.True(Insn.IsExit(lone[^1]));
    }

    [Fact]
    public void ProgramsOfOneSectionEachGetTheirOwnCopyOfTheSubprograms()
    {
        var second = Obj.Programs[1].Instructions;
        Assert.Equal(13 + 16 + 7, second.Length);
        var calls = Insn.Calls(second);
        Assert.Equal(2, calls.Count);
        Assert.Equal(13, calls[0] + 1 + Insn.Imm(second[calls[0]]));
        Assert.Equal(13 + 16, calls[1] + 1 + Insn.Imm(second[calls[1]]));
    }

    [Fact]
    public void GlobalVariableLoadsBecomeMapValueReferencesWithTheVariablesOffset()
    {
        var loads = Insn.Loads(Obj.Programs[0].Instructions);
        // mix: calls (.bss +0), scale (.rodata +0), bias (.data +0); pick: table (.data +4)
        Assert.Equal(new[] { (2, 2, 0), (2, 0, 0), (2, 1, 0), (2, 1, 4) },
            loads.Select(l => (l.Src, l.Imm, l.NextImm)).ToArray());
        var second = Insn.Loads(Obj.Programs[1].Instructions);
        Assert.Equal((2, 3, 0), (second[0].Src, second[0].Imm, second[0].NextImm)); // "hello" in .rodata.str1.1
    }

    [Fact]
    public void LegacyMapsSectionIsRead()
    {
        var obj = TestObjects.LoadTestProgram("legacy_maps");
        Assert.Equal(new[] { ("legacy_hash", BpfMapType.Hash, 4, 8, 64), ("legacy_array", BpfMapType.Array, 4, 16, 8) },
            obj.Maps.Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries)).ToArray());
        var loads = Insn.Loads(obj.Programs[0].Instructions);
        Assert.Equal(new[] { (1, 0), (1, 1) }, loads.Select(l => (l.Src, l.Imm)).ToArray());
    }

    [Fact]
    public void EveryMapTypeAndKeyValueTypeShapeIsSizedFromBtf()
    {
        var obj = TestObjects.LoadTestProgram("maps_zoo");
        var expected = new[]
        {
            ("z_hash", BpfMapType.Hash, 4, 24, 100, 0u),
            ("z_array", BpfMapType.Array, 4, 16, 7, 0u),
            ("z_percpu_hash", BpfMapType.PercpuHash, 4, 5, 3, 0u),
            ("z_percpu_array", BpfMapType.PercpuArray, 4, 40, 2, 0u),
            ("z_lru", BpfMapType.LruHash, 8, 8, 16, 0u),
            ("z_lpm", BpfMapType.LpmTrie, 20, 2, 32, 1u),
            ("z_progs", BpfMapType.ProgArray, 4, 4, 4, 0u),
            ("z_ring", BpfMapType.RingBuf, 0, 0, 4096, 0u),
        };
        // BTF maps come first, in DATASEC order (clang's, not declaration order), then global data.
        Assert.Equal(expected.OrderBy(e => e.Item1),
            obj.Maps.Take(8).Select(m => (m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags)).OrderBy(e => e.Name));
        Assert.All(obj.Maps.Skip(8), m => Assert.StartsWith(".", m.Name));
        var mapRefs = Insn.Loads(obj.Programs[0].Instructions).Where(l => l.Src == 1).Select(l => l.Imm).ToHashSet();
        Assert.Equal(Enumerable.Range(0, 8).ToHashSet(), mapRefs);
    }

    private static uint[] U32s(byte[] b) => Enumerable.Range(0, b.Length / 4).Select(i => BitConverter.ToUInt32(b, i * 4)).ToArray();
}
