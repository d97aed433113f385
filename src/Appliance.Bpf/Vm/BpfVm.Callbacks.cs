using System.Buffers.Binary;
using Appliance.Bpf.Helpers;
using Appliance.Bpf.Jit;
using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Vm;

/// <summary>Callbacks (bpf_loop, bpf_for_each_map_elem) run as BPF subprograms in a frame of their own, driven by
/// the interpreter loop, never by recursion: the helper prepares a <see cref="CallbackLoop"/> with the first
/// call's arguments in r1–r4 and returns <see cref="HelperOutcome.Callback"/>; the interpreter pushes a callback
/// frame and enters the callback; at the callback's exit it asks <see cref="ResumeCallback"/> whether to call it
/// again (same frame, r10 reset, next arguments) or to return the number of calls to the helper's caller, as the
/// kernel's helpers do. A callback returns 0 (go on) or 1 (stop); anything else faults the run (the kernel
/// refuses such a program at load). Map elements are handed to a callback through two regions per nesting
/// level that move from element to element, so a scan of a large map takes no region per element: the value's, and the
/// key's — over the hash keys taken at the call (as large as the map's keys), or an array index's slot. Callback
/// instructions count against the run's instruction budget. Compiled code runs bpf_loop itself and calls
/// for_each_map_elem's callback itself, with the same start (the helper, from the code's depth) and
/// <see cref="ResumeCallback"/> at each return (see JitLowering.Callbacks).</summary>
public sealed unsafe partial class BpfVm
{
    /// <summary>The kernel's BPF_MAX_LOOPS: bpf_loop refuses more iterations with -E2BIG.</summary>
    public const uint MaxLoops = 1u << 23;

    internal enum CallbackKind : byte { Loop, ForEachArray, ForEachHash }

    internal struct CallbackLoop
    {
        public CallbackKind Kind;
        public int Entry;
        public long Index;
        public long Count;
        public ulong Context;
        public BpfMap? Map;
        public ulong MapHandle;
        public int KeysStart;
        public int KeySlot, KeyRegion, ValueRegion; // KeySlot: an array walk's index in _callbackKeys
        public uint Calls;
    }

    private readonly CallbackLoop[] _loops = new CallbackLoop[MaxCallFrames];
    private CallbackLoop _pendingLoop;
    /// <summary>An array walk's u32 index, one slot per nesting level (a hash walk's key is its snapshot's).</summary>
    private readonly byte[] _callbackKeys = new byte[MaxCallFrames * sizeof(uint)];
    private byte[] _keySnapshot = [];
    /// <summary>How many callbacks are running (nested bpf_loop calls each add one).</summary>
    private int _callbackLevel;

    /// <summary>Forgets callbacks a faulted run left behind (called when a run starts).</summary>
    private void ResetCallbacks()
    {
        if (_callbackLevel == 0) return;
        Array.Clear(_loops);
        _callbackLevel = 0;
    }

    /// <summary>bpf_loop(nr_loops, callback_fn, callback_ctx, flags).</summary>
    internal HelperOutcome StartLoop(uint count, ulong callback, ulong context, ulong flags)
    {
        if (!CurrentProgram.IsCallback(callback, out int entry)) return Fail(BpfFault.HelperMisuse);
        if (flags != 0) return LinuxHelperTable.Error(this, Errno.EINVAL);
        if (count > MaxLoops) return LinuxHelperTable.Error(this, Errno.E2BIG);
        if (count == 0) return LinuxHelperTable.Return(this, 0);
        _pendingLoop = new CallbackLoop { Kind = CallbackKind.Loop, Entry = entry, Index = -1, Count = count, Context = context };
        Advance(ref _pendingLoop);
        return HelperOutcome.Callback;
    }

    /// <summary>bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags) on array and hash maps (per-CPU
    /// ones give this CPU's value). A hash map's keys are taken when the call starts; an element deleted before
    /// its turn is skipped, one added meanwhile is not visited.</summary>
    internal HelperOutcome StartForEach(ulong mapHandle, ulong callback, ulong context, ulong flags)
    {
        var map = ResolveMap(mapHandle);
        if (map is null) return HelperOutcome.Fault;
        if (!CurrentProgram.IsCallback(callback, out int entry)) return Fail(BpfFault.HelperMisuse);
        var kind = map.Type switch
        {
            BpfMapType.Array or BpfMapType.PercpuArray => CallbackKind.ForEachArray,
            BpfMapType.Hash or BpfMapType.PercpuHash or BpfMapType.LruHash or BpfMapType.LruPercpuHash => CallbackKind.ForEachHash,
            _ => (CallbackKind)255,
        };
        if (kind == (CallbackKind)255) return Fail(BpfFault.HelperMisuse); // the kernel refuses it at load
        if (flags != 0) return LinuxHelperTable.Error(this, Errno.EINVAL);
        if (_regionCount + 2 > MaxRegions) return LinuxHelperTable.Error(this, Errno.E2BIG);

        var loop = new CallbackLoop
        {
            Kind = kind, Entry = entry, Index = -1, Count = map.MaxEntries, Context = context, Map = map, MapHandle = mapHandle,
        };
        // The callback sees the key read-only, as the kernel's PTR_TO_MAP_KEY: a hash's key in the snapshot (the region
        // moves over it, empty until the first element), an array's index in this nesting level's slot.
        if (kind == CallbackKind.ForEachHash)
        {
            loop.KeysStart = SnapshotTop();
            loop.Count = SnapshotKeys(map, loop.KeysStart);
            if (loop.Count < 0) return LinuxHelperTable.Error(this, Errno.E2BIG); // the nested walks' keys pass what one array holds
            loop.KeyRegion = (int)(AddDynamicRegion(_keySnapshot, loop.KeysStart, 0, false, RegionKind.CallbackKey) >> 32);
        }
        else
        {
            loop.KeySlot = _callbackLevel * sizeof(uint);
            loop.KeyRegion = (int)(AddDynamicRegion(_callbackKeys, loop.KeySlot, sizeof(uint), false, RegionKind.CallbackKey) >> 32);
        }
        loop.ValueRegion = (int)(AddDynamicRegion(_callbackKeys, 0, 0, false, RegionKind.CallbackValue) >> 32);
        if (_jitActive) ForgetCachedRegion(loop.ValueRegion);
        _pendingLoop = loop;
        if (!Advance(ref _pendingLoop)) return LinuxHelperTable.Return(this, 0);
        return HelperOutcome.Callback;
    }

    /// <summary>The value region moves over the map's elements, so the map-value cache (<see cref="JitState.ValueCache"/>)
    /// must not name its id: a slot an earlier run left with that id would let compiled code's inline lookup, which
    /// checks the mirror's host, length and access but not the region's kind, hand out this region for the element it
    /// shows (the VM's own lookup checks the kind). Its id is new to this run, so only stale slots can name it.</summary>
    private void ForgetCachedRegion(int id)
    {
        for (int slot = 0; slot < JitState.ValueCacheSlots; slot++)
            if (_jit->ValueCache[slot] == id) _jit->ValueCache[slot] = 0;
    }

    /// <summary>Where the next hash-key snapshot may start: after those of the loops still running (inside the
    /// snapshot array, so it fits an int).</summary>
    private int SnapshotTop()
    {
        long top = 0;
        for (int l = 0; l < _loops.Length; l++)
            if (_loops[l].Kind == CallbackKind.ForEachHash && _loops[l].Map is { } m)
                top = Math.Max(top, _loops[l].KeysStart + _loops[l].Count * m.KeySize);
        return (int)top;
    }

    /// <summary>Copies the hash's keys into the snapshot from <paramref name="start"/> on, growing it with the keys
    /// there are (not the map's capacity: a walk of a big, nearly empty hash takes little); the number of keys, or -1
    /// when they would pass the largest array.</summary>
    private long SnapshotKeys(BpfMap map, int start)
    {
        int keySize = map.KeySize;
        long count = 0;
        ReadOnlySpan<byte> previous = [];
        while (count < map.MaxEntries)
        {
            long at = start + count * keySize, end = at + keySize;
            if (end > Array.MaxLength) return -1;
            if (_keySnapshot.Length < end)
                Array.Resize(ref _keySnapshot, (int)Math.Min(Array.MaxLength, Math.Max(end, Math.Max(256L, _keySnapshot.Length * 2L))));
            var next = _keySnapshot.AsSpan((int)at, keySize); // previous may still be the array before the resize: same bytes
            if (!map.TryGetNextKey(previous, next)) break;
            previous = next;
            count++;
        }
        return count;
    }

    /// <summary>Moves <paramref name="loop"/> to its next call and puts that call's arguments in r1–r4; false when
    /// there is none.</summary>
    private bool Advance(ref CallbackLoop loop)
    {
        var r = _registers;
        if (loop.Kind == CallbackKind.Loop)
        {
            if (++loop.Index >= loop.Count) return false;
            r[1] = (ulong)loop.Index;
            r[2] = loop.Context;
            return true;
        }
        var map = loop.Map!;
        while (++loop.Index < loop.Count)
        {
            // A nested walk may have grown the snapshot since: this loop's keys are at the same place in the new array.
            int keyAt = loop.Kind == CallbackKind.ForEachArray ? loop.KeySlot : loop.KeysStart + (int)loop.Index * map.KeySize;
            byte[] keys = loop.Kind == CallbackKind.ForEachArray ? _callbackKeys : _keySnapshot;
            if (loop.Kind == CallbackKind.ForEachArray) BinaryPrimitives.WriteUInt32LittleEndian(keys.AsSpan(keyAt), (uint)loop.Index);
            if (!map.TryWalkValue(keys.AsSpan(keyAt, map.KeySize), out var value) || value.Count == 0) continue;
            if (loop.Kind == CallbackKind.ForEachHash)
            {
                ref var keyRegion = ref _regions[loop.KeyRegion];
                keyRegion.Array = keys;
                keyRegion.Origin = keyAt;
                keyRegion.Length = (ulong)map.KeySize;
                MirrorRegion(loop.KeyRegion);
            }
            ref var region = ref _regions[loop.ValueRegion];
            region.Array = value.Array;
            region.Origin = value.Origin;
            region.Length = (ulong)value.Count;
            region.Writable = map.Definition.ProgramsMayWrite;
            region.Owner = map;
            MirrorRegion(loop.ValueRegion);
            r[1] = loop.MapHandle;
            r[2] = _regions[loop.KeyRegion].Start;
            r[3] = region.Start;
            r[4] = loop.Context;
            return true;
        }
        return false;
    }

    /// <summary>The interpreter entered the callback <see cref="_pendingLoop"/> describes from frame <paramref name="level"/>.</summary>
    private int EnterCallback(int level)
    {
        _loops[level] = _pendingLoop;
        _pendingLoop = default;
        _callbackLevel++;
        return _loops[level].Entry;
    }

    /// <summary>The callback entered from frame <paramref name="level"/> returned r0: the entry to call it again
    /// at (its next arguments in r1–r4), -1 when the helper is done (r0 = the number of calls), or -2 after
    /// recording a fault.</summary>
    private int ResumeCallback(int level)
    {
        ref var loop = ref _loops[level];
        loop.Calls++;
        ulong verdict = _registers[0];
        if (verdict > 1)
        {
            _fault = BpfFault.HelperMisuse;
            return -2;
        }
        if (verdict == 0 && Advance(ref loop)) return loop.Entry;
        _registers[0] = loop.Calls;
        if (loop.Map is not null)
        {
            _regions[loop.ValueRegion].Length = 0; // the last element's pointers end with the helper call
            MirrorRegion(loop.ValueRegion);
            if (loop.Kind == CallbackKind.ForEachHash)
            {
                _regions[loop.KeyRegion].Length = 0;
                MirrorRegion(loop.KeyRegion);
            }
        }
        loop = default;
        _callbackLevel--;
        return -1;
    }
}
