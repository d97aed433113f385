using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>An mmap()ed region (anonymous UMEM memory or one of an AF_XDP socket's rings), unmapped on Dispose.</summary>
public sealed unsafe partial class MmapRegion : IDisposable
{
    public byte* Pointer { get; private set; }
    public nuint Length { get; }

    private MmapRegion(byte* pointer, nuint length)
    {
        Pointer = pointer;
        Length = length;
    }

    /// <summary>Private anonymous read/write memory, page-aligned and populated (a UMEM area). An area of 2 MiB or more
    /// starts on a 2 MiB boundary and asks for transparent huge pages before it is populated (MADV_HUGEPAGE: honoured
    /// where THP is "always" or "madvise", the default of Debian's kernels), so that the worker reading frame headers
    /// spread over the area does not walk the page tables for nearly every frame (a 4096-frame UMEM of 4 KiB pages
    /// outgrows the TLB). Where THP is off or unbuilt, the advice fails quietly and the area has 4 KiB pages.</summary>
    public static MmapRegion Anonymous(nuint length, string purpose)
    {
        const nuint huge = 2u << 20;
        int privateAnonymous = Tmds.Linux.LibC.MAP_PRIVATE | Tmds.Linux.LibC.MAP_ANONYMOUS;
        if (length < huge) return Map(length, privateAnonymous | Tmds.Linux.LibC.MAP_POPULATE, -1, 0, purpose);
        // Reserve 2 MiB more, keep the 2 MiB-aligned part, give back what lies before it (head) and after it (tail).
        // The kept part is whole pages (munmap takes page-aligned addresses; a length that is not a multiple of the
        // page size would otherwise leave the tail mapped for good).
        nuint page = (nuint)Environment.SystemPageSize, kept = (length + page - 1) & ~(page - 1);
        byte* start = MapOrThrow(kept + huge, privateAnonymous, -1, 0, purpose);
        byte* aligned = (byte*)(((nuint)start + huge - 1) & ~(huge - 1));
        nuint head = (nuint)(aligned - start), tail = huge - head;
        if (head > 0) MunmapNative(start, head);
        if (tail > 0) MunmapNative(aligned + kept, tail);
        Tmds.Linux.LibC.madvise(aligned, (Tmds.Linux.size_t)(ulong)kept, Tmds.Linux.LibC.MADV_HUGEPAGE);
        for (nuint off = 0; off < kept; off += page) aligned[off] = 0; // populate now, as MAP_POPULATE would
        return new MmapRegion(aligned, length);
    }

    /// <summary>A shared mapping of <paramref name="fd"/> at <paramref name="offset"/> (an AF_XDP ring).</summary>
    public static MmapRegion Shared(int fd, nuint length, long offset, string purpose) =>
        Map(length, Tmds.Linux.LibC.MAP_SHARED | Tmds.Linux.LibC.MAP_POPULATE, fd, offset, purpose);

    private static MmapRegion Map(nuint length, int flags, int fd, long offset, string purpose) =>
        new(MapOrThrow(length, flags, fd, offset, purpose), length);

    private static byte* MapOrThrow(nuint length, int flags, int fd, long offset, string purpose)
    {
        void* p = MmapNative(null, length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_WRITE, flags, fd, offset);
        if (p == (void*)-1)
            throw PlatformException.FromLastError($"mmap({length} bytes)", purpose,
                "Check RLIMIT_MEMLOCK and free memory; ring sizes must be powers of two");
        return (byte*)p;
    }

    public void Dispose()
    {
        if (Pointer == null) return;
        MunmapNative(Pointer, Length);
        Pointer = null;
    }

    private static void* MmapNative(void* address, nuint length, int prot, int flags, int fd, long offset) =>
        Tmds.Linux.LibC.mmap(address, (Tmds.Linux.size_t)(ulong)length, prot, flags, fd, offset);

    private static int MunmapNative(void* address, nuint length) => Tmds.Linux.LibC.munmap(address, (Tmds.Linux.size_t)(ulong)length);
}
