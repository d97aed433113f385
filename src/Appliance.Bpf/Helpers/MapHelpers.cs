using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3) on the abstract map.
/// A lookup exposes the value's storage itself, so the program's writes through the pointer are the map's
/// new value, as in the kernel. bpf_map_push_elem (87), bpf_map_pop_elem (88) and bpf_map_peek_elem (89) work on
/// queue and stack maps; the by-key helpers on them, and push/pop/peek on other maps, are misuse the kernel's
/// verifier refuses, and so are update, delete, push and pop on a map read-only to programs (BPF_F_RDONLY_PROG): the
/// verifier refuses those calls where it knows the map; a call it could not place faults here. A lookup in a map of
/// maps gives the inner map (a handle the program passes on as a map).</summary>
internal static class MapHelpers
{
    public static HelperOutcome Lookup(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is QueueStackMap or PerfEventArrayMap) return vm.Fail(BpfFault.HelperMisuse);
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        if (map is MapOfMaps outer) return LinuxHelperTable.Return(vm, outer.LookupInner(key) is { } inner ? vm.ExposeMap(inner) : 0);
        if (!map.TryLookup(key, out var value)) return LinuxHelperTable.Return(vm, 0);
        return LinuxHelperTable.Return(vm, vm.ExposeMapValue(value, writable: map.Definition.ProgramsMayWrite, map));
    }

    /// <summary>bpf_map_lookup_percpu_elem (195): the value of CPU slot r3 of a per-CPU array, hash or LRU hash
    /// (NULL when the key is absent or r3 is not below the map's slot count, the kernel's nr_cpu_ids; an LRU hash
    /// marks the key used, as a lookup does). Other maps are misuse the kernel's verifier refuses.</summary>
    public static HelperOutcome LookupPercpu(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map.Type is not (BpfMapType.PercpuArray or BpfMapType.PercpuHash or BpfMapType.LruPercpuHash)) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        ulong cpu = (uint)vm.Argument(3);
        MapValue value = default;
        bool found = map switch
        {
            PercpuArrayMap array => cpu < (ulong)array.CpuCount && array.TryLookupOnCpu(key, (int)cpu, out value),
            HashTableMap hash => cpu < (ulong)hash.CpuCount && hash.TryLookupOnCpu(key, (int)cpu, out value),
            _ => false,
        };
        return LinuxHelperTable.Return(vm, found ? vm.ExposeMapValue(value, writable: map.Definition.ProgramsMayWrite, map) : 0);
    }

    public static HelperOutcome Update(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is MapOfMaps || map is { Definition.ProgramsMayWrite: false }) return vm.Fail(BpfFault.HelperMisuse); // refused at load where the map is known
        if (map is null
            || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)
            || !vm.TryGetMemory(vm.Argument(3), map.ValueSize, false, out var value))
            return HelperOutcome.Fault;
        if (map.Definition.SpinLockOffset >= 0) return LinuxHelperTable.Return(vm, unchecked((ulong)(long)UpdateLocked(map, key, value, vm.Argument(4))));
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)map.Update(key, value, vm.Argument(4))));
    }

    /// <summary>An update of a value holding a bpf_spin_lock never writes the lock word (the kernel's copy_map_value
    /// skips it, so a worker holding the element's lock keeps it): an existing element takes the other bytes in
    /// place, a new one starts with its lock free. BPF_F_LOCK (the copy made under the element's lock, which is the
    /// same copy for one worker) goes with BPF_ANY, BPF_NOEXIST or BPF_EXIST as in the kernel's array and hash
    /// update; the map's own checks (an array index past the end, a full hash, NOEXIST/EXIST) answer as without it.</summary>
    private static int UpdateLocked(BpfMap map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        int at = map.Definition.SpinLockOffset;
        ulong plain = flags & ~BpfUpdateFlags.Lock;
        if (plain > BpfUpdateFlags.Exist) return -Errno.EINVAL;
        if (plain != BpfUpdateFlags.NoExist && map.TryLookup(key, out var current))
        {
            value[..at].CopyTo(current.AsSpan(0, at));
            value[(at + 4)..].CopyTo(current.AsSpan(at + 4));
            return 0;
        }
        int result = map.Update(key, value, plain);
        if (result == 0 && map.TryLookup(key, out var inserted))
            Volatile.Write(ref System.Runtime.CompilerServices.Unsafe.As<byte, int>(ref inserted.AsSpan(at, 4)[0]), 0);
        return result;
    }

    public static HelperOutcome Delete(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is MapOfMaps || map is { Definition.ProgramsMayWrite: false }) return vm.Fail(BpfFault.HelperMisuse);
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)map.Delete(key)));
    }

    public static HelperOutcome Push(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not QueueStackMap queue || !map.Definition.ProgramsMayWrite) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), map.ValueSize, false, out var value)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)queue.Push(value, vm.Argument(3))));
    }

    public static HelperOutcome Take(BpfVm vm, bool remove)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not QueueStackMap queue || remove && !map.Definition.ProgramsMayWrite) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), map.ValueSize, true, out var value)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)queue.Take(value, remove)));
    }
}
