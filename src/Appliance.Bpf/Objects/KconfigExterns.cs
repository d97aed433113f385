using Appliance.Bpf.Btf;
using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Objects;

/// <summary>The object's <c>__kconfig</c> externs, found and laid out as libbpf's bpf_object__collect_externs does:
/// the undefined symbols whose BTF variable sits in the <c>.kconfig</c> DATASEC, each with a type libbpf takes
/// (<see cref="KconfigType"/>), sorted by alignment (largest first), then size (smallest first), then name, and placed
/// one after the other at their alignment. clang leaves every offset of that DATASEC 0; this layout is the one the
/// kernel's programs see through libbpf, so the <c>.kconfig</c> map holds the same bytes here as there. A type libbpf
/// refuses, or a variable without its symbol, refuses the object.</summary>
public static class KconfigExterns
{
    public const string Section = ".kconfig";

    /// <summary>The externs in layout order with their offsets, and the value size (0 when there are none).</summary>
    public static (IReadOnlyList<KconfigExtern> Externs, int Size) Collect(ElfFile elf, BtfTypes? btf)
    {
        int sec = btf?.FindDataSec(Section) ?? 0;
        if (sec == 0) return ([], 0);
        var symbols = new Dictionary<string, ElfSymbol>(StringComparer.Ordinal);
        foreach (var s in elf.Symbols)
            if (s.IsUndefined && s.Type == ElfConstants.SymbolNoType && s.Name.Length > 0) symbols.TryAdd(s.Name, s);
        var externs = new List<KconfigExtern>();
        foreach (var member in btf!.Members(sec))
        {
            string name = member.Name;
            if (btf.Kind(member.TypeId) != BtfKind.Var)
                throw elf.Error($"extern '{name}' in {Section} is a {btf.Kind(member.TypeId)}: only variables can be __kconfig (libbpf refuses extern functions there)");
            if (!symbols.TryGetValue(name, out var symbol))
                throw elf.Error($"BTF declares '{name}' in {Section}, but the object has no extern symbol of that name");
            if (externs.Exists(e => e.Name == name))
                throw elf.Error($"BTF declares '{name}' in {Section} twice");
            int type = btf.RefType(member.TypeId);
            var (kind, signed) = Classify(btf, type);
            long size = kind is null ? 0 : btf.SizeOf(type);
            int align = kind is null ? 0 : AlignOf(btf, type);
            if (kind is not { } k || size <= 0 || align <= 0)
                throw elf.Error($"extern (__kconfig) '{name}': its type is not one libbpf takes (bool, char, an integer of 1, 2, 4 or 8 bytes, "
                    + "enum libbpf_tristate, or a char array)");
            if ((ulong)size > GlobalDataMaps.MaxValueSize)
                throw elf.Error($"extern (__kconfig) '{name}': {size} bytes is more than the {GlobalDataMaps.MaxValueSize >> 20} MiB a map value may hold here");
            externs.Add(new KconfigExtern(name, symbol.IsWeak, k, (int)size, align, signed));
        }
        externs.Sort((a, b) => a.Align != b.Align ? b.Align.CompareTo(a.Align)
            : a.Size != b.Size ? a.Size.CompareTo(b.Size)
            : string.CompareOrdinal(a.Name, b.Name));
        int offset = 0;
        for (int i = 0; i < externs.Count; i++)
        {
            var e = externs[i];
            int at = (offset + e.Align - 1) / e.Align * e.Align;
            externs[i] = e with { Offset = at };
            offset = at + e.Size;
            if ((ulong)offset > GlobalDataMaps.MaxValueSize)
                throw elf.Error($"{Section}: its externs take more than the {GlobalDataMaps.MaxValueSize >> 20} MiB a map value may hold here");
        }
        return (externs, offset);
    }

    /// <summary>libbpf's find_kcfg_type: the extern's kind, or null for a type libbpf does not take.</summary>
    private static (KconfigType? Kind, bool Signed) Classify(BtfTypes btf, int type)
    {
        int id = btf.SkipModifiers(type);
        switch (btf.Kind(id))
        {
            case BtfKind.Int:
            {
                int encoding = btf.IntEncoding(id);
                uint size = btf.SizeOrType(id);
                if ((encoding & BtfTypes.IntBool) != 0) return (size == 1 ? KconfigType.Bool : null, false);
                bool signed = (encoding & BtfTypes.IntSigned) != 0;
                if (size == 1) return (KconfigType.Char, signed);
                return (size is 2 or 4 or 8 ? KconfigType.Int : null, signed);
            }
            case BtfKind.Enum:
                return (btf.SizeOrType(id) == 4 && btf.Name(id) == "libbpf_tristate" ? KconfigType.Tristate : null, false);
            case BtfKind.Enum64:
                return (btf.Name(id) == "libbpf_tristate" ? KconfigType.Tristate : null, false);
            case BtfKind.Array:
            {
                var (element, count) = btf.Array(id);
                return (count > 0 && Classify(btf, element).Kind == KconfigType.Char ? KconfigType.CharArray : null, false);
            }
            default:
                return (null, false);
        }
    }

    /// <summary>libbpf's btf__align_of for the types <see cref="Classify"/> takes: a scalar aligns to its size (at most
    /// 8), an array to its element.</summary>
    private static int AlignOf(BtfTypes btf, int type)
    {
        int id = btf.SkipModifiers(type);
        return btf.Kind(id) == BtfKind.Array ? AlignOf(btf, btf.Array(id).ElementType) : (int)Math.Min(8u, btf.SizeOrType(id));
    }
}
