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
    private PacketContext _packet;
    private bool _hasPacket;
    private LoadedProgram? _program;
    private int _frameBytes;
    private LoadedProgram? _pendingTailCall;
    private BpfFault _fault;
    private uint _redirectIfindex;
    private ulong _redirectFlags;
    private ulong _random;
    private bool _disposed;

    public BpfVm(BpfVmOptions? options = null)
    {
        Options = options ?? new BpfVmOptions();
        _jit = (JitState*)NativeMemory.AllocZeroed((nuint)sizeof(JitState));
        _registers = _jit->Regs;
        _stack = (byte*)NativeMemory.AllocZeroed(StackSize);
        _context = (byte*)NativeMemory.AllocZeroed(SkBuffLayout.Size);
        _random = (ulong)Random.Shared.NextInt64() | 1;
        TraceLimiter = new TraceRateLimiter(Options.TraceLinesPerSecond);
        _regions[VirtualAddress.StackRegion] = new MemoryRegion { Writable = true, Kind = RegionKind.Stack };
        _regions[VirtualAddress.ContextRegion] = new MemoryRegion
        {
            Start = VirtualAddress.RegionBase(VirtualAddress.ContextRegion), Length = 0,
            Origin = (nint)_context, Writable = false, Kind = RegionKind.Context,
        };
    }

    public BpfVmOptions Options { get; }

    internal TraceRateLimiter TraceLimiter { get; }

    /// <summary>Runs a tc program on <paramref name="packet"/>: r1 = the <c>__sk_buff</c>. The packet's bytes and
    /// metadata carry the program's changes afterwards.</summary>
    public BpfRunResult Run(LoadedProgram program, ref PacketContext packet)
    {
        ArgumentNullException.ThrowIfNull(program);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _packet = packet;
        _hasPacket = true;
        var jit = SelectJit(program);
        try
        {
            BeginRun(program);
            SkBuffShadow.Fill(new Span<byte>(_context, SkBuffLayout.Size), in _packet);
            MapPacket();
            _regions[VirtualAddress.ContextRegion].Length = SkBuffLayout.Size;
            MirrorRegion(VirtualAddress.ContextRegion);
            _registers[1] = VirtualAddress.RegionBase(VirtualAddress.ContextRegion);
            var result = jit is null ? Execute(program) : ExecuteJit(program, jit);
            if (ReleaseSpinLock() && !result.Faulted) // the kernel: "bpf_spin_unlock is missing"
                result = new BpfRunResult(0, BpfFault.HelperMisuse, -1, 0, 0, result.InstructionsExecuted);
            SettleContextStore();
            SkBuffShadow.WriteBack(new ReadOnlySpan<byte>(_context, SkBuffLayout.Size), ref _packet);
            packet = _packet;
            return result;
        }
        finally
        {
            EndRun();
        }
    }

    /// <summary>Runs a program in the conformance suite's contract: r1 = a writable copy of
    /// <paramref name="memory"/> (or 0 when null), r2 = its length. <paramref name="memory"/> is modified in place.</summary>
    public BpfRunResult RunWithMemory(LoadedProgram program, byte[]? memory)
    {
        ArgumentNullException.ThrowIfNull(program);
        ObjectDisposedException.ThrowIf(_disposed, this);
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
            return jit is null ? Execute(program) : ExecuteJit(program, jit);
        }
        finally
        {
            EndRun();
        }
    }

    private void BeginRun(LoadedProgram program)
    {
        // Per-CPU maps use the calling thread's slot: the VM's processor, the one get_smp_processor_id returns.
        if (BpfCpu.Current != (int)Options.ProcessorId) BpfCpu.Current = (int)Options.ProcessorId;
        _fault = BpfFault.None;
        ResetCallbacks();
        _pins.ReleaseRetired();
        _pendingContextStore = -1;
        Encapsulated = false;
        _redirectIfindex = 0;
        _redirectFlags = 0;
        RedirectNextHopFamily = Routing.IpFamily.Unspec;
        _pendingTailCall = null;
        new Span<ulong>(_registers, 16).Clear();
        _registers[10] = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + StackSize;
        BindProgram(program);
    }

    /// <summary>Lays out the region table for <paramref name="program"/>: packet, stack, context, its globals.</summary>
    private void BindProgram(LoadedProgram program)
    {
        ReleaseDynamicRegions(); // before the new program's globals take over the table
        _program = program;
        // No run sees what an earlier one (another program, another tenant's) left: clear every byte this
        // program can reach — its frame depth in each call frame it can enter.
        _frameBytes = program.Stack.FrameBytes;
        new Span<byte>(_stack + StackSize - program.Stack.TotalBytes(FrameSize), program.Stack.TotalBytes(FrameSize)).Clear();
        SetStackDepth(0);
        var globals = program.Globals;
        _firstDynamicRegion = VirtualAddress.FirstProgramRegion + globals.Length;
        EnsureRegionCapacity(_firstDynamicRegion);
        for (int g = 0; g < globals.Length; g++)
        {
            var value = globals[g].Value;
            _regions[VirtualAddress.FirstProgramRegion + g] = new MemoryRegion
            {
                Start = VirtualAddress.RegionBase(VirtualAddress.FirstProgramRegion + g), Length = (ulong)value.Count,
                Array = value.Array, Origin = value.Offset, Writable = !globals[g].ReadOnly, Kind = RegionKind.Global,
            };
            MirrorRegion(VirtualAddress.FirstProgramRegion + g);
        }
        _regionCount = _firstDynamicRegion;
    }

    private void EndRun()
    {
        ReleaseSpinLock();
        if (_runMapCount > 0) Array.Clear(_runMaps, 0, _runMapCount);
        _runMapCount = 0;
        ReleaseDynamicRegions();
        _regionCount = 0;
        _program = null;
        _pendingTailCall = null;
        _packet = default;
        _hasPacket = false;
        _jitActive = false;
        _regions[VirtualAddress.PacketRegion] = default;
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
        int used = depth * FrameSize + _frameBytes;
        ref var stack = ref _regions[VirtualAddress.StackRegion];
        stack.Start = VirtualAddress.RegionBase(VirtualAddress.StackRegion) + (ulong)(StackSize - used);
        stack.Length = (ulong)used;
        stack.Origin = (nint)(_stack + StackSize - used);
        if (_jitActive) MirrorRegion(VirtualAddress.StackRegion);
    }

    private void EnsureRegionCapacity(int count)
    {
        if (count > _regions.Length) Array.Resize(ref _regions, Math.Max(count, _regions.Length * 2));
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _pins.Dispose();
        NativeMemory.Free(_jit->Regions);
        NativeMemory.Free(_jit);
        NativeMemory.Free(_stack);
        NativeMemory.Free(_context);
        GC.SuppressFinalize(this);
    }

    ~BpfVm()
    {
        NativeMemory.Free(_jit->Regions);
        NativeMemory.Free(_jit);
        NativeMemory.Free(_stack);
        NativeMemory.Free(_context);
    }

    private struct CallFrame
    {
        public int ReturnPc;
        /// <summary>The frame below was entered by a callback helper (see <see cref="ResumeCallback"/>), not a call.</summary>
        public bool Callback;
        public ulong R6, R7, R8, R9, R10;
    }
}
