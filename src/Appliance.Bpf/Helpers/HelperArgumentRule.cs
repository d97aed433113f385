namespace Appliance.Bpf.Helpers;

/// <summary>What the verifier checks at a call of a helper whose arguments it can judge at load, as the kernel's
/// helper prototypes do (ARG_PTR_TO_MEM + ARG_CONST_SIZE[_OR_ZERO]): argument <see cref="MemoryArgument"/> points to
/// <see cref="SizeArgument"/> bytes (on the stack: inside the frame; never null when the size is not 0); the size is
/// not negative (and not 0 unless <see cref="SizeMayBeZero"/>); and when argument <see cref="FlagsArgument"/> is a
/// constant, <see cref="WhyFlagsRefused"/> may refuse it (flags the appliance does not support). Only what the
/// verifier can prove from constants is checked; the VM's run-time checks cover the rest — except for
/// <see cref="ConstStringArgument"/> (the kernel's ARG_PTR_TO_CONST_STR), which must be proven at load: a constant
/// offset into the value of a read-only single-element array (.rodata) with a NUL after it, else the program is
/// refused; <see cref="WhyConstStringRefused"/> may then judge the string (without its NUL) with the value of
/// argument <see cref="CountArgument"/> when that is a constant (null otherwise).</summary>
public sealed record HelperArgumentRule(int MemoryArgument, int SizeArgument, bool SizeMayBeZero, int FlagsArgument = 0,
    Func<ulong, string?>? WhyFlagsRefused = null, int ConstStringArgument = 0, int CountArgument = 0,
    Func<byte[], long?, string?>? WhyConstStringRefused = null);
