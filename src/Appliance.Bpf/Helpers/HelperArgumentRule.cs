namespace Appliance.Bpf.Helpers;

/// <summary>What the verifier checks at a call of a helper whose arguments it can judge at load, as the kernel's
/// helper prototypes do (ARG_PTR_TO_MEM + ARG_CONST_SIZE[_OR_ZERO]): argument <see cref="MemoryArgument"/> points to
/// <see cref="SizeArgument"/> bytes (on the stack: inside the frame; never null when the size is not 0); the size is
/// not negative (and not 0 unless <see cref="SizeMayBeZero"/>); and when argument <see cref="FlagsArgument"/> is a
/// constant, <see cref="WhyFlagsRefused"/> may refuse it (flags the appliance does not support). Only what the
/// verifier can prove from constants is checked; the VM's run-time checks cover the rest.</summary>
public sealed record HelperArgumentRule(int MemoryArgument, int SizeArgument, bool SizeMayBeZero, int FlagsArgument = 0,
    Func<ulong, string?>? WhyFlagsRefused = null);
