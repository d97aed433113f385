using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Appliance.Bpf.Context;
using Appliance.Bpf.Jit;

namespace Appliance.Bpf.Vm;

public sealed unsafe partial class BpfVm
{
    /// <summary>The host location of [<paramref name="address"/>, +<paramref name="size"/>), or a null ref after
    /// recording the fault when the range is not inside one region or not writable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte Translate(ulong address, int size, bool write)
    {
        ulong id = address >> 32;
        if (id < (ulong)(uint)_regionCount)
        {
            ref MemoryRegion r = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_regions), (nint)id);
            ulong off = address - r.Start;
            if (off < r.Length && r.Length - off >= (ulong)size && (r.Writable || !write))
            {
                return ref r.Array is null
                    ? ref Unsafe.AsRef<byte>((void*)(r.Origin + (nint)off))
                    : ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(r.Array), r.Origin + (nint)off);
            }
        }
        return ref TranslateSlow(address, size, write);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref byte TranslateSlow(ulong address, int size, bool write)
    {
        SettleContextStore();
        ulong id = address >> 32;
        if (id < (ulong)(uint)_regionCount && size > 0)
        {
            ref MemoryRegion r = ref _regions[(int)id];
            ulong off = address - r.Start;
            bool inside = off < r.Length && r.Length - off >= (ulong)size;
            if (inside && r.Kind == RegionKind.Context && (write || !r.Writable))
            {
                // Stores go through here (the context region is read-only to the fast path); so do loads
                // while a narrow store is pending (see SettleContextStore).
                if (!write) return ref Unsafe.AsRef<byte>((void*)(r.Origin + (nint)off));
                if (SkBuffLayout.CheckAccess((long)off, size, write: true) is null)
                {
                    if (SkBuffLayout.IsNarrowWritableField((long)off))
                    {
                        _pendingContextStore = (int)off;
                        _pendingContextPrevious = SkBuffShadow.Read(new ReadOnlySpan<byte>(_context, SkBuffLayout.Size), (int)off);
                        r.Length = 0; // every context access takes this path until the store is settled
                        MirrorRegion(VirtualAddress.ContextRegion);
                    }
                    return ref Unsafe.AsRef<byte>((void*)(r.Origin + (nint)off));
                }
            }
            if (inside)
            {
                _fault = BpfFault.ReadOnlyWrite;
                return ref Unsafe.NullRef<byte>();
            }
        }
        _fault = BpfFault.OutOfBounds;
        return ref Unsafe.NullRef<byte>();
    }

    private int _pendingContextStore = -1;
    private uint _pendingContextPrevious;

    /// <summary>A 4-byte store to tc_index, tc_classid or queue_mapping keeps what the kernel's 16-bit field
    /// would (<see cref="SkBuffShadow.NarrowStoreResult"/>). The store itself lands in the shadow; the VM settles
    /// it at the next context access, helper call or the end of the run — meanwhile the context region has
    /// length 0, so no load sees the unsettled value through the fast path.</summary>
    private void SettleContextStore()
    {
        if (_pendingContextStore < 0) return;
        SkBuffShadow.SettleNarrowStore(new Span<byte>(_context, SkBuffLayout.Size), _pendingContextStore, _pendingContextPrevious);
        _pendingContextStore = -1;
        _regions[VirtualAddress.ContextRegion].Length = SkBuffLayout.Size;
        MirrorRegion(VirtualAddress.ContextRegion);
    }

    /// <summary>A verified 4-byte store to tc_index, tc_classid or queue_mapping: what the kernel's 16-bit field keeps
    /// (<paramref name="immediate"/>: a BPF_ST of that value, else a BPF_STX of that register).</summary>
    private void StoreNarrowContextField(int offset, ulong value, bool immediate)
    {
        if (_pendingContextStore >= 0) SettleContextStore();
        var shadow = new Span<byte>(_context, SkBuffLayout.Size);
        uint previous = SkBuffShadow.Read(shadow, offset);
        Unsafe.WriteUnaligned(_context + offset,
            SkBuffShadow.NarrowStoreResult(offset, previous, (uint)value, SkBuffShadow.IgnoredByQueueMapping(immediate, value)));
    }

    /// <summary>Points region 0 at the packet's current data..data_end (in the managed table, and in the mirror
    /// while compiled code runs) and refreshes the shadow ctx fields that depend on it (data, data_end, data_meta,
    /// len, protocol, VLAN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MapPacket()
    {
        MapPacketRegion();
        if (_jitActive) MirrorPacket(_jit, ref Unsafe.AsRef<PacketContext>(_packet));
        UpdateShadowPacketFields();
    }

    /// <summary>The start of a compiled run, after the mirror's packet entry (<see cref="MirrorPacket(JitState*, ref PacketContext)"/>):
    /// the shadow fields in <paramref name="fields"/>, what the code reads (the packet's by group). The code reads the
    /// packet through the mirror; the managed region (for helpers and the interpreter's translation) and the rest of the
    /// shadow are written at its first runtime call (<see cref="ContinueJit"/>), and until then hold an earlier run's
    /// packet, which nothing reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WriteShadow(ref PacketContext packet, ShadowFields fields)
    {
        var shadow = new Span<byte>(_context, SkBuffLayout.Size);
        if ((fields & ShadowFields.Packet) != 0)
        {
            uint data = (uint)(VirtualAddress.RegionBase(VirtualAddress.PacketRegion) + (ulong)packet.DataOffset);
            SkBuffShadow.UpdatePacketFields(shadow, in packet, data, data + (uint)packet.Length, fields);
        }
        if ((fields & ShadowFields.Filled) != 0) SkBuffShadow.Fill(shadow, in packet, fields & ShadowFields.Filled);
    }

    /// <summary>The shadow fields of <see cref="ShadowFields.Filled"/> in <paramref name="fields"/> from this run's packet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FillShadow(ShadowFields fields) =>
        SkBuffShadow.Fill(new Span<byte>(_context, SkBuffLayout.Size), in Unsafe.AsRef<PacketContext>(_packet), fields & ShadowFields.Filled);

    /// <summary>Region 0 of the managed table at the packet's data..data_end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MapPacketRegion()
    {
        ref PacketContext packet = ref Unsafe.AsRef<PacketContext>(_packet);
        int dataOffset = packet.DataOffset;
        byte[]? array = packet.BackingArray;
        // Field by field: only the array reference costs a write barrier, and only when it changed.
        ref var region = ref _regions[VirtualAddress.PacketRegion];
        region.Start = VirtualAddress.RegionBase(VirtualAddress.PacketRegion) + (ulong)dataOffset;
        region.Length = (ulong)packet.Length;
        if (!ReferenceEquals(region.Array, array)) region.Array = array;
        region.Origin = array is not null ? packet.BackingArrayOffset + dataOffset : (nint)(packet.BackingPointer + dataOffset);
        region.Writable = true;
        region.Kind = RegionKind.Packet;
    }

    /// <summary>The mirror's packet entry at the packet's data..data_end (its host address pinned for a managed buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MirrorPacket(JitState* s, ref PacketContext packet)
    {
        int dataOffset = packet.DataOffset;
        byte[]? array = packet.BackingArray;
        nint host = array is not null ? PinnedPacketAddress(array) + packet.BackingArrayOffset + dataOffset : (nint)(packet.BackingPointer + dataOffset);
        ulong start = VirtualAddress.RegionBase(VirtualAddress.PacketRegion) + (ulong)dataOffset;
        JitRegion* n = s->Regions + VirtualAddress.PacketRegion;
        n->Start = start;
        n->Length = (ulong)packet.Length;
        n->Host = host;
        n->Writable = 1;
        s->PacketDelta = PacketDelta(host, start);
    }

    /// <summary>The shadow ctx fields that follow the packet's extent and metadata.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void UpdateShadowPacketFields(ShadowFields fields = ShadowFields.Packet)
    {
        ref PacketContext packet = ref Unsafe.AsRef<PacketContext>(_packet);
        uint data = (uint)(VirtualAddress.RegionBase(VirtualAddress.PacketRegion) + (ulong)packet.DataOffset);
        SkBuffShadow.UpdatePacketFields(new Span<byte>(_context, SkBuffLayout.Size), in packet, data, data + (uint)packet.Length, fields);
    }

    /// <summary>Adds a region for memory handed to the program at run time (a map value, a ring-buffer record)
    /// and returns its virtual address.</summary>
    private ulong AddDynamicRegion(byte[]? array, nint offset, int length, bool writable, RegionKind kind, object? owner = null, long token = 0)
    {
        // Map values: the direct-mapped cache of recent (array, offset) → region (shared with compiled code, see
        // JitState.ValueCache) keeps repeated lookups of a working set at one region each. Stale slots (earlier
        // runs) are recognised by checking the region. A native value (array null, offset its address) is keyed by
        // its address's low 32 bits, as the compiled code keys it (its map's ValuesHash is its base address's).
        int slot = 0;
        if (kind == RegionKind.MapValue)
        {
            slot = array is null ? JitState.ValueCacheSlot((int)offset, 0) : JitState.ValueCacheSlot(RuntimeHelpers.GetHashCode(array), (int)offset);
            int cached = _jit->ValueCache[slot];
            if (cached >= _firstDynamicRegion && cached < _regionCount)
            {
                ref var r = ref _regions[cached];
                if (ReferenceEquals(r.Array, array) && r.Origin == offset && r.Kind == kind && r.Length == (ulong)length)
                    return r.Start;
            }
        }
        EnsureRegionCapacity(_regionCount + 1);
        int id = _regionCount++;
        _regions[id] = new MemoryRegion
        {
            Start = VirtualAddress.RegionBase(id), Length = (ulong)length, Array = array, Origin = offset,
            Writable = writable, Kind = kind, Owner = owner, Token = token,
        };
        if (kind == RegionKind.MapValue) _jit->ValueCache[slot] = id;
        MirrorRegion(id);
        return _regions[id].Start;
    }
}
