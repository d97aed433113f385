using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Jit;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Vm;

/// <summary>Runs loaded programs: one instance per thread (it owns the registers, the 8 × 512-byte stack, the
/// shadow <c>__sk_buff</c> and the run's region table, all reused, so a run allocates nothing). Every load and
/// store is checked against the region table (see <see cref="VirtualAddress"/>); faults, the instruction
/// budget and helper misuse end the run with a <see cref="BpfFault"/> in the result — no exception escapes
/// <see cref="Run(LoadedProgram, ref PacketContext)"/>.</summary>
public sealed unsafe partial class BpfVm : IDisposable
{
    public const int MaxCallFrames = 8;
    public const int FrameSize = 512;
    public const int StackSize = MaxCallFrames * FrameSize;
    public const int MaxTailCalls = 33;

    private readonly ulong* _registers;
    private readonly byte* _stack;
    private readonly byte* _context;
    private readonly CallFrame[] _frames = new CallFrame[MaxCallFrames];
    private MemoryRegion[] _regions = new MemoryRegion[64];
    private int _regionCount;
    private int _firstDynamicRegion;
    /// <summary>The packet of the current tc run: the caller's own, pinned by <see cref="Run"/> for the run's
    /// duration (no copy in or out); null outside a run and in memory runs.</summary>
    private void* _packet;
    private PacketContext _noPacket;
    private bool _hasPacket;
    private LoadedProgram? _program;
    private int _frameBytes;
    private int _stackDepth;
    /// <summary>The stack region and its mirror entry are at depth 0 for <see cref="_frameBytes"/>: compiled code
    /// leaves them so when it ends without a runtime call (its calls and returns pair up), so the next compiled
    /// run of a program with the same frame need not set them again.</summary>
    private bool _stackMirrored;
    /// <summary>Every field of the shadow <c>__sk_buff</c> holds this run's packet; false while a compiled run has
    /// written only those its code reads (see <see cref="JitCompilation.ContextReads"/>) and made no runtime call.</summary>
    private bool _shadowFilled;
    /// <summary>The shadow's packet field groups that hold this run's packet (all of <see cref="ShadowFields.Packet"/> but
    /// while a compiled run has written only the groups its code reads and made no runtime call).</summary>
    private ShadowFields _shadowPacketFields;
    /// <summary>This compiled run returned to the VM for a runtime call (helper, translation, tail call, fault).</summary>
    private bool _jitYielded;
    private LoadedProgram? _globalsProgram;
    private GCHandle[] _globalPins = [];
    private int _globalPinCount;
    private LoadedProgram? _pendingTailCall;
    private BpfFault _fault;
    /// <summary>The run's redirect target and flags live in the JIT state, where compiled code's inline bpf_redirect writes them.</summary>
    private uint RedirectTarget => (uint)_jit->RedirectIfindex;
    private ulong RedirectTargetFlags => _jit->RedirectFlags;
    private ulong _random;
    private bool _disposed;
    private readonly int _processorId;
    private readonly bool _useJit;
    private readonly long _budget;
    /// <summary>The last run did not end on compiled code's straight path (or none ran yet): <see cref="ResetSlowState"/>
    /// before the next, and <see cref="EndSlowRun"/> at its end. Set at the start of every run, cleared only by that path.</summary>
    private bool _slowState = true;
    /// <summary>This VM's grace-period cell: deleted map slots a run may hold are not reused until it ends (see <see cref="RunEpochs"/>).</summary>
    private readonly long* _runEpoch = RunEpochs.Register();
    private readonly long* _globalEpoch = RunEpochs.Epoch;

    public BpfVm(BpfVmOptions? options = null)
    {
        Options = options ?? new BpfVmOptions();
        _processorId = (int)Options.ProcessorId;
        _useJit = Options.UseJit;
        _budget = Options.InstructionBudget;
        _jit = (JitState*)NativeMemory.AllocZeroed((nuint)sizeof(JitState));
        _registers = _jit->Regs;
        _stack = (byte*)NativeMemory.AllocZeroed(StackSize);
        _context = _jit->Context; // zeroed once: fields a run does not fill stay 0 (see SkBuffShadow.Fill)
        _random = (ulong)Random.Shared.NextInt64() | 1;
        TraceLimiter = new TraceRateLimiter(Options.TraceLinesPerSecond);
        _regions[VirtualAddress.StackRegion] = new MemoryRegion { Writable = true, Kind = RegionKind.Stack };
        _regions[VirtualAddress.ContextRegion] = new MemoryRegion
        {
            Start = VirtualAddress.RegionBase(VirtualAddress.ContextRegion), Length = 0,
            Origin = (nint)_context, Writable = false, Kind = RegionKind.Context,
        };
        InitJitState();
    }

    public BpfVmOptions Options { get; }

    internal TraceRateLimiter TraceLimiter { get; }

    /// <summary>Runs a tc program on <paramref name="packet"/>: r1 = the <c>__sk_buff</c>. The packet's bytes and
    /// metadata carry the program's changes afterwards.</summary>
    public BpfRunResult Run(LoadedProgram program, ref PacketContext packet)
    {
        ArgumentNullException.ThrowIfNull(program);
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The common case in a chain: the program the last run ran, again in compiled code, and that run ended on
        // the code's straight path, so the VM's state is as this run needs it but for the per-run steps.
        return !_slowState && ReferenceEquals(program, _program) && _packet == null && !_pins.HasRetired
            ? RunStraight(program, ref packet)
            : RunFully(program, ref packet);
    }

    /// <summary>A run of <see cref="_program"/>'s compiled code after a run of it that ended on the code's straight
    /// path (<see cref="_slowState"/> false). That run left what <see cref="BeginRun"/> would set up as it is: the
    /// slow state reset, the program and its globals bound, the stack region mirrored at depth 0 for its frame, no
    /// dynamic region, no tail call, the VM's own run flags (<see cref="_packet"/>, <see cref="_hasPacket"/>,
    /// <see cref="_jitActive"/>, <see cref="_regionCount"/>) as between runs. Only what the code reads is set here:
    /// the registers, the stack's bytes, the packet's mirror entry and the shadow fields it reads (see
    /// <see cref="JitCompilation.ContextReads"/>). The VM's flags are set only when the code returns for a runtime
    /// call (<see cref="FinishStraight"/>): no managed code runs in between. No exception handler and no pin, so no
    /// frame to zero: nothing here throws, and nothing holds the packet struct's address (the mirror has its buffer's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private BpfRunResult RunStraight(LoadedProgram program, ref PacketContext packet)
    {
        // _slowState is cleared only after a compiled run, with the VM's JIT on: the program has code.
        var compilation = program.Jit!;
        var code = compilation.Code!;
        JitState* s = _jit;
        System.Diagnostics.Debug.Assert(_useJit && _stackMirrored && _stackDepth == 0 && _frameBytes == program.Stack.FrameBytes && _regionCount == 0);
        // No pin: nothing below holds the packet struct's address (the mirror has its buffer's, pinned or native); the
        // rest of a run that yields pins it (FinishStraight).
        s->RedirectIfindex = 0;
        s->RedirectFlags = 0;
        ulong* registers = s->Regs;
        new Span<ulong>(registers, 16).Clear();
        registers[1] = VirtualAddress.RegionBase(VirtualAddress.ContextRegion);
        registers[10] = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + StackSize;
        ClearReachableStack(program);
        var fields = compilation.ContextReads;
        MirrorPacket(s, ref packet);
        WriteShadow(ref packet, fields);
        s->RegionCount = _firstDynamicRegion; // s->FirstDynamicRegion is the program's since its last run
        s->Budget = _budget;
        s->Status = JitState.StatusDone;
        RunEpochs.Enter(_runEpoch, _globalEpoch); // from here the code may hold map values
        ((delegate* unmanaged[SuppressGCTransition]<JitState*, void>)code.Address)(s);
        GC.KeepAlive(code);
        if (s->Status != JitState.StatusDone) return FinishStraight(program, compilation, code, ref packet, fields);
        RunEpochs.Exit(_runEpoch); // nothing below touches a map value
        if (s->VlanPushed != 0) TakeInlineVlanPush(ref packet);
        if (compilation.StoresContext) SkBuffShadow.WriteBack(new ReadOnlySpan<byte>(_context, SkBuffLayout.Size), ref packet);
        return new BpfRunResult(registers[0], BpfFault.None, -1, (uint)s->RedirectIfindex, s->RedirectFlags, _budget - Math.Max(s->Budget, 0));
    }

    /// <summary><see cref="RunStraight"/>'s run once its code returned for a runtime call: the packet pinned and the VM's
    /// run flags set as <see cref="RunFully"/> sets them, then the rest of the run, ended as it ends its runs.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private BpfRunResult FinishStraight(LoadedProgram program, JitCompilation compilation, ExecutableMemory code, ref PacketContext packet,
        ShadowFields fields)
    {
        // Pinned for the rest of the run (the caller's struct may live in a heap object): helpers change it in place.
        fixed (byte* pinned = &Unsafe.As<PacketContext, byte>(ref packet))
        {
            _packet = pinned;
            _hasPacket = true;
            _jitActive = true;
            _slowState = true;
            _regionCount = _firstDynamicRegion;
            _shadowFilled = (fields & ShadowFields.Filled) == ShadowFields.Filled;
            _shadowPacketFields = SkBuffShadow.PacketGroupsOf(fields);
            _jitYielded = false;
            try
            {
                return RunRest(program, compilation, code, ref packet);
            }
            finally
            {
                EndRun();
                _packet = null;
            }
        }
    }

    /// <summary>Every other tc run: the first of a program, after a runtime call, in the interpreter, nested.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private BpfRunResult RunFully(LoadedProgram program, ref PacketContext packet)
    {
        var previous = _packet;
        // Pinned for the run (the caller's struct may live in a heap object): helpers change it in place.
        fixed (byte* pinned = &Unsafe.As<PacketContext, byte>(ref packet))
        {
            _packet = pinned;
            _hasPacket = true;
            var compilation = _useJit ? program.Jit : null;
            var jit = compilation?.Code;
            _jitActive = jit is not null;
            try
            {
                BeginRun(program);
                // Compiled code gets the shadow fields it may read before its first runtime call, the rest there (see
                // ContinueJit); until then they hold what an earlier run left, which nothing reads.
                var fields = jit is null ? ShadowFields.All : compilation!.ContextReads;
                _shadowFilled = (fields & ShadowFields.Filled) == ShadowFields.Filled;
                _shadowPacketFields = SkBuffShadow.PacketGroupsOf(fields); // the interpreter's MapPacket writes them all
                if (jit is null) SkBuffShadow.Fill(new Span<byte>(_context, SkBuffLayout.Size), in packet);
                _registers[1] = VirtualAddress.RegionBase(VirtualAddress.ContextRegion);
                if (jit is not null)
                {
                    // The code reads the packet through the mirror; the managed region waits for its first runtime call.
                    MirrorPacket(_jit, ref packet);
                    WriteShadow(ref packet, fields);
                    _jitYielded = false;
                    if (EnterJit(jit))
                    {
                        if (_jit->VlanPushed != 0) TakeInlineVlanPush(ref packet);
                        // The straight path: no runtime call, so no helper ran (no spin lock held, no context store
                        // pending) and nothing outside the JIT state changed: the next run need not reset it.
                        if (compilation!.StoresContext) SkBuffShadow.WriteBack(new ReadOnlySpan<byte>(_context, SkBuffLayout.Size), ref packet);
                        _slowState = false;
                        return JitDoneResult();
                    }
                }
                else MapPacket();
                return RunRest(program, compilation, jit, ref packet);
            }
            finally
            {
                EndRun();
                _packet = previous;
            }
        }
    }

    /// <summary>A run after its set-up, when compiled code made a runtime call (<paramref name="jit"/> set) or the
    /// interpreter runs it: to its end, then the spin lock, a pending context store and the shadow's write-back.</summary>
    private BpfRunResult RunRest(LoadedProgram program, JitCompilation? compilation, ExecutableMemory? jit, ref PacketContext packet)
    {
        var result = jit is null ? Execute(program) : ContinueJit(jit, _budget);
        if (ReleaseSpinLock() && !result.Faulted) // the kernel: "bpf_spin_unlock is missing"
            result = new BpfRunResult(0, BpfFault.HelperMisuse, -1, 0, 0, result.InstructionsExecuted);
        if (_pendingContextStore >= 0) SettleContextStore();
        // Compiled code that made no runtime call changed the shadow only by its own context stores.
        if (_shadowFilled && (jit is null || _jitYielded || compilation!.StoresContext))
            SkBuffShadow.WriteBack(new ReadOnlySpan<byte>(_context, SkBuffLayout.Size), ref packet);
        return result;
    }

    /// <summary>Runs a program in the conformance suite's contract: r1 = a writable copy of
    /// <paramref name="memory"/> (or 0 when null), r2 = its length. <paramref name="memory"/> is modified in place.</summary>
    public BpfRunResult RunWithMemory(LoadedProgram program, byte[]? memory)
    {
        ArgumentNullException.ThrowIfNull(program);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (program.UsesContextDirectly)
            throw new InvalidOperationException($"program '{program.Name}' was verified with an __sk_buff in r1: run it with a packet (load it with BpfVerifierOptions.Conformance for memory runs)");
        _hasPacket = false;
        var jit = SelectJit(program);
        try
        {
            BeginRun(program);
            _regions[VirtualAddress.PacketRegion] = memory is null
                ? default
                : new MemoryRegion
                {
                    Start = VirtualAddress.RegionBase(VirtualAddress.PacketRegion), Length = (ulong)memory.Length,
                    Array = memory, Origin = 0, Writable = true, Kind = RegionKind.Memory,
                };
            _regions[VirtualAddress.ContextRegion].Length = 0;
            MirrorRegion(VirtualAddress.PacketRegion);
            MirrorRegion(VirtualAddress.ContextRegion);
            _registers[1] = memory is null ? 0 : VirtualAddress.RegionBase(VirtualAddress.PacketRegion);
            _registers[2] = memory is null ? 0 : (ulong)memory.Length;
            return jit is null ? Execute(program) : ExecuteJit(jit);
        }
        finally
        {
            EndRun();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeginRun(LoadedProgram program)
    {
        RunEpochs.Enter(_runEpoch, _globalEpoch);
        // Per-CPU maps use the calling thread's slot: the VM's processor, the one get_smp_processor_id returns.
        // Compiled code's own lookups read it from the state: its runs set it at their first runtime call.
        if (!_jitActive) SetProcessor();
        if (_slowState) ResetSlowState();
        _slowState = true; // until the run ends on compiled code's straight path
        if (_pins.HasRetired) _pins.ReleaseRetired();
        _jit->RedirectIfindex = 0; // compiled code's inline bpf_redirect writes these on its straight path
        _jit->RedirectFlags = 0;
        // _pendingTailCall is null here: every run ends in EndRun, which clears it.
        new Span<ulong>(_registers, 16).Clear();
        _registers[10] = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + StackSize;
        BindProgram(program);
    }

    /// <summary>What only runtime calls, the interpreter and memory runs change (helpers' results, callbacks, a
    /// pending context store, the context region's length, compiled code's resume and fault state): reset before a
    /// run when the last one did not end on compiled code's straight path (<see cref="_slowState"/>), which leaves
    /// all of it as this sets it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ResetSlowState()
    {
        _fault = BpfFault.None;
        ResetCallbacks();
        _pendingContextStore = -1;
        Encapsulated = false;
        NetworkOffset = Helpers.PacketResizeHelpers.EthHeaderLength;
        ChecksumLevel = ChecksumNone;
        RedirectNextHopFamily = Routing.IpFamily.Unspec;
        _regions[VirtualAddress.ContextRegion].Length = SkBuffLayout.Size;
        MirrorContextLength(SkBuffLayout.Size);
        ResetJitRunState();
    }

    /// <summary>The calling thread's per-CPU slot: this VM's processor.</summary>
    private void SetProcessor()
    {
        if (BpfCpu.Current != _processorId) BpfCpu.Current = _processorId;
    }

    /// <summary>Continues the run in the target of an accepted tail call (both engines): its region table, the
    /// packet mapped again, r1 kept and r10 at the top of a fresh stack. Out of line: tail calls are rare, and
    /// the per-run binding is inlined into <see cref="Run(LoadedProgram, ref PacketContext)"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterTailCallTarget(LoadedProgram target)
    {
        _pendingTailCall = null;
        ulong ctx = _registers[1];
        BindProgram(target);
        if (_hasPacket) MapPacket();
        _registers[1] = ctx;
        _registers[10] = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + StackSize;
    }

    /// <summary>No run sees what an earlier one (another program, another tenant's) left: clears every stack byte
    /// <paramref name="program"/> can reach — its frame depth in each call frame it can enter (see StackUsage).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ClearReachableStack(LoadedProgram program)
    {
        int reachable = program.Stack.TotalBytes(FrameSize);
        // Most programs keep a key or a few locals: the top 64 bytes in a few stores, no call (the bytes below the
        // reachable ones are cleared too, which only clears more).
        if ((uint)(reachable - 1) < SmallStackClear) Unsafe.InitBlockUnaligned(_stack + StackSize - SmallStackClear, 0, SmallStackClear);
        else if (reachable > 0) new Span<byte>(_stack + StackSize - reachable, reachable).Clear();
    }

    private const int SmallStackClear = 64;

    /// <summary>Lays out the region table for <paramref name="program"/>: packet, stack, context, its globals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BindProgram(LoadedProgram program)
    {
        if (_regionCount > _firstDynamicRegion) ReleaseDynamicRegions(); // before the new program's globals take over the table
        // Kept after the run (no write barrier when the next run is the same program's).
        if (!ReferenceEquals(_program, program)) _program = program;
        int frameBytes = program.Stack.FrameBytes;
        bool stackReady = _jitActive && _stackMirrored && _stackDepth == 0 && _frameBytes == frameBytes;
        _frameBytes = frameBytes;
        ClearReachableStack(program);
        if (!stackReady) SetStackDepth(0);
        var globals = program.Globals;
        _firstDynamicRegion = VirtualAddress.FirstProgramRegion + globals.Length;
        if (!ReferenceEquals(program, _globalsProgram))
        {
            if (globals.Length > 0) BindGlobals(program);
            else if (_globalsProgram is not null) UnpinGlobals(); // this program's dynamic regions take the slots over
        }
        _regionCount = _firstDynamicRegion;
    }

    /// <summary>The regions of <paramref name="program"/>'s globals (and their mirror, for compiled code). They stay
    /// in the table between runs — only this program's binding writes those slots, dynamic regions come after
    /// them — so the next run of the same program skips this; another program's binding takes the slots over.
    /// Their buffers stay pinned while they are bound, so the mirror's host addresses stay valid.</summary>
    private void BindGlobals(LoadedProgram program)
    {
        var globals = program.Globals;
        EnsureRegionCapacity(_firstDynamicRegion);
        UnpinGlobals();
        if (_globalPins.Length < globals.Length) _globalPins = new GCHandle[Math.Max(globals.Length, 2 * _globalPins.Length)];
        for (int g = 0; g < globals.Length; g++)
        {
            var value = globals[g].Value;
            _globalPins[g] = GCHandle.Alloc(value.Array, GCHandleType.Pinned);
            _regions[VirtualAddress.FirstProgramRegion + g] = new MemoryRegion
            {
                Start = VirtualAddress.RegionBase(VirtualAddress.FirstProgramRegion + g), Length = (ulong)value.Count,
                Array = value.Array, Origin = value.Offset, Writable = globals[g].Writable, Kind = RegionKind.Global,
                PinnedHost = _globalPins[g].AddrOfPinnedObject() + value.Offset,
            };
            if (_useJit) WriteMirror(VirtualAddress.FirstProgramRegion + g);
        }
        _globalPinCount = globals.Length;
        _globalsProgram = program;
    }

    private void UnpinGlobals()
    {
        for (int g = 0; g < _globalPinCount; g++) _globalPins[g].Free();
        _globalPinCount = 0;
        _globalsProgram = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EndRun()
    {
        try
        {
            if (_slowState) EndSlowRun();
            _regionCount = 0;
            _hasPacket = false;
            _jitActive = false;
            // The packet's buffer stays referenced by the packet region until the next run; the region table is
            // unreachable meanwhile (no region id is below a region count of 0).
        }
        finally
        {
            // Last, and always: nothing after this touches a map value (the spin lock is released above); a cell
            // left set by a throw would hold every LPM map's deleted slots for good.
            RunEpochs.Exit(_runEpoch);
        }
    }

    /// <summary>What a run that made runtime calls (or ran in the interpreter) may leave: a held spin lock, maps it
    /// used, dynamic regions, a tail call it did not take. Compiled code's straight path leaves none of them.</summary>
    private void EndSlowRun()
    {
        ReleaseSpinLock();
        if (_runMapCount > 0) Array.Clear(_runMaps, 0, _runMapCount);
        _runMapCount = 0;
        if (_regionCount > _firstDynamicRegion) ReleaseDynamicRegions();
        _pendingTailCall = null;
    }

    /// <summary>Discards ring-buffer records the program reserved and never submitted, and drops references.</summary>
    private void ReleaseDynamicRegions()
    {
        for (int i = Math.Max(_firstDynamicRegion, VirtualAddress.FirstProgramRegion); i < _regionCount; i++)
        {
            ref var region = ref _regions[i];
            if (region.Kind == RegionKind.RingBufRecord && region.Owner is IBpfRingBuffer ring)
                ring.Commit((int)region.Token, discard: true);
            region = default;
        }
        _regionCount = Math.Min(_regionCount, _firstDynamicRegion);
    }

    /// <summary>The stack region covers the live frames: the current one (down to the program's measured frame
    /// depth, so a forged address below it faults instead of reading uncleared bytes) and its callers'. Only
    /// plain fields change, so a call or return costs no GC write barrier.</summary>
    private void SetStackDepth(int depth)
    {
        _stackDepth = depth;
        int used = depth * FrameSize + _frameBytes;
        ref var stack = ref _regions[VirtualAddress.StackRegion];
        stack.Start = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + (ulong)(StackSize - used);
        stack.Length = (ulong)used;
        stack.Origin = (nint)(_stack + StackSize - used);
        if (_jitActive) MirrorNative(VirtualAddress.StackRegion, stack.Start, stack.Length, stack.Origin);
        _stackMirrored = _jitActive && depth == 0;
    }

    private void EnsureRegionCapacity(int count)
    {
        if (count > _regions.Length) Array.Resize(ref _regions, Math.Max(count, _regions.Length * 2));
    }

    /// <summary>Drops what the VM keeps of earlier runs between runs — the last program and its globals' pins, the
    /// buffers and maps the region table still names, the arrays compiled code had pinned — so programs and maps a
    /// reload dropped become garbage the GC can take; the next run binds and pins what it uses again. Only between
    /// runs: on the VM's thread, or while that thread is parked (ForwardingEngine.RunBetweenBatches).</summary>
    public void ForgetPrograms()
    {
        _program = null;
        UnpinGlobals();
        for (int i = 0; i < _regions.Length; i++)
        {
            _regions[i].Array = null;
            _regions[i].Owner = null;
        }
        _pins.ReleaseAll();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pins.Dispose();
        UnpinGlobals();
        FreeJitState();
        NativeMemory.Free(_stack);
        RunEpochs.Release(_runEpoch);
        GC.SuppressFinalize(this);
    }

    ~BpfVm()
    {
        UnpinGlobals();
        FreeJitState();
        NativeMemory.Free(_stack);
        RunEpochs.Release(_runEpoch);
    }

    private struct CallFrame
    {
        public int ReturnPc;
        /// <summary>The frame below was entered by a callback helper (see <see cref="ResumeCallback"/>), not a call.</summary>
        public bool Callback;
        public ulong R6, R7, R8, R9, R10;
    }
}
