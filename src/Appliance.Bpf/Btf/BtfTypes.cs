using System.Buffers.Binary;
using Appliance.Bpf.Elf;

namespace Appliance.Bpf.Btf;

/// <summary>The type table of a `.BTF` section: every type by ID (1-based; 0 is void), with the
/// queries the loader needs (sizes, modifiers skipped, struct members, arrays, DATASECs). Parsing is
/// bounds-checked; errors name `.BTF` and the type ID.</summary>
public sealed class BtfTypes
{
    private const int RecordHeader = 12;
    private const int MaxResolveDepth = 32;

    private readonly byte[] _types;
    private readonly byte[] _strings;
    private readonly List<int> _offsets = [0]; // byte offset of each type's record in _types; [0] = void
    private readonly string _where;

    private BtfTypes(byte[] types, byte[] strings, string where)
    {
        _types = types;
        _strings = strings;
        _where = where;
    }

    public int Count => _offsets.Count - 1;

    /// <summary>Parses the `.BTF` section's header, type area and string area.</summary>
    public static BtfTypes Parse(ReadOnlySpan<byte> section, string fileName)
    {
        string where = $"{fileName}: section '.BTF'";
        if (section.Length < 24)
            throw new Objects.BpfLoadException($"{where}: {section.Length} bytes is shorter than the BTF header (24 bytes)");
        ushort magic = BinaryPrimitives.ReadUInt16LittleEndian(section);
        if (magic != 0xEB9F)
            throw new Objects.BpfLoadException($"{where}: bad magic 0x{magic:x4} (expected 0xeb9f, little-endian BTF)");
        uint hdrLen = U32(section, 4), typeOff = U32(section, 8), typeLen = U32(section, 12),
            strOff = U32(section, 16), strLen = U32(section, 20);
        ulong avail = (ulong)section.Length;
        if (hdrLen < 24 || hdrLen > avail
            || (ulong)hdrLen + typeOff + typeLen > avail || (ulong)hdrLen + strOff + strLen > avail)
            throw new Objects.BpfLoadException($"{where}: header (hdr_len {hdrLen}, types {typeOff}+{typeLen}, strings {strOff}+{strLen}) points past the section ({section.Length} bytes)");
        var btf = new BtfTypes(
            section.Slice((int)(hdrLen + typeOff), (int)typeLen).ToArray(),
            section.Slice((int)(hdrLen + strOff), (int)strLen).ToArray(), where);
        btf.Index();
        return btf;
    }

    private void Index()
    {
        int pos = 0;
        while (pos < _types.Length)
        {
            int id = _offsets.Count;
            if (_types.Length - pos < RecordHeader)
                throw Error(id, $"record at byte {pos} is cut off by the end of the type area");
            uint info = U32(_types, pos + 4);
            var kind = (BtfKind)((info >> 24) & 0x1f);
            int vlen = (int)(info & 0xffff);
            int trailing = kind switch
            {
                BtfKind.Int => 4,
                BtfKind.Ptr or BtfKind.Fwd or BtfKind.Typedef or BtfKind.Volatile or BtfKind.Const
                    or BtfKind.Restrict or BtfKind.Func or BtfKind.Float or BtfKind.TypeTag => 0,
                BtfKind.Array => 12,
                BtfKind.Struct or BtfKind.Union => vlen * 12,
                BtfKind.Enum => vlen * 8,
                BtfKind.FuncProto => vlen * 8,
                BtfKind.Var => 4,
                BtfKind.DataSec => vlen * 12,
                BtfKind.DeclTag => 4,
                BtfKind.Enum64 => vlen * 12,
                _ => throw Error(id, $"unknown kind {(int)kind}; this BTF is newer than the loader understands"),
            };
            if (_types.Length - pos - RecordHeader < trailing)
                throw Error(id, $"{kind} record with {vlen} entries is cut off by the end of the type area");
            _offsets.Add(pos);
            pos += RecordHeader + trailing;
        }
    }

    public BtfKind Kind(int id) => id == 0 ? BtfKind.Unknown : (BtfKind)((Info(id) >> 24) & 0x1f);
    public int Vlen(int id) => (int)(Info(id) & 0xffff);
    public string Name(int id) => id == 0 ? "void" : String(U32(_types, Offset(id)), id);

    /// <summary>The size field of INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, or the referenced type of the others.</summary>
    public uint SizeOrType(int id) => U32(_types, Offset(id) + 8);

    /// <summary>Follows typedef/const/volatile/restrict/type_tag to the underlying type.</summary>
    public int SkipModifiers(int id)
    {
        for (int depth = 0; depth < MaxResolveDepth; depth++)
        {
            switch (Kind(id))
            {
                case BtfKind.Typedef or BtfKind.Const or BtfKind.Volatile or BtfKind.Restrict or BtfKind.TypeTag:
                    id = RefType(id);
                    break;
                default:
                    return id;
            }
        }
        throw Error(id, "modifier chain is too long (a cycle?)");
    }

    /// <summary>sizeof the type in bytes, as C would compute it.</summary>
    public long SizeOf(int id) => SizeOf(id, 0);

    private long SizeOf(int id, int depth)
    {
        if (depth > MaxResolveDepth) throw Error(id, "type chain is too deep to size (a cycle?)");
        id = SkipModifiers(id);
        return Kind(id) switch
        {
            BtfKind.Int or BtfKind.Struct or BtfKind.Union or BtfKind.Enum or BtfKind.Enum64
                or BtfKind.Float or BtfKind.DataSec => SizeOrType(id),
            BtfKind.Ptr => 8,
            BtfKind.Array => Array(id).Count * SizeOf(Array(id).ElementType, depth + 1),
            BtfKind.Var => SizeOf(RefType(id), depth + 1),
            var k => throw Error(id, $"a {k} has no size"),
        };
    }

    /// <summary>An INT's encoding bits (BTF_INT_SIGNED 1, BTF_INT_CHAR 2, BTF_INT_BOOL 4).</summary>
    public int IntEncoding(int id)
    {
        Expect(id, BtfKind.Int);
        return (int)(U32(_types, Offset(id) + RecordHeader) >> 24) & 0xf;
    }

    public const int IntSigned = 1, IntBool = 4;

    /// <summary>An ARRAY's element type and element count.</summary>
    public (int ElementType, uint Count) Array(int id)
    {
        Expect(id, BtfKind.Array);
        int o = Offset(id) + RecordHeader;
        return (CheckedId(U32(_types, o), id), U32(_types, o + 8));
    }

    /// <summary>The referenced type of PTR/TYPEDEF/modifiers/VAR/FUNC.</summary>
    public int RefType(int id) => CheckedId(SizeOrType(id), id);

    /// <summary>Members of a STRUCT/UNION, or entries of a DATASEC (named after their VAR).</summary>
    public List<BtfMember> Members(int id)
    {
        var kind = Kind(id);
        int n = Vlen(id), o = Offset(id) + RecordHeader;
        var list = new List<BtfMember>(n);
        if (kind is BtfKind.Struct or BtfKind.Union)
        {
            bool bitfields = (Info(id) & 0x80000000) != 0;
            for (int i = 0; i < n; i++, o += 12)
            {
                uint off = U32(_types, o + 8);
                list.Add(new BtfMember(String(U32(_types, o), id), CheckedId(U32(_types, o + 4), id),
                    bitfields ? off & 0xffffff : off));
            }
        }
        else if (kind == BtfKind.DataSec)
        {
            for (int i = 0; i < n; i++, o += 12)
            {
                int var = CheckedId(U32(_types, o), id);
                list.Add(new BtfMember(Name(var), var, U32(_types, o + 4) * 8, U32(_types, o + 8)));
            }
        }
        else
        {
            throw Error(id, $"is a {kind}, not a struct, union or DATASEC");
        }
        return list;
    }

    /// <summary>The value of entry <paramref name="index"/> of an ENUM (sign-extended) or ENUM64, or null when it has no such entry.</summary>
    public long? EnumValue(int id, int index)
    {
        var kind = Kind(id);
        if (kind is not (BtfKind.Enum or BtfKind.Enum64)) throw Error(id, $"is a {kind}, not an enum");
        if ((uint)index >= (uint)Vlen(id)) return null;
        int o = Offset(id) + RecordHeader;
        return kind == BtfKind.Enum
            ? (int)U32(_types, o + index * 8 + 4)
            : (long)(U32(_types, o + index * 12 + 4) | (ulong)U32(_types, o + index * 12 + 8) << 32);
    }

    /// <summary>A string of the `.BTF` string area (names, CO-RE access strings), or null when out of range.</summary>
    public string? StringAt(uint offset) => ElfFile.ReadString(_strings, offset);

    /// <summary>The ID of the DATASEC with this name (".maps", ".data" …), or 0.</summary>
    public int FindDataSec(string name)
    {
        for (int id = 1; id <= Count; id++)
            if (Kind(id) == BtfKind.DataSec && Name(id) == name) return id;
        return 0;
    }

    public Objects.BpfLoadException Error(int id, string what) => new($"{_where}: type [{id}] {what}");

    private void Expect(int id, BtfKind kind)
    {
        if (Kind(id) != kind) throw Error(id, $"is a {Kind(id)}, expected {kind}");
    }

    private int CheckedId(uint id, int referrer) =>
        id <= (uint)Count ? (int)id : throw Error(referrer, $"refers to type [{id}], but there are only {Count} types");

    private uint Info(int id) => U32(_types, Offset(id) + 4);

    private int Offset(int id) =>
        id > 0 && id < _offsets.Count ? _offsets[id] : throw Error(id, $"does not exist (there are {Count} types)");

    private string String(uint off, int id) =>
        ElfFile.ReadString(_strings, off) ?? throw Error(id, $"name offset {off} is outside the string area ({_strings.Length} bytes)");

    private static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
}
