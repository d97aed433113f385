using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_spin_lock (93) and bpf_spin_unlock (94) on the <c>struct bpf_spin_lock</c> of a map value (see
/// <see cref="BpfVm"/>'s spin-lock part for the semantics).</summary>
internal static class SpinLockHelpers
{
    public static HelperOutcome Lock(BpfVm vm) => vm.SpinLock(vm.Argument(1));

    public static HelperOutcome Unlock(BpfVm vm) => vm.SpinUnlock(vm.Argument(1));
}
