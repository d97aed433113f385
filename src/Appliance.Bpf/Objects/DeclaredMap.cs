using Appliance.Bpf.Maps;

namespace Appliance.Bpf.Objects;

/// <summary>A map as found in the object: its definition and where its symbol lives (section index and
/// byte offset), which is how `lddw` relocations find it.</summary>
public sealed record DeclaredMap(BpfMapDefinition Definition, int SectionIndex, ulong Offset)
{
    /// <summary>The map type for a raw bpf_map_type value, or an error naming the map. A type the kernel has and the
    /// appliance does not is returned too: the map becomes an <see cref="UnsupportedMap"/>, and the programs that use
    /// it are refused (<see cref="BpfMapTypeNames.WhyUnsupported"/>).</summary>
    public static BpfMapType CheckType(uint raw, string where) => BpfMapTypeNames.IsKernelType(raw)
        ? (BpfMapType)raw
        : throw new BpfLoadException($"{where}: map type {raw} ({BpfMapTypeNames.KernelName(raw)}) is not supported; supported: " + BpfMapTypeNames.Supported);
}
