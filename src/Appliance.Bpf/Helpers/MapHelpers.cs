using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3) on the abstract map.
/// A lookup exposes the value's storage itself, so the program's writes through the pointer are the map's
/// new value, as in the kernel. bpf_map_push_elem (87), bpf_map_pop_elem (88) and bpf_map_peek_elem (89) work on
/// queue and stack maps; the by-key helpers on them, and push/pop/peek on other maps, are misuse the kernel's
/// verifier refuses. A lookup in a map of maps gives the inner map (a handle the program passes on as a map).</summary>
internal static class MapHelpers
{
    public static HelperOutcome Lookup(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is QueueStackMap or PerfEventArrayMap) return vm.Fail(BpfFault.HelperMisuse);
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        if (map is MapOfMaps outer) return LinuxHelperTable.Return(vm, outer.LookupInner(key) is { } inner ? vm.ExposeMap(inner) : 0);
        if (!map.TryLookup(key, out var value)) return LinuxHelperTable.Return(vm, 0);
        return LinuxHelperTable.Return(vm, vm.ExposeMapValue(value, writable: !map.Definition.ReadOnly, map));
    }

    public static HelperOutcome Update(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is MapOfMaps) return vm.Fail(BpfFault.HelperMisuse); // the kernel's verifier: programs do not change maps of maps
        if (map is null
            || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)
            || !vm.TryGetMemory(vm.Argument(3), map.ValueSize, false, out var value))
            return HelperOutcome.Fault;
        if (map.Definition.ReadOnly) return LinuxHelperTable.Error(vm, Errno.EPERM);
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)map.Update(key, value, vm.Argument(4))));
    }

    public static HelperOutcome Delete(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is MapOfMaps) return vm.Fail(BpfFault.HelperMisuse);
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        if (map.Definition.ReadOnly) return LinuxHelperTable.Error(vm, Errno.EPERM);
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)map.Delete(key)));
    }

    public static HelperOutcome Push(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not QueueStackMap queue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), map.ValueSize, false, out var value)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)queue.Push(value, vm.Argument(3))));
    }

    public static HelperOutcome Take(BpfVm vm, bool remove)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null) return HelperOutcome.Fault;
        if (map is not QueueStackMap queue) return vm.Fail(BpfFault.HelperMisuse);
        if (!vm.TryGetMemory(vm.Argument(2), map.ValueSize, true, out var value)) return HelperOutcome.Fault;
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)queue.Take(value, remove)));
    }
}
