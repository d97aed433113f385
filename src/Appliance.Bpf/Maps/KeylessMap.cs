namespace Appliance.Bpf.Maps;

/// <summary>A map whose contents programs and user space do not address by key (ring buffers, perf event
/// arrays, queues and stacks): lookups find nothing, by-key updates and deletes are -ENOTSUPP, iteration is
/// empty. Subclasses expose their own operations.</summary>
public abstract class KeylessMap(BpfMapDefinition definition) : BpfMap(definition)
{
    public override bool TryLookup(ReadOnlySpan<byte> key, out MapValue value)
    {
        value = default;
        return false;
    }

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -Errno.ENOTSUPP;
    public override int Delete(ReadOnlySpan<byte> key) => -Errno.ENOTSUPP;
    public override bool TryGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => false;
}
