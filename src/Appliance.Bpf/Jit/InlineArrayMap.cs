using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>An array or per-CPU array map of the program whose <c>bpf_map_lookup_elem</c> compiled code does
/// itself (see <see cref="JitLowering"/>): the handle r1 carries, the pinned values (and their array's identity
/// hash, the key of the VM's map-value cache), their layout, and the CPU count of a per-CPU map (1 for a plain
/// array). The element a lookup finds becomes a region of its own, as with the helper, and the same element
/// found again gets the same region through the cache both engines share. Accesses through the pointer are
/// bounded by that region: checked at run time, or dropped where the verifier proved them inside the value
/// (<see cref="Verifier.AccessProof"/>).</summary>
internal readonly record struct InlineArrayMap(ulong Handle, nint Values, int ValuesHash, int Stride, int ValueSize, int MaxEntries, int CpuCount, bool Writable)
{
    /// <summary>The maps of <paramref name="program"/> whose lookups compile inline: plain and per-CPU arrays under
    /// the Linux helper table (where helper 1 is bpf_map_lookup_elem), except values holding a bpf_spin_lock
    /// (the lock helpers find the map through the region the helper makes).</summary>
    public static InlineArrayMap[] For(LoadedProgram program)
    {
        if (program.Helpers is not LinuxHelperTable) return [];
        var maps = new List<InlineArrayMap>();
        for (int i = 0; i < program.Maps.Count; i++)
        {
            var map = program.Maps[i];
            if (map.Definition.SpinLockOffset >= 0) continue;
            ulong handle = VirtualAddress.MapHandleBase | (uint)i;
            bool writable = !map.Definition.ReadOnly;
            if (map is ArrayMap array)
                maps.Add(new(handle, array.ValuesAddress, array.ValuesHash, array.Stride, map.ValueSize, map.MaxEntries, 1, writable));
            else if (map is PercpuArrayMap percpu)
                maps.Add(new(handle, percpu.ValuesAddress, percpu.ValuesHash, percpu.Stride, map.ValueSize, map.MaxEntries, percpu.CpuCount, writable));
        }
        return [.. maps];
    }
}
