using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Helpers;

/// <summary>bpf_map_lookup_elem (1), bpf_map_update_elem (2), bpf_map_delete_elem (3) on the abstract map.
/// A lookup exposes the value's storage itself, so the program's writes through the pointer are the map's
/// new value, as in the kernel.</summary>
internal static class MapHelpers
{
    public static HelperOutcome Lookup(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        if (!map.TryLookup(key, out var value)) return LinuxHelperTable.Return(vm, 0);
        return LinuxHelperTable.Return(vm, vm.ExposeMapValue(value, writable: !map.Definition.ReadOnly));
    }

    public static HelperOutcome Update(BpfVm vm)
    {
        var map = vm.ResolveMap(vm.Argument(1));
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
        if (map is null || !vm.TryGetMemory(vm.Argument(2), map.KeySize, false, out var key)) return HelperOutcome.Fault;
        if (map.Definition.ReadOnly) return LinuxHelperTable.Error(vm, Errno.EPERM);
        return LinuxHelperTable.Return(vm, unchecked((ulong)(long)map.Delete(key)));
    }
}
