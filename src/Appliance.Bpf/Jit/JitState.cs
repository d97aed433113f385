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

/// <summary>A running bpf_loop, kept by the depth of the frame that called it: the next callback index (after a
/// call: the calls made), the number of loops, the callback's context, the host address of its code and what
/// each call charges the budget.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct JitLoop
{
    public ulong Index, Count, Context;
    public nint Entry;
    public long Charge;

    public const int Size = 40, IndexOffset = 0, CountOffset = 8, ContextOffset = 16, EntryOffset = 24, ChargeOffset = 32;
}

/// <summary>What compiled code and the VM share during a run (native memory, one per VM): the eBPF register
/// file (also the interpreter's), the region mirror, the budget, the call frames, the shadow <c>__sk_buff</c>
/// and the exchange for runtime calls. Compiled code never calls back into managed code: for a helper or a
/// translation it cannot do inline it stores the request (<see cref="Status"/>, <see cref="CallArg1"/>,
/// <see cref="CallArg2"/>) and where to continue (<see cref="Resume"/>) and returns; the VM does the work,
/// puts the answer in <see cref="CallResult"/> and calls the code again, whose entry jumps to
/// <see cref="Resume"/>. Offsets are fixed because the emitted code addresses fields directly.</summary>
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
    public long CallArg1;                 // 184: helper id or callx value; address to translate
    public long CallArg2;                 // 192: 1 for callx; size | write << 8 for a translation
    public long CallResult;               // 200: helper outcome; host address (0: the run faults)
    public nint Resume;                   // 208: where the code continues when called again (0: from the start)
    public int RegionCapacity;            // 216: entries the mirror has room for (compiled code adds map-value regions below it)
    public int ProcessorId;               // 220: the VM's CPU slot (per-CPU maps)
    public fixed byte Frames[8 * JitFrame.Size]; // 224
    public fixed byte Context[global::Appliance.Bpf.Context.SkBuffLayout.Size]; // 608: the VM's shadow __sk_buff (compiled code reads it directly)
    public int FirstDynamicRegion;        // 800: regions from here on are the run's own (map values, ring-buffer records)
    public int VlanPushed;                // 804: compiled code's inline bpf_skb_vlan_push set the shadow's VLAN fields, which the VM has yet to give the packet
    public long PacketDelta;              // 808: host address of packet byte k minus its virtual address (kept with region 0's mirror)
    public fixed int ValueCache[ValueCacheSlots]; // 816: recent map-value regions by element (see ValueCacheSlot)
    public long ProbeKey;                 // 1840: an inline hash lookup's working values: the key's host address,
    public long ProbeHash;                // 1848: its hash,
    public long ProbeSequence;            // 1856: the map's seqlock sequence at the start,
    public long ProbeSlot;                // 1864: the slot being compared,
    public long ProbeSteps;               // 1872: and the chain steps left;
    public long ProbeAddress;             // 1880: an inline LPM lookup's address (network order),
    public long ProbeLengths;             // 1888: the stored prefix lengths it has still to probe,
    public long ProbeExactKey;            // 1896: and the exact key of the current probe
    public ulong RedirectIfindex;         // 1904: the run's bpf_redirect target (both engines; compiled code's inline bpf_redirect writes it)
    public ulong RedirectFlags;           // 1912: and its flags
    public fixed byte Loops[8 * JitLoop.Size]; // 1920: the bpf_loop each call depth runs (see JitLowering's InlineLoop)
    public long CallbackLevel;            // 2240: how many callbacks are running (no tail call from inside one)
    public fixed long RegionDeltas[11];   // 2248: per eBPF register, host minus virtual address of the region it points into (see JitLowering.RegionDelta)

    public const int RegsOffset = 0, RegionsOffset = 128, RegionCountOffset = 136, BudgetOffset = 144,
        DepthOffset = 152, FaultPcOffset = 160, StatusOffset = 164, FaultKindOffset = 168, StackDeltaOffset = 176,
        CallArg1Offset = 184, CallArg2Offset = 192, CallResultOffset = 200, ResumeOffset = 208, RegionCapacityOffset = 216,
        ProcessorIdOffset = 220, FramesOffset = 224,
        ContextOffset = 608, FirstDynamicRegionOffset = 800, VlanPushedOffset = 804, PacketDeltaOffset = 808, ValueCacheOffset = 816,
        ProbeKeyOffset = 1840, ProbeHashOffset = 1848, ProbeSequenceOffset = 1856, ProbeSlotOffset = 1864, ProbeStepsOffset = 1872,
        ProbeAddressOffset = 1880, ProbeLengthsOffset = 1888, ProbeExactKeyOffset = 1896,
        RedirectIfindexOffset = 1904, RedirectFlagsOffset = 1912, LoopsOffset = 1920, CallbackLevelOffset = 2240,
        RegionDeltasOffset = 2248;

    /// <summary>The map-value cache both engines share: a map value's region id by (array, offset), so repeated
    /// lookups of one element give one address and a working set keeps one region per element, whichever
    /// engine (the VM's helper, the JIT's inline array lookup) made the region. A slot is trusted only after
    /// checking the region it names; stale slots (earlier runs, other programs) fail that check.</summary>
    public const int ValueCacheSlots = 256, ValueCacheMultiplier = unchecked((int)0x9E3779B1), ValueCacheShift = 24;

    /// <summary>The cache slot of the value at <paramref name="offset"/> of the array whose identity hash is
    /// <paramref name="arrayHash"/>: Fibonacci hashing, 8 bits (compiled code computes the same in 32-bit ALU).</summary>
    public static int ValueCacheSlot(int arrayHash, int offset) =>
        (int)(((uint)arrayHash + (uint)offset) * unchecked((uint)ValueCacheMultiplier) >> ValueCacheShift);

    /// <summary>Why the code returned, in <see cref="Status"/>: finished, faulted, tail call accepted, or a
    /// runtime call to make before calling it again (helper, translation, legacy packet load: offset in
    /// <see cref="CallArg1"/>, the VmOp in <see cref="CallArg2"/>; a bpf_for_each_map_elem callback returned).</summary>
    public const int StatusDone = 0, StatusFault = 1, StatusTailCall = 2, StatusHelper = 3, StatusTranslate = 4, StatusLegacyLoad = 5,
        StatusCallbackReturn = 6;

    /// <summary>Legacy packet load (LD_ABS / LD_IND) outcomes in <see cref="CallResult"/>: r0 loaded; outside the
    /// packet (r0 = 0, the current function returns); the run faults.</summary>
    public const int LegacyLoadDone = 0, LegacyLoadOutside = 1, LegacyLoadFault = 2;

    /// <summary>Helper call outcomes in <see cref="CallResult"/>: on, stop, fault, tail call, or (bpf_for_each_map_elem)
    /// call the callback with the arguments in r1–r4.</summary>
    public const int HelperContinue = 0, HelperStop = 1, HelperFault = 2, HelperTailCall = 3, HelperCallback = 4;

    /// <summary>A bpf_for_each_map_elem callback returned (<see cref="StatusCallbackReturn"/>): call it again (its next
    /// arguments in r1–r4), or the helper is done (r0 = the calls), or the run faults.</summary>
    public const int CallbackAgain = 0, CallbackDone = 1, CallbackFault = 2;
}
