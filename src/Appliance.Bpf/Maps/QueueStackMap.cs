namespace Appliance.Bpf.Maps;

/// <summary>BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO), as kernel/bpf/queue_stack_maps.c: no
/// keys, values pushed with bpf_map_push_elem (BPF_EXIST overwrites the oldest when full, otherwise -E2BIG),
/// taken with bpf_map_pop_elem / peeked with bpf_map_peek_elem (-ENOENT and a zeroed value when empty). The
/// same ring of max_entries + 1 slots as the kernel, so overwrite order matches. Programs cannot look up,
/// update or delete by key (the verifier refuses, as the kernel's); user space updates push, lookups peek.</summary>
public sealed class QueueStackMap : KeylessMap
{
    private readonly byte[] _elements;
    private readonly int _size;
    private readonly bool _stack;
    private readonly Lock _lock = new();
    private int _head, _tail;

    public QueueStackMap(BpfMapDefinition definition) : base(definition)
    {
        _stack = definition.Type == BpfMapType.Stack;
        _size = definition.MaxEntries + 1;
        _elements = new byte[(long)_size * definition.ValueSize];
    }

    /// <summary>Pushes <paramref name="value"/>: 0, -E2BIG when full (unless <paramref name="flags"/> is
    /// BPF_EXIST), -EINVAL for other flags.</summary>
    public int Push(ReadOnlySpan<byte> value, ulong flags)
    {
        if ((flags & BpfUpdateFlags.NoExist) != 0 || flags > BpfUpdateFlags.Exist) return -Errno.EINVAL;
        lock (_lock)
        {
            if (IsFull)
            {
                if (flags != BpfUpdateFlags.Exist) return -Errno.E2BIG;
                if (++_tail >= _size) _tail = 0;
            }
            value[..ValueSize].CopyTo(_elements.AsSpan(_head * ValueSize, ValueSize));
            if (++_head >= _size) _head = 0;
            return 0;
        }
    }

    /// <summary>Copies the next element (queue: the oldest; stack: the newest) into <paramref name="value"/> and,
    /// when <paramref name="remove"/>, takes it out: 0, or -ENOENT with <paramref name="value"/> zeroed.</summary>
    public int Take(Span<byte> value, bool remove)
    {
        lock (_lock)
        {
            if (_head == _tail)
            {
                value[..ValueSize].Clear();
                return -Errno.ENOENT;
            }
            int index;
            if (_stack)
            {
                index = _head - 1;
                if (index < 0) index = _size - 1;
                if (remove) _head = index;
            }
            else
            {
                index = _tail;
                if (remove && ++_tail >= _size) _tail = 0;
            }
            _elements.AsSpan(index * ValueSize, ValueSize).CopyTo(value);
            return 0;
        }
    }

    private bool IsFull => (_head + 1) % _size == _tail;

    public override bool TryLookupFromUser(ReadOnlySpan<byte> key, Span<byte> value) => Take(value, remove: false) == 0;

    public override int Update(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => Push(value, flags);

    public override int Delete(ReadOnlySpan<byte> key) => -Errno.EINVAL;
}
