using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>The test-mode helper table of the bpf_conformance suite (ebpf.md §3): helper 5 is
/// <c>unwind(a) = a</c>, and a return of 0 stops the program with r0 = 0. No other helper exists.</summary>
public sealed class ConformanceHelperTable : BpfHelperTable
{
    public const int Unwind = 5;

    public static ConformanceHelperTable Instance { get; } = new();

    public override bool IsDefined(int helperId) => helperId == Unwind;

    public override string NameOf(int helperId) => helperId == Unwind ? "unwind" : $"helper#{helperId}";

    public override HelperOutcome Invoke(int helperId, BpfVm vm)
    {
        ulong a = vm.Argument(1);
        vm.ReturnValue = a;
        return a == 0 ? HelperOutcome.Stop : HelperOutcome.Continue;
    }
}
