using System.Runtime.InteropServices;

namespace Appliance.Bpf.Maps;

/// <summary>Zeroed bytes at a host address that never moves (compiled code embeds it, see <see cref="Jit.InlineMap"/>),
/// for a map's storage. <see cref="Preallocate"/>: a pinned managed array, taken whole when the map is made, as the
/// kernel preallocates a map's elements. <see cref="Reserve"/> (BPF_F_NO_PREALLOC): an anonymous private mapping made
/// with MAP_NORESERVE, so it is address space only — a page takes memory when it is first written (zero until then,
/// which every structure on it takes for empty) and the system does not set memory aside for the rest; the mapping
/// goes (munmap) at <see cref="Free"/> (a reload that drops the map, after no run can reach it) or, failing that, when
/// the map is collected (also when a load that made it fails). libc calls: Tmds.LibC.</summary>
internal sealed unsafe class MapStorage
{
    private MapStorage(byte[]? array, byte* address, long length)
    {
        Array = array;
        Address = address;
        Length = length;
    }

    /// <summary>The pinned array of a preallocated storage; null for a reserved one.</summary>
    public byte[]? Array { get; }
    public byte* Address { get; }
    public long Length { get; }

    /// <summary>The identity the VM's map-value cache keys this storage's values by (see JitState.ValueCacheSlot): the
    /// array's identity hash, or the low 32 bits of the mapping's address (a native value is keyed by its address).</summary>
    public int CacheIdentity => Array is not null ? System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(Array) : (int)(nint)Address;

    public static MapStorage Preallocate(long bytes)
    {
        var array = GC.AllocateArray<byte>(checked((int)Math.Max(bytes, 1)), pinned: true);
        var storage = new MapStorage(array, (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array)), bytes);
        GC.SuppressFinalize(storage); // nothing to unmap: one collection takes it and its array (a finalizer would keep both for a second)
        return storage;
    }

    /// <summary>Reserves <paramref name="bytes"/> (rounded up to whole pages); throws <see cref="InvalidOperationException"/>
    /// with the errno when the system refuses the address space (RLIMIT_AS; vm.overcommit_memory 2 counts even a
    /// MAP_NORESERVE mapping).</summary>
    public static MapStorage Reserve(long bytes)
    {
        long page = Environment.SystemPageSize;
        long length = (Math.Max(bytes, 1) + page - 1) & ~(page - 1);
        void* address = Tmds.Linux.LibC.mmap(null, (Tmds.Linux.size_t)(ulong)length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_WRITE,
            Tmds.Linux.LibC.MAP_PRIVATE | Tmds.Linux.LibC.MAP_ANONYMOUS | Tmds.Linux.LibC.MAP_NORESERVE, -1, 0);
        if ((nint)address == -1)
            throw new InvalidOperationException($"reserving {length >> 20} MiB of address space failed ({Errno.Name(Marshal.GetLastPInvokeError())})");
        return new MapStorage(null, (byte*)address, length);
    }

    /// <summary>A value's storage: <paramref name="count"/> bytes at <paramref name="offset"/>.</summary>
    public MapValue Value(long offset, int count) =>
        Array is not null ? new MapValue(Array, (int)offset, count) : new MapValue((nint)(Address + offset), count);

    public Span<byte> Span(long offset, int count) => new(Address + offset, count);

    private int _freed;

    /// <summary>The reserved bytes (address space) this storage holds until <see cref="Free"/>; 0 for a preallocated one.</summary>
    public long ReservedBytes => Array is null && Volatile.Read(ref _freed) == 0 ? Length : 0;

    /// <summary>Gives a reserved storage's mapping back now (munmap, once; the finalizer then does nothing). Nothing may
    /// touch the storage afterwards: the caller has made sure no program run, compiled code or user-space access can
    /// reach it (<see cref="RetiredMemory"/>). A preallocated storage is managed: the GC takes it.</summary>
    public void Free()
    {
        if (Array is not null || Interlocked.Exchange(ref _freed, 1) != 0) return;
        Tmds.Linux.LibC.munmap(Address, (Tmds.Linux.size_t)(ulong)Length);
        GC.SuppressFinalize(this);
    }

    ~MapStorage() => Free();
}
