using System.Buffers.Binary;
using System.Text;

namespace Appliance.Bpf.Objects;

/// <summary>The <c>.kconfig</c> map's value being filled: each extern set at most once, from a y/n/m letter, a quoted
/// string or a number, with libbpf's checks (set_kcfg_value_tri, _str, _num): a value of the wrong kind for the
/// extern's type, or a number that does not fit it, is an error (the reason, or null when it was set).</summary>
public sealed class KconfigValues
{
    private readonly IReadOnlyList<KconfigExtern> _externs;
    private readonly bool[] _set;

    public KconfigValues(IReadOnlyList<KconfigExtern> externs, int size)
    {
        _externs = externs;
        _set = new bool[externs.Count];
        Data = new byte[size];
    }

    /// <summary>The value: each extern's bytes at its offset, zeros where none was set.</summary>
    public byte[] Data { get; }

    public IReadOnlyList<KconfigExtern> Externs => _externs;

    public bool IsSet(int index) => _set[index];

    /// <summary>The extern of this name, or -1.</summary>
    public int Find(ReadOnlySpan<byte> name)
    {
        for (int i = 0; i < _externs.Count; i++)
            if (Ascii(_externs[i].Name, name)) return i;
        return -1;
    }

    /// <summary>y, n or m: a bool takes y/n, a tristate all three, a char the letter itself.</summary>
    public string? SetTristate(int index, byte letter)
    {
        var e = _externs[index];
        var at = Data.AsSpan(e.Offset, e.Size);
        switch (e.Type)
        {
            case KconfigType.Bool when letter != (byte)'m':
                at[0] = letter == (byte)'y' ? (byte)1 : (byte)0;
                break;
            case KconfigType.Bool:
                return $"extern (__kconfig) '{e.Name}': value 'm' is a tristate's, and the extern is a bool";
            case KconfigType.Tristate:
                BinaryPrimitives.WriteInt32LittleEndian(at, letter switch { (byte)'y' => 1, (byte)'m' => 2, _ => 0 });
                break;
            case KconfigType.Char:
                at[0] = letter;
                break;
            default:
                return $"extern (__kconfig) '{e.Name}': value '{(char)letter}' is a bool's, tristate's or char's, and the extern is {Describe(e)}";
        }
        _set[index] = true;
        return null;
    }

    /// <summary>A quoted string ("…", the quotes included) into a char array, cut to the array's size less its NUL.</summary>
    public string? SetString(int index, ReadOnlySpan<byte> quoted)
    {
        var e = _externs[index];
        if (e.Type != KconfigType.CharArray)
            return $"extern (__kconfig) '{e.Name}': value {Show(quoted)} is a string, and the extern is {Describe(e)}";
        if (quoted.Length < 2 || quoted[^1] != (byte)'"')
            return $"extern (__kconfig) '{e.Name}': value {Show(quoted)} is not a quoted string";
        var text = quoted[1..^1];
        if (text.Length >= e.Size) text = text[..(e.Size - 1)]; // libbpf cuts it short too (and warns)
        var at = Data.AsSpan(e.Offset, e.Size);
        text.CopyTo(at);
        at[text.Length] = 0;
        _set[index] = true;
        return null;
    }

    /// <summary>A number into an integer, a char or (0 or 1) a bool of the extern's size, which it must fit: an
    /// unsigned one in its bits, a signed one in its range (a negative number is 2^64 less its size, as libbpf reads it).</summary>
    public string? SetNumber(int index, ulong value)
    {
        var e = _externs[index];
        if (e.Type is not (KconfigType.Int or KconfigType.Char or KconfigType.Bool))
            return $"extern (__kconfig) '{e.Name}': value {value} is a number, and the extern is {Describe(e)}";
        if (e.Type == KconfigType.Bool && value > 1)
            return $"extern (__kconfig) '{e.Name}': value {value} is not a bool's (0 or 1)";
        if (!Fits(e, value))
            return $"extern (__kconfig) '{e.Name}': value {value} (0x{value:x}) does not fit its {e.Size} byte{(e.Size == 1 ? "" : "s")}"
                + (e.Signed ? " (signed)" : "");
        var at = Data.AsSpan(e.Offset, e.Size);
        switch (e.Size)
        {
            case 1: at[0] = (byte)value; break;
            case 2: BinaryPrimitives.WriteUInt16LittleEndian(at, (ushort)value); break;
            case 4: BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)value); break;
            default: BinaryPrimitives.WriteUInt64LittleEndian(at, value); break;
        }
        _set[index] = true;
        return null;
    }

    /// <summary>libbpf's is_kcfg_value_in_range.</summary>
    private static bool Fits(KconfigExtern e, ulong value)
    {
        if (e.Size == 8) return true;
        int bits = e.Size * 8;
        return e.Signed ? value + (1UL << (bits - 1)) < 1UL << bits : value >> bits == 0;
    }

    public static string Describe(KconfigExtern e) => e.Type switch
    {
        KconfigType.Char => "a char",
        KconfigType.Bool => "a bool",
        KconfigType.Int => $"a {e.Size}-byte integer",
        KconfigType.Tristate => "an enum libbpf_tristate",
        _ => $"a char[{e.Size}]",
    };

    /// <summary>A value for a message: as text where it is printable ASCII, else its bytes in hex; at most 80 bytes.</summary>
    public static string Show(ReadOnlySpan<byte> value)
    {
        var cut = value.Length > 80 ? value[..80] : value;
        foreach (byte b in cut)
            if (b is < 0x20 or > 0x7e) return $"0x{Convert.ToHexString(cut)}{(cut.Length < value.Length ? "…" : "")} ({value.Length} bytes)";
        return $"'{Encoding.ASCII.GetString(cut)}{(cut.Length < value.Length ? "…" : "")}'";
    }

    private static bool Ascii(string name, ReadOnlySpan<byte> bytes)
    {
        if (name.Length != bytes.Length) return false;
        for (int i = 0; i < bytes.Length; i++)
            if (name[i] != bytes[i]) return false;
        return true;
    }
}
