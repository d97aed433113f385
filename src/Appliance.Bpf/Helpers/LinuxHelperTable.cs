using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>The helpers a tc/netkit program may call, with Linux ids and semantics (see
/// <see cref="BpfHelperId"/>). Stateless and shared; per-run state lives in the <see cref="BpfVm"/>.</summary>
public sealed class LinuxHelperTable : BpfHelperTable
{
    public static LinuxHelperTable Instance { get; } = new();

    public override bool IsDefined(int helperId) => Enum.IsDefined((BpfHelperId)helperId);

    public override string NameOf(int helperId) => LinuxHelperNames.NameOf(helperId);

    public override string? WhyRefused(int helperId) => IsDefined(helperId) ? null : LinuxHelperNames.WhyRefused(helperId);

    // The memory each helper reads or writes through its arguments, by the kernel's prototypes (net/core/filter.c,
    // kernel/bpf/helpers.c, kernel/trace/bpf_trace.c; kernel 6.18): MEM_WRITE / MEM_UNINIT arguments are writes.
    private static readonly HelperArgumentRule KeyRule = new([new(2, HelperMemoryAccess.Read, HelperMemorySize.MapKey)]);
    private static readonly HelperArgumentRule UpdateRule = new([new(2, HelperMemoryAccess.Read, HelperMemorySize.MapKey),
        new(3, HelperMemoryAccess.Read, HelperMemorySize.MapValue)]);
    private static readonly HelperArgumentRule PushRule = new([new(2, HelperMemoryAccess.Read, HelperMemorySize.MapValue)]);
    private static readonly HelperArgumentRule TakeRule = new([new(2, HelperMemoryAccess.Write, HelperMemorySize.MapValue)]);
    private static readonly HelperArgumentRule PrintkRule = new([HelperMemoryArgument.Reads(1, 2)]);
    private static readonly HelperArgumentRule VprintkRule = new([HelperMemoryArgument.Reads(1, 2), HelperMemoryArgument.Reads(3, 4, sizeMayBeZero: true)]);
    private static readonly HelperArgumentRule StoreBytesRule = new([HelperMemoryArgument.Reads(3, 4)]);
    private static readonly HelperArgumentRule LoadBytesRule = new([HelperMemoryArgument.Writes(3, 4)]);
    private static readonly HelperArgumentRule CsumDiffRule = new([HelperMemoryArgument.Reads(1, 2, sizeMayBeZero: true),
        HelperMemoryArgument.Reads(3, 4, sizeMayBeZero: true)]);
    private static readonly HelperArgumentRule PerfEventOutputRule = new([HelperMemoryArgument.Reads(4, 5, sizeMayBeZero: true)]);
    private static readonly HelperArgumentRule RingbufOutputRule = new([HelperMemoryArgument.Reads(2, 3, sizeMayBeZero: true)]);
    private static readonly HelperArgumentRule CheckMtuRule = new([new(3, HelperMemoryAccess.Write, HelperMemorySize.Fixed, sizeof(uint))]);
    private static readonly HelperArgumentRule FibLookupRule = new([HelperMemoryArgument.Writes(2, 3)], 4, FibLookupHelper.WhyFlagsRefused);
    private static readonly HelperArgumentRule RedirectNeighRule = new([HelperMemoryArgument.Reads(2, 3, sizeMayBeZero: true)]);
    private static readonly HelperArgumentRule StrncmpRule = new([HelperMemoryArgument.Reads(1, 2)], ConstStringArgument: 3);
    private static readonly HelperArgumentRule SnprintfRule = new([HelperMemoryArgument.Writes(1, 2, sizeMayBeZero: true),
        HelperMemoryArgument.Reads(4, 5, sizeMayBeZero: true)], ConstStringArgument: 3, CountArgument: 5,
        WhyConstStringRefused: TracePrintkHelper.WhyFormatRefused);

    public override HelperArgumentRule? ArgumentRule(int helperId) => (BpfHelperId)helperId switch
    {
        BpfHelperId.MapLookupElem or BpfHelperId.MapDeleteElem or BpfHelperId.MapLookupPercpuElem => KeyRule,
        BpfHelperId.MapUpdateElem => UpdateRule,
        BpfHelperId.MapPushElem => PushRule,
        BpfHelperId.MapPopElem or BpfHelperId.MapPeekElem => TakeRule,
        BpfHelperId.TracePrintk => PrintkRule,
        BpfHelperId.TraceVprintk => VprintkRule,
        BpfHelperId.SkbStoreBytes => StoreBytesRule,
        BpfHelperId.SkbLoadBytes or BpfHelperId.SkbLoadBytesRelative => LoadBytesRule,
        BpfHelperId.CsumDiff => CsumDiffRule,
        BpfHelperId.PerfEventOutput => PerfEventOutputRule,
        BpfHelperId.RingbufOutput => RingbufOutputRule,
        BpfHelperId.CheckMtu => CheckMtuRule,
        BpfHelperId.FibLookup => FibLookupRule,
        BpfHelperId.RedirectNeigh => RedirectNeighRule,
        BpfHelperId.Strncmp => StrncmpRule,
        BpfHelperId.Snprintf => SnprintfRule,
        _ => null, // no memory through its arguments (bpf_spin_lock's lock, the ring buffer's record and bpf_loop's
                   // context are checked apart, as the kernel checks them apart: not a map value a flag binds)
    };

    // Inlined into the VM's call of a Linux-table helper (it tests for this sealed table): one call fewer per helper.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public override HelperOutcome Invoke(int helperId, BpfVm vm) =>
        vm.HoldsSpinLock && helperId != (int)BpfHelperId.SpinUnlock
            ? vm.Fail(BpfFault.HelperMisuse) // the kernel: "function calls are not allowed while holding a lock"
            : Dispatch(helperId, vm);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static HelperOutcome Dispatch(int helperId, BpfVm vm) => (BpfHelperId)helperId switch
    {
        BpfHelperId.MapLookupElem => MapHelpers.Lookup(vm),
        BpfHelperId.MapUpdateElem => MapHelpers.Update(vm),
        BpfHelperId.MapDeleteElem => MapHelpers.Delete(vm),
        BpfHelperId.KtimeGetNs => SystemHelpers.KtimeGetNs(vm),
        BpfHelperId.TracePrintk => TracePrintkHelper.Invoke(vm),
        BpfHelperId.TraceVprintk => TracePrintkHelper.InvokeVarArgs(vm),
        BpfHelperId.GetPrandomU32 => SystemHelpers.GetPrandomU32(vm),
        BpfHelperId.GetSmpProcessorId => SystemHelpers.GetSmpProcessorId(vm),
        BpfHelperId.GetNumaNodeId => SystemHelpers.GetNumaNodeId(vm),
        BpfHelperId.SkbStoreBytes => PacketBytesHelpers.StoreBytes(vm),
        BpfHelperId.L3CsumReplace => ChecksumHelpers.L3Replace(vm),
        BpfHelperId.L4CsumReplace => ChecksumHelpers.L4Replace(vm),
        BpfHelperId.TailCall => ControlHelpers.TailCall(vm),
        BpfHelperId.SkbVlanPush => VlanHelpers.Push(vm),
        BpfHelperId.SkbVlanPop => VlanHelpers.Pop(vm),
        BpfHelperId.Redirect => ControlHelpers.Redirect(vm),
        BpfHelperId.SkbLoadBytes => PacketBytesHelpers.LoadBytes(vm),
        BpfHelperId.CsumDiff => ChecksumHelpers.Diff(vm),
        BpfHelperId.CsumUpdate => ChecksumHelpers.Update(vm),
        BpfHelperId.CsumLevel => ChecksumHelpers.Level(vm),
        BpfHelperId.GetHashRecalc => PacketBytesHelpers.GetHashRecalc(vm),
        BpfHelperId.SkbChangeTail => PacketResizeHelpers.ChangeTail(vm),
        BpfHelperId.SkbChangeHead => PacketResizeHelpers.ChangeHead(vm),
        BpfHelperId.SkbAdjustRoom => PacketResizeHelpers.AdjustRoom(vm),
        BpfHelperId.SkbChangeType => PacketMetadataHelpers.ChangeType(vm),
        BpfHelperId.SkbPullData => PacketMetadataHelpers.PullData(vm),
        BpfHelperId.SetHashInvalid => PacketMetadataHelpers.SetHash(vm, invalidate: true),
        BpfHelperId.SetHash => PacketMetadataHelpers.SetHash(vm, invalidate: false),
        BpfHelperId.SkbLoadBytesRelative => PacketBytesHelpers.LoadBytesRelative(vm),
        BpfHelperId.Jiffies64 => SystemHelpers.Jiffies64(vm),
        BpfHelperId.KtimeGetBootNs or BpfHelperId.KtimeGetCoarseNs => SystemHelpers.KtimeGetNs(vm),
        BpfHelperId.SkbChangeProto => PacketProtocolHelpers.ChangeProto(vm),
        BpfHelperId.SkbEcnSetCe => PacketProtocolHelpers.EcnSetCe(vm),
        BpfHelperId.CheckMtu => CheckMtuHelper.Invoke(vm),
        BpfHelperId.Loop => CallbackHelpers.Loop(vm),
        BpfHelperId.SpinLock => SpinLockHelpers.Lock(vm),
        BpfHelperId.SpinUnlock => SpinLockHelpers.Unlock(vm),
        BpfHelperId.ForEachMapElem => CallbackHelpers.ForEachMapElem(vm),
        BpfHelperId.PerfEventOutput => PerfEventOutputHelper.Invoke(vm),
        BpfHelperId.MapPushElem => MapHelpers.Push(vm),
        BpfHelperId.MapPopElem => MapHelpers.Take(vm, remove: true),
        BpfHelperId.MapPeekElem => MapHelpers.Take(vm, remove: false),
        BpfHelperId.RingbufOutput => RingBufHelpers.Output(vm),
        BpfHelperId.RingbufReserve => RingBufHelpers.Reserve(vm),
        BpfHelperId.RingbufSubmit => RingBufHelpers.Commit(vm, discard: false),
        BpfHelperId.RingbufDiscard => RingBufHelpers.Commit(vm, discard: true),
        BpfHelperId.RingbufQuery => RingBufHelpers.Query(vm),
        BpfHelperId.MapLookupPercpuElem => MapHelpers.LookupPercpu(vm),
        BpfHelperId.KtimeGetTaiNs => SystemHelpers.KtimeGetTaiNs(vm),
        BpfHelperId.Strncmp => StringHelpers.Strncmp(vm),
        BpfHelperId.Snprintf => TracePrintkHelper.Snprintf(vm),
        BpfHelperId.FibLookup => FibLookupHelper.Invoke(vm),
        BpfHelperId.RedirectNeigh => RedirectRoutingHelpers.RedirectNeigh(vm),
        BpfHelperId.RedirectPeer => RedirectRoutingHelpers.RedirectPeer(vm),
        _ => vm.Fail(BpfFault.UnknownHelper),
    };

    /// <summary>Sets r0 to a negative errno and continues.</summary>
    internal static HelperOutcome Error(BpfVm vm, int errno)
    {
        vm.ReturnValue = unchecked((ulong)(long)-errno);
        return HelperOutcome.Continue;
    }

    internal static HelperOutcome Return(BpfVm vm, ulong value)
    {
        vm.ReturnValue = value;
        return HelperOutcome.Continue;
    }
}
