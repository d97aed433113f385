using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Vm;

/// <summary>bpf_spin_lock / bpf_spin_unlock: a real lock on the 4-byte <c>struct bpf_spin_lock</c> inside a map
/// value (0 = free, 1 = taken, set with an interlocked compare-exchange, so runs on several workers' VMs exclude
/// each other). As in the kernel, a run holds at most one lock, calls no other helper while holding it, and
/// must release it before it ends; the verifier refuses what it can see of that at load, the VM checks the rest
/// (a run that ends holding the lock releases it and faults, so no worker can be left spinning).</summary>
public sealed unsafe partial class BpfVm
{
    private byte[]? _lockArray;
    private int _lockOffset;

    /// <summary>True while the run holds a bpf_spin_lock.</summary>
    internal bool HoldsSpinLock => _lockArray is not null;

    internal HelperOutcome SpinLock(ulong address)
    {
        if (!TryFindLock(address, out var array, out int offset)) return HelperOutcome.Fault;
        if (_lockArray is not null) return Fail(BpfFault.HelperMisuse); // "Locking two bpf_spin_locks are not allowed"
        ref int cell = ref LockCell(array, offset);
        if (Interlocked.CompareExchange(ref cell, 1, 0) != 0)
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref cell) != 0 || Interlocked.CompareExchange(ref cell, 1, 0) != 0) spinner.SpinOnce(sleep1Threshold: -1);
        }
        _lockArray = array;
        _lockOffset = offset;
        return LinuxHelperTable.Return(this, 0);
    }

    internal HelperOutcome SpinUnlock(ulong address)
    {
        if (!TryFindLock(address, out var array, out int offset)) return HelperOutcome.Fault;
        if (!ReferenceEquals(array, _lockArray) || offset != _lockOffset) return Fail(BpfFault.HelperMisuse); // not the lock this run holds
        ReleaseSpinLock();
        return LinuxHelperTable.Return(this, 0);
    }

    /// <summary>Releases the lock a run still holds; true when there was one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ReleaseSpinLock()
    {
        if (_lockArray is null) return false;
        Volatile.Write(ref LockCell(_lockArray, _lockOffset), 0);
        _lockArray = null;
        return true;
    }

    private static ref int LockCell(byte[] array, int offset) =>
        ref Unsafe.As<byte, int>(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset));

    /// <summary>The map value storage of the bpf_spin_lock at <paramref name="address"/>: it must be the lock
    /// member of a value the program looked up (or a for_each callback was handed), as the kernel's verifier
    /// requires; anything else faults the run.</summary>
    private bool TryFindLock(ulong address, out byte[] array, out int offset)
    {
        array = null!;
        offset = 0;
        ulong id = address >> 32;
        if (id >= (ulong)_firstDynamicRegion && id < (ulong)_regionCount)
        {
            ref var region = ref _regions[(int)id];
            if (region.Kind is RegionKind.MapValue or RegionKind.CallbackValue && region.Owner is BpfMap map && region.Array is not null
                && map.Definition.SpinLockOffset >= 0 && address - region.Start == (ulong)map.Definition.SpinLockOffset
                && region.Length >= (ulong)map.Definition.SpinLockOffset + 4)
            {
                array = region.Array;
                offset = (int)region.Origin + map.Definition.SpinLockOffset;
                if (((nuint)Unsafe.AsPointer(ref LockCell(array, offset)) & 3) == 0) return true;
                _fault = BpfFault.MisalignedAtomic;
                return false;
            }
        }
        _fault = BpfFault.HelperMisuse;
        return false;
    }
}
