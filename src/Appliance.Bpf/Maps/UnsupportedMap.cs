namespace Appliance.Bpf.Maps;

/// <summary>A map of a type the kernel has and the appliance does not (a DEVMAP or XSKMAP an XDP program redirects
/// through, a SOCKMAP, cgroup or task storage …), declared by an object beside programs that never use it. libbpf
/// creates it and the kernel loads those programs, so the appliance loads the object too: the map holds nothing and
/// user space cannot change it (-EOPNOTSUPP), and every program that uses it is refused at load with
/// <see cref="BpfMapTypeNames.WhyUnsupported"/> (the linker's refusal), the object's other programs load.</summary>
public sealed class UnsupportedMap(BpfMapDefinition definition) : BpfMap(definition)
{
    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        value = default;
        return false;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.EOPNOTSUPP;

    public override int Delete(ReadOnlySpan<byte> key) => -Errno.EOPNOTSUPP;

    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;
}
