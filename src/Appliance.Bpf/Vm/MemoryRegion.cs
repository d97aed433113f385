namespace Appliance.Bpf.Vm;

/// <summary>What a region is, for fault classification and helper argument checks.</summary>
internal enum RegionKind : byte { Empty, Packet, Stack, Context, Global, MapValue, RingBufRecord, Memory, CallbackKey, CallbackValue }

/// <summary>One entry of the run's region table: virtual [<see cref="Start"/>, +<see cref="Length"/>) maps to
/// <see cref="Array"/>[<see cref="Origin"/>…] when the backing is managed, or to native address
/// <see cref="Origin"/> otherwise.</summary>
internal struct MemoryRegion
{
    public ulong Start;
    public ulong Length;
    public byte[]? Array;
    public nint Origin;
    public bool Writable;
    public RegionKind Kind;
    /// <summary>For ring-buffer records: the ring buffer and reservation token; for map values: the map.</summary>
    public object? Owner;
    public long Token;
}
