using Appliance.Bpf.Context;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_redirect (23): records the target on the run result and returns TC_ACT_REDIRECT, or
/// TC_ACT_SHOT for unknown flags (only BPF_F_INGRESS is allowed), as the kernel. bpf_tail_call (12): enters
/// the program a prog-array slot names, with the same ctx; on any failure it returns a negative errno and
/// the caller continues (after 33 tail calls every further one fails, MAX_TAIL_CALL_CNT).</summary>
internal static class ControlHelpers
{
    public const ulong BpfFIngress = 1;

    public static HelperOutcome Redirect(BpfVm vm)
    {
        ulong flags = vm.Argument(2);
        if ((flags & ~BpfFIngress) != 0) return LinuxHelperTable.Return(vm, TcAction.Shot);
        vm.SetRedirect((uint)vm.Argument(1), flags);
        return LinuxHelperTable.Return(vm, TcAction.Redirect);
    }

    public static HelperOutcome TailCall(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(2));
        if (map is null) return HelperOutcome.Fault;
        if (map is not IBpfProgramArray array) return vm.Fail(BpfFault.HelperMisuse);
        var targets = vm.CurrentProgram.TailCallTargets;
        if (!array.TryGetProgram((uint)vm.Argument(3), out int index) || (uint)index >= (uint)targets.Count || targets[index] is not { } target)
            return LinuxHelperTable.Error(vm, Errno.ENOENT);
        vm.RequestTailCall(target);
        return HelperOutcome.TailCall;
    }
}
