using Appliance.Bpf.Helpers;
using Appliance.Bpf.Maps;
using Appliance.Bpf.Vm;

namespace Appliance.Bpf.Jit;

/// <summary>An array or per-CPU array map of the program whose <c>bpf_map_lookup_elem</c> compiled code does
/// itself (see <see cref="JitLowering"/>): the handle r1 carries, the pinned values, their layout, and the CPU
/// count of a per-CPU map (1 for a plain array). The element a lookup finds becomes a region of its own, as
/// with the helper, so every access through the pointer is still checked against the value's size.</summary>
internal readonly record struct InlineArrayMap(ulong Handle, nint Values, int Stride, int ValueSize, int MaxEntries, int CpuCount, bool Writable)
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
                maps.Add(new(handle, array.ValuesAddress, array.Stride, map.ValueSize, map.MaxEntries, 1, writable));
            else if (map is PercpuArrayMap percpu)
                maps.Add(new(handle, percpu.ValuesAddress, percpu.Stride, map.ValueSize, map.MaxEntries, percpu.CpuCount, writable));
        }
        return [.. maps];
    }
}
