namespace Appliance.Bpf.Objects;

/// <summary>The C types a <c>__kconfig</c> extern may have, as libbpf's find_kcfg_type sorts them.</summary>
public enum KconfigType
{
    /// <summary>A one-byte integer (<c>char</c>): takes y/n/m as the letter, or a number.</summary>
    Char,

    /// <summary><c>bool</c>: takes y or n.</summary>
    Bool,

    /// <summary>An integer of 2, 4 or 8 bytes: takes a number (decimal, hex 0x…, octal 0…), range-checked.</summary>
    Int,

    /// <summary><c>enum libbpf_tristate</c>: y = 1, n = 0, m = 2.</summary>
    Tristate,

    /// <summary>A <c>char</c> array: takes a quoted string, cut to the array's size with its NUL.</summary>
    CharArray,
}

/// <summary>One extern of the object's <c>.kconfig</c> section (<c>extern … __kconfig</c>): its name, whether it is
/// <c>__weak</c> (0 where the kernel has no value for it), its type, and where libbpf places it in the <c>.kconfig</c>
/// map's value.</summary>
public sealed record KconfigExtern(string Name, bool Weak, KconfigType Type, int Size, int Align, bool Signed)
{
    /// <summary>Byte offset in the <c>.kconfig</c> map's value.</summary>
    public int Offset { get; init; }
}
