using System.Runtime.InteropServices;

namespace Appliance.Bpf.Jit;

/// <summary>Compiled code in its own anonymous mapping, W^X: written while the mapping is read+write, then
/// made read+execute with mprotect and never writable again. Unmapped when the code is collected.</summary>
internal sealed unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4, MapPrivate = 2, MapAnonymous = 0x20;
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
        nint address = Mmap(0, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (address == MapFailed) throw new InvalidOperationException($"mmap of {length} bytes failed (errno {Marshal.GetLastPInvokeError()})");
        code.CopyTo(new Span<byte>((void*)address, code.Length));
        if (Mprotect(address, length, ProtRead | ProtExec) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Munmap(address, length);
            throw new InvalidOperationException($"mprotect(PROT_READ|PROT_EXEC) failed (errno {errno})");
        }
        return new ExecutableMemory(address, length);
    }

    ~ExecutableMemory() => Munmap(Address, Length);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint address, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);
}
