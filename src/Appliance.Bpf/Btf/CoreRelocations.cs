using System.Buffers.Binary;
using Appliance.Bpf.Context;
using Appliance.Bpf.Objects;

namespace Appliance.Bpf.Btf;

/// <summary>CO-RE relocations (`.BTF.ext` core_relo records, as clang emits for programs built against
/// vmlinux.h or with preserve_access_index) resolved the way libbpf does, against the appliance's own types:
/// the tc context <c>__sk_buff</c> (checked field by field against <see cref="SkBuffLayout"/>), the packet
/// headers, whose layout is the wire format (ethhdr, vlan_hdr, iphdr, ipv6hdr, in6_addr, tcphdr, udphdr,
/// icmphdr, icmp6hdr, arphdr, gre_base_hdr; sizes checked), and the uAPI's <c>bpf_*</c> enums. For those the
/// target layout is the program's own, so field offsets, sizes, bitfield shifts and enum values keep what clang
/// wrote, and field-exists / type-exists / enum-value-exists give 1 — except that a value of <c>enum bpf_func_id</c>
/// exists when the appliance has that helper (<see cref="Helpers.LinuxHelperTable"/>), so libbpf's usual check for a
/// helper, <c>bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_x)</c>, leaves the call to a helper the appliance
/// lacks in dead code, as a kernel without it would. Any other type (kernel internals such as
/// sk_buff or task_struct), and a field the appliance's __sk_buff lacks, do not exist here: existence checks give 0
/// and every other relocation is a <see cref="CoreFailure"/> naming the type and field. libbpf poisons such an
/// instruction and the kernel refuses a program only where a path reaches it; so does the verifier
/// (<see cref="BpfProgramImage.Poisoned"/>): a read guarded by an existence check that gave 0 loads, and an object's
/// tc programs load beside an XDP or tracing program whose relocations name kernel types.</summary>
public static class CoreRelocations
{
    private enum Kind : uint
    {
        FieldByteOffset = 0, FieldByteSize = 1, FieldExists = 2, FieldSigned = 3, FieldLShift = 4, FieldRShift = 5,
        TypeIdLocal = 6, TypeIdTarget = 7, TypeExists = 8, TypeSize = 9, EnumValueExists = 10, EnumValue = 11, TypeMatches = 12,
    }

    private static readonly Dictionary<string, int> PacketHeaders = new()
    {
        ["ethhdr"] = 14, ["vlan_hdr"] = 4, ["iphdr"] = 20, ["ipv6hdr"] = 40, ["in6_addr"] = 16, ["tcphdr"] = 20,
        ["udphdr"] = 8, ["icmphdr"] = 8, ["icmp6hdr"] = 8, ["arphdr"] = 8, ["gre_base_hdr"] = 4,
    };

    /// <summary>Applies the object's CO-RE relocations to the code sections (instructions patched in place) and
    /// returns those that cannot be resolved here. A malformed .BTF.ext throws <see cref="BpfLoadException"/>.</summary>
    public static List<CoreFailure> Apply(ReadOnlySpan<byte> btfExt, BtfTypes btf, IReadOnlyDictionary<string, CodeSection> sections, string where)
    {
        var failures = new List<CoreFailure>();
        if (btfExt.Length < 8) throw new BpfLoadException($"{where}: section '.BTF.ext' is shorter than its header");
        uint hdrLen = U32(btfExt, 4);
        if (hdrLen < 32) return failures; // no core_relo part
        if (btfExt.Length < 32) throw new BpfLoadException($"{where}: section '.BTF.ext' is shorter than its {hdrLen}-byte header");
        uint reloOff = U32(btfExt, 24), reloLen = U32(btfExt, 28);
        if (reloLen == 0) return failures;
        if ((ulong)hdrLen + reloOff + reloLen > (ulong)btfExt.Length)
            throw new BpfLoadException($"{where}: '.BTF.ext' core relocations point past the section");
        if (reloLen < 4) throw new BpfLoadException($"{where}: '.BTF.ext' core relocations of {reloLen} bytes have no record size");
        var data = btfExt.Slice((int)(hdrLen + reloOff), (int)reloLen);
        uint recordSize = U32(data, 0);
        if (recordSize < 16) throw new BpfLoadException($"{where}: '.BTF.ext' core relocation records of {recordSize} bytes");
        int pos = 4;
        while (pos + 8 <= data.Length)
        {
            string section = btf.StringAt(U32(data, pos)) ?? throw new BpfLoadException($"{where}: '.BTF.ext' names a section outside the string area");
            uint count = U32(data, pos + 4);
            pos += 8;
            if ((ulong)pos + (ulong)count * recordSize > (ulong)data.Length)
                throw new BpfLoadException($"{where}: '.BTF.ext' core relocations for '{section}' are cut off");
            sections.TryGetValue(section, out var code);
            for (uint i = 0; i < count; i++, pos += (int)recordSize)
            {
                if (code is null) throw new BpfLoadException($"{where}: CO-RE relocations for section '{section}', which has no code");
                uint insnOff = U32(data, pos);
                int typeId = (int)U32(data, pos + 4);
                string access = btf.StringAt(U32(data, pos + 8)) ?? "";
                var kind = (Kind)U32(data, pos + 12);
                if (insnOff % 8 != 0 || insnOff / 8 >= (uint)code.Instructions.Length)
                    throw new BpfLoadException($"{where}: CO-RE relocation at byte {insnOff} of '{section}' is not an instruction");
                if (Resolve(btf, code.Instructions, (int)(insnOff / 8), typeId, access, kind) is { } why)
                    failures.Add(new CoreFailure(section, (int)(insnOff / 8), $"{section}+{insnOff / 8}: {why}"));
            }
        }
        return failures;
    }

    /// <summary>Resolves one relocation; returns why it cannot be, or null.</summary>
    private static string? Resolve(BtfTypes btf, ulong[] code, int index, int typeId, string access, Kind kind)
    {
        int root = btf.SkipModifiers(typeId);
        string name = Essential(btf.Name(root));
        bool known = IsApplianceType(btf, root, name, access, out string? why);
        switch (kind)
        {
            case Kind.EnumValueExists when known && name == "bpf_func_id":
                if (!HelperExists(btf, root, access)) SetImm(code, index, 0);
                return null;
            case Kind.FieldExists or Kind.TypeExists or Kind.EnumValueExists or Kind.TypeMatches:
                if (!known) SetImm(code, index, 0);
                return null;
            case Kind.TypeIdLocal or Kind.TypeIdTarget:
                return null; // BTF ids only matter to kernel-BTF helpers, which the appliance does not have
            default:
                // Known: the appliance's layout is the program's, so clang's values stand.
                return known ? null : $"CO-RE relocation ({kind}) on '{btf.Name(root)}' access {access}: {why}";
        }
    }

    /// <summary>Whether the helper the <c>enum bpf_func_id</c> entry named by <paramref name="access"/> (its index, as
    /// clang writes an enum value's access string) stands for is one the appliance has.</summary>
    private static bool HelperExists(BtfTypes btf, int root, string access)
    {
        return int.TryParse(access, out int entry) && btf.EnumValue(root, entry) is long id
            && id is > 0 and <= int.MaxValue && Helpers.LinuxHelperTable.Instance.IsDefined((int)id);
    }

    /// <summary>Whether the appliance has the type (and, for a field access, the field) the relocation names.</summary>
    private static bool IsApplianceType(BtfTypes btf, int root, string name, string access, out string? why)
    {
        why = null;
        var kind = btf.Kind(root);
        if (kind is BtfKind.Enum or BtfKind.Enum64)
        {
            if (name.StartsWith("bpf_", StringComparison.Ordinal) || name.StartsWith("BPF_", StringComparison.Ordinal)) return true;
            why = $"enum '{name}' is not a uAPI bpf_* enum the appliance knows";
            return false;
        }
        if (name == "__sk_buff")
            return SkBuffFieldMatches(btf, root, access, out why);
        if (PacketHeaders.TryGetValue(name, out int size))
        {
            if (btf.SizeOf(root) == size) return true;
            why = $"'{name}' is {btf.SizeOf(root)} bytes here, the wire format is {size}";
            return false;
        }
        why = $"'{name}' is not a type the appliance has (its types: __sk_buff, the packet headers, the bpf_* enums)";
        return false;
    }

    /// <summary>The first member the access string names, checked against the appliance's __sk_buff.</summary>
    private static bool SkBuffFieldMatches(BtfTypes btf, int root, string access, out string? why)
    {
        why = null;
        var parts = access.Split(':');
        if (parts.Length < 2) return true; // the type itself
        if (!int.TryParse(parts[1], out int member)) { why = $"bad access string '{access}'"; return false; }
        var members = btf.Members(root);
        if ((uint)member >= (uint)members.Count) { why = $"member {member} does not exist"; return false; }
        var m = members[member];
        int offset = (int)(m.BitOffset / 8);
        string field = SkBuffLayout.FieldName(offset);
        // Anonymous members are the __bpf_md_ptr unions around flow_keys and sk.
        string expected = m.Name == "cb" ? "cb[0]" : m.Name.Length == 0 && field is "flow_keys" or "sk" ? field : m.Name;
        if (offset < SkBuffLayout.Size && field == expected) return true;
        why = $"__sk_buff.{m.Name} is at offset {offset} in the program, where the appliance has {field}";
        return false;
    }

    /// <summary>"iphdr___older" → "iphdr" (libbpf's flavor suffix).</summary>
    private static string Essential(string name)
    {
        int i = name.IndexOf("___", StringComparison.Ordinal);
        return i > 0 ? name[..i] : name;
    }

    private static void SetImm(ulong[] code, int index, int imm) =>
        code[index] = (code[index] & 0x0000_0000_ffff_ffffUL) | ((ulong)(uint)imm << 32);

    private static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
}

/// <summary>A CO-RE relocation the appliance cannot resolve: instruction <paramref name="Index"/> of code section
/// <paramref name="Section"/>, and why ("tc+12: CO-RE relocation (FieldByteOffset) on 'task_struct' …").</summary>
public sealed record CoreFailure(string Section, int Index, string Reason);
