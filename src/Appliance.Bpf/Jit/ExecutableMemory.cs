using System.Runtime.InteropServices;

namespace Appliance.Bpf.Jit;

/// <summary>Compiled code in its own anonymous mapping, W^X: written while the mapping is read+write, then
/// made read+execute with mprotect and never writable again (libc calls: Tmds.LibC). Unmapped at <see cref="Free"/> (a
/// reload that drops the program, after no run can be in it) or, failing that, when the code is collected.</summary>
internal sealed unsafe class ExecutableMemory
{
    private static readonly nint MapFailed = -1;

    private ExecutableMemory(nint address, nuint length)
    {
        Address = address;
        Length = length;
    }

    public nint Address { get; }
    public nuint Length { get; }

    /// <summary>Maps <paramref name="code"/> executable; throws with the errno when the system refuses
    /// (e.g. a policy that forbids executable anonymous memory).</summary>
    public static ExecutableMemory Create(ReadOnlySpan<byte> code)
    {
        nuint length = (nuint)((code.Length + 4095) & ~4095);
        if (length == 0) length = 4096;
        nint address = Mmap(0, length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_WRITE,
            Tmds.Linux.LibC.MAP_PRIVATE | Tmds.Linux.LibC.MAP_ANONYMOUS, -1, 0);
        if (address == MapFailed) throw new InvalidOperationException($"mmap of {length} bytes failed ({Errno.Name(Marshal.GetLastPInvokeError())})");
        code.CopyTo(new Span<byte>((void*)address, code.Length));
        if (Mprotect(address, length, Tmds.Linux.LibC.PROT_READ | Tmds.Linux.LibC.PROT_EXEC) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Munmap(address, length);
            throw new InvalidOperationException($"mprotect(PROT_READ|PROT_EXEC) failed ({Errno.Name(errno)})");
        }
        return new ExecutableMemory(address, length);
    }

    private int _freed;

    /// <summary>Unmaps the code now (once; the finalizer then does nothing). The caller has made sure no run is in it
    /// or can enter it again (<see cref="Maps.RetiredMemory"/>).</summary>
    public void Free()
    {
        if (Interlocked.Exchange(ref _freed, 1) != 0) return;
        Munmap(Address, Length);
        GC.SuppressFinalize(this);
    }

    ~ExecutableMemory() => Free();

    private static nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset) =>
        (nint)Tmds.Linux.LibC.mmap((void*)address, Size(length), prot, flags, fd, offset);

    private static int Mprotect(nint address, nuint length, int prot) => Tmds.Linux.LibC.mprotect((void*)address, Size(length), prot);

    private static int Munmap(nint address, nuint length) => Tmds.Linux.LibC.munmap((void*)address, Size(length));

    private static Tmds.Linux.size_t Size(nuint length) => (Tmds.Linux.size_t)(ulong)length;
}
