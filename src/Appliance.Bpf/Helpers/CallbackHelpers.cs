using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_loop (181) and bpf_for_each_map_elem (164): helpers that call back into the program. The
/// arguments are checked here as the kernel's helpers do (flags must be 0: -EINVAL; more than 1 &lt;&lt; 23 loops:
/// -E2BIG); the VM runs the callback (see <see cref="BpfVm"/>'s callback driver). Compiled code does bpf_loop
/// itself and calls for_each_map_elem's callback itself, this helper handing out the elements (see JitLowering.Callbacks).</summary>
internal static class CallbackHelpers
{
    public static HelperOutcome Loop(BpfVm vm) =>
        vm.StartLoop((uint)vm.Argument(1), vm.Argument(2), vm.Argument(3), vm.Argument(4));

    public static HelperOutcome ForEachMapElem(BpfVm vm) =>
        vm.StartForEach(vm.Argument(1), vm.Argument(2), vm.Argument(3), vm.Argument(4));
}
