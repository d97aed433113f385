using System.Runtime.InteropServices;

namespace Appliance.Bpf.Jit;

/// <summary>One entry of the native mirror of a run's region table (see <see cref="Vm.VirtualAddress"/>): virtual
/// [<see cref="Start"/>, +<see cref="Length"/>) is host memory at <see cref="Host"/> (pinned for the run).
/// Compiled code checks every access against it exactly as the interpreter's fast path does; anything it
/// does not accept goes to the interpreter's own translation (context fields, faults).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct JitRegion
{
    public ulong Start;
    public ulong Length;
    public nint Host;
    public ulong Writable;

    public const int Size = 32;
}

/// <summary>A saved bpf-to-bpf call frame: the callee-saved registers and the native return address.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct JitFrame
{
    public ulong R6, R7, R8, R9, R10;
    public nint ReturnAddress;

    public const int Size = 48;
}

/// <summary>What compiled code and the VM share during a run (native memory, one per VM): the eBPF register
/// file (also the interpreter's), the region mirror, the budget, the call frames, and the runtime entry points
/// the code calls. Offsets are fixed because the emitted code addresses fields directly.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct JitState
{
    public fixed ulong Regs[16];          // 0
    public JitRegion* Regions;            // 128
    public long RegionCount;              // 136
    public long Budget;                   // 144
    public long Depth;                    // 152
    public int FaultPc;                   // 160
    public int Status;                    // 164
    public int FaultKind;                 // 168
    public int TailCalls;                 // 172
    public long StackDelta;               // 176: host address of stack byte k minus its virtual address
    public nint HelperEntry;              // 184: int (JitState*, long idOrValue, long isRegister)
    public nint TranslateEntry;           // 192: nint (JitState*, ulong address, long size | write << 8)
    public nint Vm;                       // 200: weak GCHandle of the VM the runtime entries call back into
    public fixed byte Frames[8 * JitFrame.Size]; // 208
    public fixed byte Context[global::Appliance.Bpf.Context.SkBuffLayout.Size]; // 592: the VM's shadow __sk_buff (compiled code reads it directly)

    public const int RegsOffset = 0, RegionsOffset = 128, RegionCountOffset = 136, BudgetOffset = 144,
        DepthOffset = 152, FaultPcOffset = 160, StatusOffset = 164, FaultKindOffset = 168, StackDeltaOffset = 176,
        HelperEntryOffset = 184, TranslateEntryOffset = 192, FramesOffset = 208, ContextOffset = 592;

    /// <summary>Run outcomes in <see cref="Status"/>.</summary>
    public const int StatusDone = 0, StatusFault = 1, StatusTailCall = 2;

    /// <summary>Helper entry results.</summary>
    public const int HelperContinue = 0, HelperStop = 1, HelperFault = 2, HelperTailCall = 3;
}
