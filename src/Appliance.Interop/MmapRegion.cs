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

    /// <summary>Private anonymous read/write memory, page-aligned and populated (a UMEM area).</summary>
    public static MmapRegion Anonymous(nuint length, string purpose) =>
        Map(length, Tmds.Linux.LibC.MAP_PRIVATE | Tmds.Linux.LibC.MAP_ANONYMOUS | Tmds.Linux.LibC.MAP_POPULATE, -1, 0, purpose);

    /// <summary>A shared mapping of <paramref name="fd"/> at <paramref name="offset"/> (an AF_XDP ring).</summary>
    public static MmapRegion Shared(int fd, nuint length, long offset, string purpose) =>
        Map(length, Tmds.Linux.LibC.MAP_SHARED | Tmds.Linux.LibC.MAP_POPULATE, fd, offset, purpose);

    private static MmapRegion Map(nuint length, int flags, int fd, long offset, string purpose)
    {
        void* p = MmapNative(null, length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_WRITE, flags, fd, offset);
        if (p == (void*)-1)
            throw PlatformException.FromLastError($"mmap({length} bytes)", purpose,
                "Check RLIMIT_MEMLOCK and free memory; ring sizes must be powers of two");
        return new MmapRegion((byte*)p, length);
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
