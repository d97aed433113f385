using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>poll(2): the forwarding worker sleeps in it while its AF_XDP sockets are idle (copy-mode poll() also
/// drives pending TX, afxdp.md §7), the link watcher and routing tables while no netlink event is queued. The
/// struct pollfd and POLLIN are Tmds.LibC's; the import is ours because Tmds.LibC 0.5.0 declares poll (and ppoll)
/// without SetLastError, so errno, and with it EINTR, would be lost (PollNativeTests shows both).</summary>
public static unsafe partial class PollNative
{
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(Tmds.Linux.pollfd* fds, nuint count, int timeoutMs);

    /// <summary>An entry that watches <paramref name="fd"/> for input.</summary>
    public static Tmds.Linux.pollfd Input(int fd) => new() { fd = fd, events = Tmds.Linux.LibC.POLLIN };

    /// <summary>True when poll() reported <paramref name="entry"/> readable.</summary>
    public static bool HasInput(in Tmds.Linux.pollfd entry) => (entry.revents & Tmds.Linux.LibC.POLLIN) != 0;

    /// <summary>Waits up to <paramref name="timeoutMs"/>; returns the number of ready descriptors, 0 on
    /// timeout, -1 on EINTR (callers simply loop).</summary>
    public static int Wait(Span<Tmds.Linux.pollfd> fds, int timeoutMs)
    {
        fixed (Tmds.Linux.pollfd* p = fds)
        {
            int r = Poll(p, (nuint)fds.Length, timeoutMs);
            if (r >= 0) return r;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) return -1;
            throw new PlatformException("poll", $"{fds.Length} descriptors", errno);
        }
    }
}
