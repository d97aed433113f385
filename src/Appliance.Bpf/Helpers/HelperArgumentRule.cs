namespace Appliance.Bpf.Helpers;

/// <summary>What the verifier knows of a helper's arguments at a call, as the kernel's helper prototypes say it:
/// the memory the helper reads or writes through its pointer arguments (<see cref="Memory"/>), a flags argument it may
/// refuse, a constant string. Only what the verifier can prove from constants is checked; the VM's run-time checks
/// cover the rest. For each <see cref="Memory"/> argument sized by an argument (the kernel's ARG_PTR_TO_MEM +
/// ARG_CONST_SIZE[_OR_ZERO]): it points to that many bytes (on the stack: inside the frame; never null when the size
/// is not 0); the size is not negative (and not 0 unless it may be). Whichever way the size is given, a pointer into
/// the value of a map whose program flags forbid the access (a read-only value written, a write-only value read) is
/// refused, as the kernel's check_map_access_type refuses it. When argument <see cref="FlagsArgument"/> is a
/// constant, <see cref="WhyFlagsRefused"/> may refuse it (flags the appliance does not support).
/// <see cref="ConstStringArgument"/> (the kernel's ARG_PTR_TO_CONST_STR) must be proven at load: a constant offset
/// into the value of a read-only single-element array (.rodata) with a NUL after it, else the program is refused;
/// <see cref="WhyConstStringRefused"/> may then judge the string (without its NUL) with the value of argument
/// <see cref="CountArgument"/> when that is a constant (null otherwise).</summary>
public sealed record HelperArgumentRule(HelperMemoryArgument[] Memory, int FlagsArgument = 0,
    Func<ulong, string?>? WhyFlagsRefused = null, int ConstStringArgument = 0, int CountArgument = 0,
    Func<byte[], long?, string?>? WhyConstStringRefused = null);

/// <summary>Whether a helper reads or writes the memory an argument points to, as the kernel judges it: an argument
/// type with MEM_WRITE (or MEM_UNINIT) is a write (the kernel checks only that, so a write-only value may be handed
/// to bpf_fib_lookup, which also reads it), any other a read (map keys and the values update and push take).</summary>
public enum HelperMemoryAccess : byte { Read, Write }

/// <summary>Where the size of the memory a <see cref="HelperMemoryArgument"/> points to comes from.</summary>
public enum HelperMemorySize : byte
{
    /// <summary>Another argument (ARG_CONST_SIZE[_OR_ZERO]): the register <see cref="HelperMemoryArgument.Size"/>.</summary>
    Argument,
    /// <summary>A fixed number of bytes (MEM_FIXED_SIZE): <see cref="HelperMemoryArgument.Size"/>.</summary>
    Fixed,
    /// <summary>The key of the map the helper is given (ARG_PTR_TO_MAP_KEY).</summary>
    MapKey,
    /// <summary>A value of the map the helper is given (ARG_PTR_TO_MAP_VALUE).</summary>
    MapValue,
}

/// <summary>Argument <see cref="Register"/> (r1–r5) points to memory the helper reads or writes
/// (<see cref="Access"/>), of the size <see cref="SizeFrom"/> says; <see cref="SizeMayBeZero"/>: an argument size may
/// be 0 (ARG_CONST_SIZE_OR_ZERO).</summary>
public readonly record struct HelperMemoryArgument(int Register, HelperMemoryAccess Access, HelperMemorySize SizeFrom, int Size = 0,
    bool SizeMayBeZero = false)
{
    public static HelperMemoryArgument Reads(int register, int sizeArgument, bool sizeMayBeZero = false) =>
        new(register, HelperMemoryAccess.Read, HelperMemorySize.Argument, sizeArgument, sizeMayBeZero);

    public static HelperMemoryArgument Writes(int register, int sizeArgument, bool sizeMayBeZero = false) =>
        new(register, HelperMemoryAccess.Write, HelperMemorySize.Argument, sizeArgument, sizeMayBeZero);
}
