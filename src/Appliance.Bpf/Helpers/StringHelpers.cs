using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_strncmp (182): compares the r2 bytes at r1 with the constant string at r3 (a NUL-terminated string
/// in a read-only map value, which the verifier checks at load: <see cref="HelperArgumentRule.ConstStringArgument"/>),
/// as the kernel's C strncmp: -1, 0 or 1 at the first differing byte (unsigned), stopping at a NUL or after r2 bytes.
/// (x86-64 kernels use lib/string.c's strncmp, which returns exactly -1/0/1; arm64 kernels an assembly strncmp
/// that returns the bytes' difference — the appliance gives -1/0/1 on both, the sign is what programs test.)</summary>
internal static class StringHelpers
{
    public static HelperOutcome Strncmp(BpfVm vm)
    {
        ulong size = (uint)vm.Argument(2);
        if (size > int.MaxValue || !vm.TryGetMemory(vm.Argument(1), (int)size, false, out var s1)) return HelperOutcome.Fault;
        // The constant string, read as every helper's string (the verifier saw its NUL in frozen .rodata).
        if (!vm.TryReadString(vm.Argument(3), s1.Length, fault: true, out var s2)) return HelperOutcome.Fault;
        for (int i = 0; i < s1.Length; i++)
        {
            byte c2 = i < s2.Length ? s2[i] : (byte)0;
            if (s1[i] != c2) return LinuxHelperTable.Return(vm, s1[i] < c2 ? ulong.MaxValue : 1);
            if (s1[i] == 0) break;
        }
        return LinuxHelperTable.Return(vm, 0);
    }
}
