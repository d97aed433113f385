namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_ARRAY_OF_MAPS (key = u32 index, every slot empty at first) and HASH_OF_MAPS: each element
/// is another live map matching the inner template (<see cref="BpfMapDefinition.InnerMap"/>: the kernel's
/// bpf_map_meta_equal — type, key and value sizes, flags, and max_entries unless the template has
/// BPF_F_INNER_MAP). A program's bpf_map_lookup_elem gives the inner map, which it then uses as any map; programs
/// cannot update or delete elements (the kernel's verifier refuses it), user space does with
/// <see cref="SetInner"/> / <see cref="Delete"/>. User space reads an element as the inner map's
/// <see cref="BpfMap.Id"/> (u32), as the kernel's syscall returns the inner map's id.</summary>
public sealed class MapOfMaps : BpfMap
{
    private readonly BpfMap?[] _inner;
    private readonly HashMap? _index; // hash of maps: key → slot in _inner (u32)
    private readonly Stack<int> _free = new();
    private readonly Lock _writer = new();

    public MapOfMaps(BpfMapDefinition definition) : base(definition)
    {
        if (definition.InnerMap is null) throw new ArgumentException($"map '{definition.Name}' ({definition.Type}) has no inner map template", nameof(definition));
        _inner = new BpfMap?[definition.MaxEntries];
        if (definition.Type == BpfMapType.HashOfMaps)
        {
            _index = new HashMap(new BpfMapDefinition(definition.Name, BpfMapType.Hash, definition.KeySize, 4, definition.MaxEntries));
            for (int slot = definition.MaxEntries - 1; slot >= 0; slot--) _free.Push(slot);
        }
    }

    /// <summary>The inner map at <paramref name="key"/>, or null.</summary>
    public BpfMap? LookupInner(ReadOnlySpan<byte> key) => Slot(key) is int slot and >= 0 ? Volatile.Read(ref _inner[slot]) : null;

    /// <summary>The inner maps its slots hold now.</summary>
    public IEnumerable<BpfMap> InnerMaps
    {
        get
        {
            for (int i = 0; i < _inner.Length; i++)
                if (Volatile.Read(ref _inner[i]) is { } inner) yield return inner;
        }
    }

    private int Slot(ReadOnlySpan<byte> key)
    {
        if (_index is null) return MapLayout.TryIndex(key, out uint i) && i < (uint)MaxEntries ? (int)i : -1;
        return _index.TryLookup(key, out var value) ? BitConverter.ToInt32(value.AsSpan()) : -1;
    }

    /// <summary>Puts <paramref name="inner"/> at <paramref name="key"/> (BPF_ANY / BPF_NOEXIST / BPF_EXIST); 0 or
    /// -errno: -EINVAL when it does not match the template, -E2BIG past an array's end or when a hash is full.</summary>
    public int SetInner(ReadOnlySpan<byte> key, BpfMap inner, ulong flags)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (!MapLayout.ValidFlags(flags) || key.Length < KeySize || !Matches(inner.Definition)) return -Errno.EINVAL;
        lock (_writer)
        {
            if (_index is null)
            {
                if (!MapLayout.TryIndex(key, out uint i)) return -Errno.EINVAL;
                if (i >= (uint)MaxEntries) return -Errno.E2BIG;
                if (flags == BpfUpdateFlags.NoExist && _inner[i] is not null) return -Errno.EEXIST;
                if (flags == BpfUpdateFlags.Exist && _inner[i] is null) return -Errno.ENOENT;
                Volatile.Write(ref _inner[i], inner);
                return 0;
            }
            int slot = Slot(key);
            if (slot >= 0)
            {
                if (flags == BpfUpdateFlags.NoExist) return -Errno.EEXIST;
                Volatile.Write(ref _inner[slot], inner);
                return 0;
            }
            if (flags == BpfUpdateFlags.Exist) return -Errno.ENOENT;
            if (_free.Count == 0) return -Errno.E2BIG;
            slot = _free.Pop();
            Volatile.Write(ref _inner[slot], inner);
            int result = _index.Update(key[..KeySize], BitConverter.GetBytes(slot), BpfUpdateFlags.NoExist);
            if (result != 0)
            {
                _inner[slot] = null;
                _free.Push(slot);
            }
            return result;
        }
    }

    private bool Matches(BpfMapDefinition inner)
    {
        var t = Definition.InnerMap!;
        return inner.Type == t.Type && inner.KeySize == t.KeySize && inner.ValueSize == t.ValueSize
            && BpfMapFlags.Permanent(inner.Flags) == BpfMapFlags.Permanent(t.Flags)
            && ((t.Flags & BpfMapFlags.InnerMap) != 0 /* inner maps may differ in max_entries */ || inner.MaxEntries == t.MaxEntries);
    }

    /// <summary>Not a value map: programs get inner maps through <see cref="LookupInner"/>.</summary>
    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        value = default;
        return false;
    }

    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value)
    {
        if (LookupInner(key) is not { } inner) return false;
        BitConverter.TryWriteBytes(value, (uint)inner.Id);
        return true;
    }

    /// <summary>A value from user space would be a map fd in the kernel; here inner maps are set with <see cref="SetInner"/>.</summary>
    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;

    public override int Delete(ReadOnlySpan<byte> key)
    {
        lock (_writer)
        {
            int slot = Slot(key);
            if (slot < 0 || _inner[slot] is null) return _index is null && slot < 0 ? -Errno.E2BIG : -Errno.ENOENT;
            Volatile.Write(ref _inner[slot], null);
            if (_index is not null)
            {
                _index.Delete(key[..KeySize]);
                _free.Push(slot);
            }
            return 0;
        }
    }

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        if (_index is not null) return _index.TryGetNextKey(key, nextKey);
        // Arrays of maps list the slots that hold a map (the kernel lists every index; its lookup of an empty one fails).
        Span<byte> probe = stackalloc byte[4];
        key.CopyTo(probe);
        ReadOnlySpan<byte> from = key.Length == 0 ? [] : probe;
        while (MapLayout.NextIndex(from, MaxEntries, nextKey))
        {
            if (LookupInner(nextKey) is not null) return true;
            nextKey[..4].CopyTo(probe);
            from = probe;
        }
        return false;
    }

    /// <summary>Fills the slots libbpf's static <c>.values</c> initialiser names (<see cref="BpfMapDefinition.InitialInnerMaps"/>)
    /// with the object's maps of those names, and a prog array's (<see cref="BpfMapDefinition.InitialPrograms"/>) with
    /// the programs' indices; the outer maps of <paramref name="maps"/> that are already filled keep their contents.
    /// A map <paramref name="live"/> names (one a reload carried over from the running set) is left as it is: its
    /// slots are running state (a slot emptied with `maps delete` stays empty), and a load that fails later frees the
    /// fresh maps it made, which must not be in a running map then.</summary>
    public static void BindInitialSlots(IReadOnlyList<BpfMap> maps, Func<BpfMap, bool>? live = null)
    {
        ArgumentNullException.ThrowIfNull(maps);
        foreach (var map in maps)
        {
            if (live?.Invoke(map) == true) continue;
            if (map is ProgArrayMap programs)
                foreach (var (slot, program) in programs.Definition.InitialPrograms)
                    programs.UpdateFromUser(BitConverter.GetBytes((uint)slot), BitConverter.GetBytes((uint)program), BpfUpdateFlags.Any);
            if (map is not MapOfMaps outer || outer.Definition.InitialInnerMaps.Count == 0) continue;
            foreach (var (slot, name) in outer.Definition.InitialInnerMaps)
            {
                var inner = maps.FirstOrDefault(m => m.Name == name)
                    ?? throw new ArgumentException($"map '{outer.Name}': slot {slot} names map '{name}', which the object does not have");
                int result = outer.SetInner(BitConverter.GetBytes((uint)slot).AsSpan(0, Math.Min(4, outer.KeySize)), inner, BpfUpdateFlags.NoExist);
                if (result is not (0 or -Errno.EEXIST))
                    throw new ArgumentException($"map '{outer.Name}': slot {slot} cannot hold map '{name}' ({Errno.Name(-result)}: it must match the inner map template)");
            }
        }
    }
}
