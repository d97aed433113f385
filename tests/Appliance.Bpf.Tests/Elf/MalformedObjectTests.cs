using System.Buffers.Binary;
using Appliance.Bpf.Elf;
using Appliance.Bpf.Objects;
using Xunit;

namespace Appliance.Bpf.Tests.Elf;

/// <summary>Broken object files give a <see cref="BpfLoadException"/> whose message names what is wrong
/// and where — never another exception.</summary>
public class MalformedObjectTests
{
    private static byte[] Valid() => TestObjects.ExampleBytes("allow_port");

    [Fact]
    public void EmptyAndTruncatedHeader()
    {
        var e = Load(Array.Empty<byte>());
        Assert.Contains("shorter than an ELF header", e.Message);
        e = Load(Valid()[..40]);
        Assert.Contains("40 bytes", e.Message);
    }

    [Fact]
    public void TruncatedFileNamesTheSectionPastTheEnd()
    {
        var bytes = Valid();
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        // Keep the header table but drop the data of later sections: move the table to the front is not
        // possible, so cut the file just after the table's end and point the table at a copy there.
        var e = Load(bytes[..(int)(shoff / 2)]);
        Assert.Contains("section header table", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void BadMagic()
    {
        var bytes = Valid();
        bytes[1] = (byte)'X';
        Assert.Contains("bad magic", Load(bytes).Message);
    }

    [Fact]
    public void WrongMachine()
    {
        var bytes = Valid();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(18), 62); // EM_X86_64
        var e = Load(bytes);
        Assert.Contains("machine 62 is not BPF", e.Message);
    }

    [Fact]
    public void BigEndianAndElf32AreRefused()
    {
        var bytes = Valid();
        bytes[5] = 2;
        Assert.Contains("not little-endian", Load(bytes).Message);
        bytes = Valid();
        bytes[4] = 1;
        Assert.Contains("ELFCLASS64", Load(bytes).Message);
    }

    [Fact]
    public void SectionOffsetOutOfRangeNamesTheSection()
    {
        var bytes = Valid();
        int index = SectionIndex(bytes, "netkit/peer");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(HeaderAt(bytes, index) + 24), 0x7fff_0000);
        var e = Load(bytes);
        Assert.Contains($"section #{index}: offset 0x7fff0000", e.Message);
        Assert.Contains("past the end of the file", e.Message);
    }

    [Fact]
    public void BadRelocationSymbolIndexNamesTheRelocationSection()
    {
        var bytes = Valid();
        var elf = ElfFile.Parse(bytes, "x");
        var rel = elf.FindSection(".relnetkit/peer")!;
        int entry = (int)rel.Offset + 16; // second entry's r_info
        ulong info = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(entry + 8));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(entry + 8), (9999UL << 32) | (uint)info);
        var e = Load(bytes);
        Assert.Contains("section '.relnetkit/peer'", e.Message);
        Assert.Contains("entry 1: symbol index 9999 is out of range", e.Message);
    }

    [Fact]
    public void RelocationOnAnInstructionThatIsNotLddwNamesSectionAndInstruction()
    {
        var bytes = Valid();
        var elf = ElfFile.Parse(bytes, "x");
        var rel = elf.FindSection(".relnetkit/peer")!;
        var code = elf.FindSection("netkit/peer")!;
        ulong target = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)rel.Offset));
        bytes[(int)code.Offset + (int)target] = 0xb7; // mov r, imm instead of lddw
        var e = Load(bytes);
        Assert.Contains($"section 'netkit/peer' (#{code.Index}) instruction {target / 8}", e.Message);
        Assert.Contains("not lddw", e.Message);
    }

    [Fact]
    public void CorruptBtfNamesTheBtfSection()
    {
        var bytes = Valid();
        var btf = ElfFile.Parse(bytes, "x").FindSection(".BTF")!;
        bytes[(int)btf.Offset] = 0;
        var e = Load(bytes);
        Assert.Contains("section '.BTF'", e.Message);
        Assert.Contains("bad magic", e.Message);
    }

    [Fact]
    public void BtfMapsWithoutBtfSayCompileWithDashG()
    {
        var bytes = Valid();
        var elf = ElfFile.Parse(bytes, "x");
        var names = elf.Sections[BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(62))];
        int at = System.Text.Encoding.ASCII.GetString(bytes, (int)names.Offset, (int)names.Size).IndexOf(".BTF\0", StringComparison.Ordinal);
        Assert.True(at >= 0);
        bytes[(int)names.Offset + at + 3] = (byte)'X'; // ".BTF" becomes ".BTX": the object now has no BTF
        var e = Load(bytes);
        Assert.Contains("section '.maps'", e.Message);
        Assert.Contains("clang -g", e.Message);
    }

    [Fact]
    public void TwoExecutableSectionsOfOneNameAreRefused()
    {
        // allow_port has an empty .text beside netkit/peer: give it netkit/peer's name and its first instruction.
        var bytes = Valid();
        var elf = ElfFile.Parse(bytes, "x");
        int text = HeaderAt(bytes, elf.FindSection(".text")!.Index), peer = HeaderAt(bytes, elf.FindSection("netkit/peer")!.Index);
        bytes.AsSpan(peer, 4).CopyTo(bytes.AsSpan(text)); // sh_name
        bytes.AsSpan(peer + 24, 8).CopyTo(bytes.AsSpan(text + 24)); // sh_offset
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(text + 32), 8); // sh_size
        var e = Load(bytes);
        Assert.Contains("two executable sections are named 'netkit/peer'", e.Message);
    }

    /// <summary>A .bss takes no file bytes, so its size is not bounded by the file: a few-KB object claiming a 2 GiB .bss
    /// is refused before anything is allocated (it threw OutOfMemoryException; found by fuzzing).</summary>
    [Fact]
    public void HugeBssIsRefusedBeforeItIsAllocated()
    {
        var bytes = Valid();
        var bss = ElfFile.Parse(bytes, "x").FindSection(".bss")!;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(HeaderAt(bytes, bss.Index) + 32), 0x7fff_ffff);
        var e = Load(bytes);
        Assert.Contains($"section '.bss' (#{bss.Index}): 2147483647 bytes of global data", e.Message);
        Assert.Contains("4 MiB", e.Message);
    }

    [Fact]
    public void MissingFileSaysItCannotBeRead()
    {
        var e = Assert.Throws<BpfLoadException>(() => BpfObjectLoader.Load("/nonexistent/mapp/none.bpf.o"));
        Assert.Contains("cannot read the object file", e.Message);
    }

    /// <summary>Thousands of random corruptions of every example: each load either succeeds or throws
    /// BpfLoadException; any other exception fails the test, naming the seed and round that reproduce it (each run
    /// draws a new seed, so runs cover different corruptions).</summary>
    [Theory]
    [MemberData(nameof(ExampleObjectTests.ExampleNames), MemberType = typeof(ExampleObjectTests))]
    public void RandomCorruptionsOnlyEverGiveBpfLoadException(string example) => CorruptAndLoad(example, Random.Shared.Next());

    /// <summary>Corruptions an earlier run of the test above found (seed and example it named).</summary>
    [Theory]
    [InlineData("allow_port", 78)] // a .BTF.ext whose core relocation part is under 4 bytes
    public void CorruptionsFoundBeforeGiveBpfLoadException(string example, int seed) => CorruptAndLoad(example, seed);

    private static void CorruptAndLoad(string example, int seed)
    {
        var original = TestObjects.ExampleBytes(example);
        var rng = new Random(seed);
        int refused = 0;
        for (int round = 0; round < 1500; round++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + rng.Next(8);
            for (int f = 0; f < flips; f++)
            {
                // Bias towards the headers and tables, where corruption matters most.
                int at = rng.Next(3) == 0 ? rng.Next(Math.Min(64, bytes.Length)) : rng.Next(bytes.Length);
                bytes[at] = (byte)rng.Next(256);
            }
            if (rng.Next(10) == 0) bytes = bytes[..rng.Next(bytes.Length)];
            try
            {
                BpfObjectLoader.Load(bytes, $"{example}#{round}");
            }
            catch (BpfLoadException)
            {
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{example} with seed {seed}, round {round}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        Assert.True(refused > 0, "no corruption was refused; the mutator is not reaching the file");
    }

    private static BpfLoadException Load(byte[] bytes) =>
        Assert.Throws<BpfLoadException>(() => BpfObjectLoader.Load(bytes, "broken.bpf.o"));

    private static int SectionIndex(byte[] bytes, string name) => ElfFile.Parse(bytes, "x").FindSection(name)!.Index;

    private static int HeaderAt(byte[] bytes, int index) =>
        (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40)) + index * 64;
}
