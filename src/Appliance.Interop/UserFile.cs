using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Appliance.Interop;

/// <summary>Reads a file a user names (a config, a program object) whatever was put at its path, without waiting on it
/// for ever: opened O_NONBLOCK (open(2) of a named pipe that no one writes would block for ever: it held the reload,
/// and with it every control verb, until the appliance was killed), its type checked on that very descriptor (statx).
/// A regular file is read to its end; a pipe (a FIFO, or <c>&lt;(command)</c>'s /dev/fd/N) until its writer closes it,
/// within <see cref="PipeTimeout"/>; a device (<c>/dev/zero</c> never ends), a socket or a directory is refused. At
/// most a given number of bytes either way (past them the file is refused, never read on).</summary>
public static unsafe class UserFile
{
    /// <summary>How long a pipe may take to reach its end of file (a writer that never comes included).</summary>
    public static readonly TimeSpan PipeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The bytes of <paramref name="path"/> (symbolic links followed). Throws <see cref="IOException"/> with
    /// the reason (<see cref="FileNotFoundException"/> for ENOENT; <see cref="UnauthorizedAccessException"/> for
    /// EACCES), also for more than <paramref name="maxBytes"/> (callers that name their own limit check the length
    /// first: this is the backstop for a file that grew in between, and the limit for a pipe).</summary>
    public static byte[] ReadAll(string path, long maxBytes)
    {
        int fd = LibC.Open(path, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_NONBLOCK | Tmds.Linux.LibC.O_CLOEXEC);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string why = LibC.Describe(errno);
            if (errno == Tmds.Linux.LibC.ENOENT) throw new FileNotFoundException(why, path);
            if (errno == Tmds.Linux.LibC.EACCES) throw new UnauthorizedAccessException(why);
            throw new IOException(why);
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        byte empty = 0;
        var stat = FileSecurity.Statx(fd, &empty, Tmds.Linux.LibC.AT_EMPTY_PATH, path);
        uint type = stat.stx_mode & (uint)Tmds.Linux.LibC.S_IFMT;
        if (type == (uint)Tmds.Linux.LibC.S_IFIFO) return ReadPipe(fd, maxBytes);
        if (type != (uint)Tmds.Linux.LibC.S_IFREG) throw new IOException($"is {Kind(type)}, not a regular file");
        if ((long)stat.stx_size > maxBytes) throw new IOException($"is {stat.stx_size} bytes, more than the {maxBytes} it may have");
        // To the end, whatever the size said (procfs and sysfs files say 0; a file may grow meanwhile).
        var bytes = new byte[(int)Math.Max((long)stat.stx_size, 4096)];
        int read = 0;
        while (true)
        {
            if (read == bytes.Length) Grow(ref bytes, maxBytes);
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n == 0) return bytes[..read];
            read += n;
        }
    }

    /// <summary>A pipe, until its end of file: poll(2) waits for its writer (and reports the hang-up only after a
    /// writer came, so one that opens late is not taken for an empty pipe), read(2) takes what is there.</summary>
    private static byte[] ReadPipe(int fd, long maxBytes)
    {
        long deadline = Environment.TickCount64 + (long)PipeTimeout.TotalMilliseconds;
        var bytes = new byte[4096];
        int read = 0;
        Span<Tmds.Linux.pollfd> wait = stackalloc Tmds.Linux.pollfd[1];
        while (true)
        {
            int left = (int)(deadline - Environment.TickCount64);
            if (left <= 0) throw new IOException($"is a named pipe that gave no end of file within {PipeTimeout.TotalSeconds:0.#} s");
            wait[0] = PollNative.Input(fd);
            if (PollNative.Wait(wait, left) <= 0) continue; // timed out (checked above) or EINTR
            if (read == bytes.Length) Grow(ref bytes, maxBytes);
            long n;
            fixed (byte* p = &bytes[read]) n = (Tmds.Linux.ssize_t)Tmds.Linux.LibC.read(fd, p, (Tmds.Linux.size_t)(bytes.Length - read));
            if (n == 0) return bytes[..read];
            if (n > 0)
            {
                read += (int)n;
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Tmds.Linux.LibC.EAGAIN && errno != Tmds.Linux.LibC.EINTR) throw new IOException(LibC.Describe(errno));
        }
    }

    /// <summary>Room for more: twice the size, at most one byte past <paramref name="maxBytes"/> (which, read, refuses
    /// the file).</summary>
    private static void Grow(ref byte[] bytes, long maxBytes)
    {
        if (bytes.Length > maxBytes || bytes.Length == Array.MaxLength) throw new IOException($"is more than the {maxBytes} bytes it may have");
        Array.Resize(ref bytes, (int)Math.Min((long)bytes.Length * 2, Math.Min(maxBytes + 1, Array.MaxLength)));
    }

    private static string Kind(uint type) =>
        type == (uint)Tmds.Linux.LibC.S_IFCHR ? "a character device"
        : type == (uint)Tmds.Linux.LibC.S_IFBLK ? "a block device"
        : type == (uint)Tmds.Linux.LibC.S_IFSOCK ? "a socket"
        : type == (uint)Tmds.Linux.LibC.S_IFDIR ? "a directory"
        : $"a file of type {Convert.ToString(type, 8)}";
}
