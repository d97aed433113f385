using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Jit;

namespace Appliance.Bpf.Vm;

/// <summary>Running compiled code (see <see cref="JitLowering"/>). The code shares this VM's register file, stack,
/// shadow <c>__sk_buff</c> and region table with the interpreter: while a compiled run is active every change to
/// the region table is mirrored into native memory with the host address of each region (managed buffers are
/// pinned while a region can point into them). The code never calls managed code: it returns for each helper
/// call and for each access its inline bounds check does not accept, the VM makes the call against the same
/// surface as for the interpreter (helpers; the interpreter's own translation, which also raises the fault)
/// and calls the code again where it left off (<see cref="JitState"/>). So the native code is entered without a
/// GC transition; it runs at most one budget's worth of instructions before it returns. Results and faults
/// are the interpreter's.</summary>
public sealed unsafe partial class BpfVm
{
    private readonly JitState* _jit;
    private readonly PinnedArrays _pins = new();
    private int _nativeRegionCapacity;
    private bool _jitActive;

    /// <summary>Fills the state's fields that stay the same for the VM's life, and the mirror's first entries: its
    /// capacity covers the fixed regions and the globals of a typical program without growing during a run, and
    /// the context entry is written once (a run changes only its length).</summary>
    private void InitJitState()
    {
        _jit->StackDelta = (long)_stack - (long)VirtualAddress.RegionBase(VirtualAddress.StackRegion);
        _jit->ProcessorId = _processorId;
        GrowMirror(63);
        WriteMirror(VirtualAddress.ContextRegion);
    }

    private void FreeJitState()
    {
        NativeMemory.Free(_jit->Regions);
        NativeMemory.Free(_jit);
    }

    private ExecutableMemory? SelectJit(LoadedProgram program)
    {
        var code = _useJit ? program.JitCode : null;
        _jitActive = code is not null;
        return code;
    }

    private BpfRunResult ExecuteJit(ExecutableMemory code) =>
        EnterJit(code) ? JitDoneResult() : ContinueJit(code, _budget);

    /// <summary>Enters <paramref name="code"/> from its start; true when it ran to its exit without a runtime call
    /// (<see cref="JitDoneResult"/> is then the run's result, else <see cref="ContinueJit"/> takes over).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool EnterJit(ExecutableMemory code)
    {
        JitState* s = _jit;
        s->RegionCount = _regionCount; // inline map lookups add regions to the mirror
        s->FirstDynamicRegion = _firstDynamicRegion;
        s->Budget = _budget;
        s->Status = 0;
        // The rest of the run state is as ResetJitRunState left it: the straight path leaves it so.
        // No GC transition: the code calls nothing and returns within one budget of instructions.
        ((delegate* unmanaged[SuppressGCTransition]<JitState*, void>)code.Address)(s);
        GC.KeepAlive(code);
        // A run that made no runtime call ends here. Regions the code added itself (inline map lookups) never reach
        // the managed table then: nothing reads them after the run, and the next run starts its dynamic regions
        // afresh (their value-cache slots fail its check).
        return s->Status == JitState.StatusDone;
    }

    /// <summary>The JIT state a compiled run changes only off its straight path (a runtime call, a fault, a tail
    /// call, a throw): reset before the next run (see <see cref="ResetSlowState"/>). The straight path leaves the call
    /// depth at 0, no resume address, no fault and no tail call, and its inline vlan_push tag is taken.</summary>
    private void ResetJitRunState()
    {
        JitState* s = _jit;
        s->Depth = 0;
        s->FaultKind = 0;
        s->FaultPc = 0;
        s->TailCalls = 0;
        s->Resume = 0;
        s->VlanPushed = 0; // a run that threw after an inline push must not hand its tag to this one's packet
        s->CallbackLevel = 0; // a run that faulted inside a bpf_loop callback
    }

    /// <summary>The result of a compiled run that ended at its exit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private BpfRunResult JitDoneResult() =>
        new(_registers[0], BpfFault.None, -1, RedirectTarget, RedirectTargetFlags, _budget - Math.Max(_jit->Budget, 0));

    /// <summary>The rest of a compiled run after the code's first return: runtime calls (the helper dispatch
    /// inlined here, so each costs no further call layers), tail calls, and the result.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private BpfRunResult ContinueJit(ExecutableMemory code, long budget)
    {
        // What a run leaves to its first runtime call: the thread's CPU slot, the packet's managed region (the code's
        // start wrote only the mirror: MirrorPacket) and the shadow fields the code could not read before it.
        _jitYielded = true;
        SetProcessor();
        if (_hasPacket)
        {
            MapPacketRegion();
            if (!_shadowFilled)
            {
                // Again those the code read: it stored to none of them (a store makes its run fill them all).
                FillShadow(ShadowFields.Filled);
                _shadowFilled = true;
            }
            if (_shadowPacketFields != ShadowFields.Packet)
            {
                // The groups the code did not read (not those it did: an inline vlan_push may have changed them), so that
                // from the first runtime call on the shadow is whole, as the interpreter and every helper have it.
                UpdateShadowPacketFields(ShadowFields.Packet & ~_shadowPacketFields);
                _shadowPacketFields = ShadowFields.Packet;
            }
        }
        // The code may stop (fault) at any call depth, or the VM move the stack region: the next run sets it again.
        _stackMirrored = false;
        var result = ContinueJitLoop(code, budget);
        _stackMirrored = false;
        return result;
    }

    private BpfRunResult ContinueJitLoop(ExecutableMemory code, long budget)
    {
        JitState* s = _jit;
        while (true)
        {
            if (s->VlanPushed != 0) TakeInlineVlanPush(ref Packet);
            if (s->RegionCount != _regionCount) ImportNativeRegions(s);
            switch (s->Status)
            {
                case JitState.StatusHelper:
                    s->CallResult = CallHelperFromJit(s, s->CallArg1, s->CallArg2 != 0);
                    break;
                case JitState.StatusTranslate:
                    s->CallResult = TranslateForJit(s, (ulong)s->CallArg1, s->CallArg2);
                    break;
                case JitState.StatusLegacyLoad:
                    s->CallResult = LegacyLoad((int)s->CallArg1, (Isa.VmOp)s->CallArg2);
                    break;
                case JitState.StatusCallbackReturn:
                    s->CallResult = ResumeCallback((int)s->Depth) switch
                    {
                        >= 0 => JitState.CallbackAgain,
                        -1 => JitState.CallbackDone,
                        _ => JitState.CallbackFault,
                    };
                    break;
                case JitState.StatusDone:
                    return JitDoneResult();
                case JitState.StatusFault:
                    {
                        var fault = s->FaultKind != 0 ? (BpfFault)s->FaultKind : _fault;
                        return new BpfRunResult(0, fault == BpfFault.None ? BpfFault.HelperMisuse : fault, s->FaultPc, 0, 0, budget - Math.Max(s->Budget, 0));
                    }
                default:
                    {
                        // A tail call the helper accepted: continue in the target, as the interpreter does.
                        var target = _pendingTailCall!;
                        EnterTailCallTarget(target);
                        s->Depth = 0;
                        s->RegionCount = _regionCount;
                        s->FirstDynamicRegion = _firstDynamicRegion;
                        s->Resume = 0;
                        code = target.JitCode!;
                        if (code is null) return Execute(target);
                        break;
                    }
            }
            ((delegate* unmanaged[SuppressGCTransition]<JitState*, void>)code.Address)(s);
            GC.KeepAlive(code);
        }
    }

    /// <summary>The tag compiled code's inline bpf_skb_vlan_push put into the shadow becomes the packet's offloaded
    /// tag (see <see cref="JitLowering"/>' InlineVlanPush), before the VM does anything else for the code or the run ends.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void TakeInlineVlanPush(ref PacketContext packet)
    {
        _jit->VlanPushed = 0;
        var shadow = new ReadOnlySpan<byte>(_context, SkBuffLayout.Size);
        packet.VlanPresent = true;
        packet.VlanProto = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)SkBuffShadow.Read(shadow, SkBuffLayout.VlanProto));
        packet.VlanTci = (ushort)SkBuffShadow.Read(shadow, SkBuffLayout.VlanTci);
    }

    /// <summary>Regions compiled code added to the mirror itself (array map elements an inline lookup found, see
    /// <see cref="InlineMap"/>) join the managed table before the VM does anything for the code, so helpers
    /// and the interpreter's translation see the same regions. Their memory is a pinned map's, so the region
    /// addresses it natively.</summary>
    private void ImportNativeRegions(JitState* s)
    {
        int count = (int)s->RegionCount;
        EnsureRegionCapacity(count);
        for (int id = _regionCount; id < count; id++)
        {
            JitRegion* n = _jit->Regions + id;
            _regions[id] = new MemoryRegion
            {
                Start = n->Start, Length = n->Length, Origin = n->Host, Writable = n->Writable != 0, Kind = RegionKind.MapValue,
            };
        }
        _regionCount = count;
    }

    /// <summary>Writes region <paramref name="id"/> into the native mirror (only while compiled code runs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MirrorRegion(int id)
    {
        if (_jitActive) WriteMirror(id);
    }

    private void WriteMirror(int id)
    {
        if (id >= _nativeRegionCapacity) GrowMirror(id);
        ref MemoryRegion r = ref _regions[id];
        JitRegion* n = _jit->Regions + id;
        n->Start = r.Start;
        n->Length = r.Length;
        n->Writable = r.Writable ? 1UL : 0UL;
        n->Host = r.Array is null ? r.Origin : r.PinnedHost != 0 ? r.PinnedHost : _pins.AddressOf(r.Array) + r.Origin;
        if (id == VirtualAddress.PacketRegion) _jit->PacketDelta = PacketDelta(n->Host, n->Start);
    }

    /// <summary>Out of line: the native call (a P/Invoke) would otherwise make every mirror write set up a
    /// P/Invoke frame.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowMirror(int id)
    {
        int capacity = Math.Max(64, Math.Max(id + 1, _nativeRegionCapacity * 2));
        _jit->Regions = (JitRegion*)NativeMemory.Realloc(_jit->Regions, (nuint)(capacity * JitRegion.Size));
        _nativeRegionCapacity = capacity;
        _jit->RegionCapacity = Math.Min(capacity, MaxRegions);
    }

    /// <summary>The context entry of the mirror after a run set the region's length (start and host never change).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MirrorContextLength(ulong length) => _jit->Regions[VirtualAddress.ContextRegion].Length = length;

    /// <summary>A writable region whose host memory is native straight into the mirror, without reading it back from
    /// the managed table: the stack's entry (the packet's: <see cref="MirrorPacket(JitState*, ref PacketContext)"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MirrorNative(int id, ulong start, ulong length, nint host)
    {
        JitRegion* n = _jit->Regions + id;
        n->Start = start;
        n->Length = length;
        n->Host = host;
        n->Writable = 1;
    }

    /// <summary>Where the packet's virtual addresses are in host memory (host address of the packet region's
    /// start minus the start), for accesses the verifier proved inside it.</summary>
    private static long PacketDelta(nint host, ulong start) => host - (nint)start;

    /// <summary>The host address of a packet buffer for the mirror (pinned while compiled code may use it).</summary>
    private nint PinnedPacketAddress(byte[] array) => _pins.AddressOf(array);

    /// <summary>A <c>call imm</c> (or <c>callx</c> when <paramref name="isRegister"/>) the code returned for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CallHelperFromJit(JitState* s, long idOrValue, bool isRegister)
    {
        SyncStackDepth(s);
        var helpers = _program!.Helpers;
        int id = (int)idOrValue;
        if (isRegister && ((ulong)(uint)id != (ulong)idOrValue || !helpers.IsDefined(id)))
        {
            _fault = BpfFault.UnknownHelper;
            return JitState.HelperFault;
        }
        var outcome = InvokeHelperInline(helpers, id);
        s->RegionCount = _regionCount;
        switch (outcome)
        {
            case HelperOutcome.Continue: return JitState.HelperContinue;
            case HelperOutcome.Stop: return JitState.HelperStop;
            case HelperOutcome.Callback:
                // bpf_for_each_map_elem's first element is in r1–r4: the code calls the callback from this depth.
                EnterCallback((int)s->Depth);
                return JitState.HelperCallback;
            case HelperOutcome.TailCall:
                if (s->CallbackLevel > 0 || _callbackLevel > 0)
                {
                    _fault = BpfFault.HelperMisuse; // the kernel allows no tail call from a callback (as the interpreter)
                    return JitState.HelperFault;
                }
                if (++s->TailCalls > MaxTailCalls || _pendingTailCall is null)
                {
                    _pendingTailCall = null;
                    _registers[0] = unchecked((ulong)-Errno.ENOENT);
                    return JitState.HelperContinue;
                }
                return JitState.HelperTailCall;
            default: return JitState.HelperFault;
        }
    }

    /// <summary>An access the inline check did not accept: the interpreter's translation decides (0 = the run
    /// faults, the reason recorded).</summary>
    private nint TranslateForJit(JitState* s, ulong address, long sizeAndWrite)
    {
        SyncStackDepth(s);
        ref byte p = ref Translate(address, (int)(sizeAndWrite & 0xFF), (sizeAndWrite & 0x100) != 0);
        return Unsafe.IsNullRef(ref p) ? 0 : (nint)Unsafe.AsPointer(ref p);
    }

    /// <summary>The code moves its stack region in the mirror itself on bpf-to-bpf calls; the managed table follows here.</summary>
    private void SyncStackDepth(JitState* s)
    {
        if (s->Depth != _stackDepth) SetStackDepth((int)s->Depth);
    }

    /// <summary>Managed buffers that compiled code addresses directly, pinned with a handle each. A buffer stays
    /// pinned while its slot holds it; a displaced handle is freed at the start of the next run (never while a
    /// region of the current run may still point into it).</summary>
    private sealed class PinnedArrays : IDisposable
    {
        private const int Slots = 256;
        private readonly byte[]?[] _arrays = new byte[Slots][];
        private readonly GCHandle[] _handles = new GCHandle[Slots];
        private readonly nint[] _addresses = new nint[Slots];
        private readonly List<GCHandle> _retired = new(Slots);
        private byte[]? _last, _previous;
        private nint _lastAddress, _previousAddress;

        public bool HasRetired => _retired.Count > 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public nint AddressOf(byte[] array) =>
            // The most recent buffer (typically the packet's) without a call; then the one before, then the table.
            ReferenceEquals(_last, array) ? _lastAddress : AddressOfOther(array);

        private nint AddressOfOther(byte[] array)
        {
            if (ReferenceEquals(_previous, array)) return _previousAddress;
            nint address = Pin(array);
            (_previous, _previousAddress) = (_last, _lastAddress);
            (_last, _lastAddress) = (array, address);
            return address;
        }

        private nint Pin(byte[] array)
        {
            int slot = (int)((uint)RuntimeHelpers.GetHashCode(array) * 0x9E3779B1u >> 24);
            if (ReferenceEquals(_arrays[slot], array)) return _addresses[slot];
            if (_arrays[slot] is not null)
            {
                _retired.Add(_handles[slot]);
                if (ReferenceEquals(_arrays[slot], _last)) _last = null;
                if (ReferenceEquals(_arrays[slot], _previous)) _previous = null;
            }
            var handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            _arrays[slot] = array;
            _handles[slot] = handle;
            _addresses[slot] = handle.AddrOfPinnedObject();
            return _addresses[slot];
        }

        public void ReleaseRetired()
        {
            if (_retired.Count == 0) return;
            foreach (var handle in _retired) handle.Free();
            _retired.Clear();
        }

        /// <summary>Unpins every array (between runs: no region points into one).</summary>
        public void ReleaseAll()
        {
            ReleaseRetired();
            for (int i = 0; i < Slots; i++)
            {
                if (_arrays[i] is null) continue;
                _handles[i].Free();
                _arrays[i] = null;
            }
            (_last, _lastAddress, _previous, _previousAddress) = (null, 0, null, 0);
        }

        public void Dispose() => ReleaseAll();
    }
}
