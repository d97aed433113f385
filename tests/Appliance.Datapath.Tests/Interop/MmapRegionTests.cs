using System.Runtime.InteropServices;
using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Interop;

public sealed partial class MmapRegionTests
{
    /// <summary>An area of 2 MiB or more whose length is not a whole number of pages: it starts on a 2 MiB boundary,
    /// its last byte is usable, and of the reservation made to align it nothing stays mapped after its last page
    /// (munmap takes page-aligned addresses: giving back a tail that starts mid-page fails and would keep up to 2 MiB
    /// of address space mapped until the process ends).</summary>
    [Fact]
    public unsafe void An_odd_length_huge_area_keeps_only_its_own_pages()
    {
        nuint page = (nuint)Environment.SystemPageSize, length = (2u << 20) + 2048;
        nuint kept = (length + page - 1) & ~(page - 1);
        using var area = MmapRegion.Anonymous(length, "test");
        Assert.Equal(0UL, (ulong)area.Pointer % (2 << 20));
        area.Pointer[length - 1] = 7;
        Assert.Equal(7, area.Pointer[length - 1]);
        Assert.Equal(0, msync(area.Pointer + kept - page, page, MsAsync)); // its last page is mapped
        Assert.Equal(-1, msync(area.Pointer + kept, page, MsAsync));       // the page after it is not
        Assert.Equal(12, Marshal.GetLastPInvokeError());                   // ENOMEM: not mapped
    }

    private const int MsAsync = 1;

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int msync(byte* address, nuint length, int flags);
}
