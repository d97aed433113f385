using System.Runtime.InteropServices;

namespace Appliance.Interop;

/// <summary>poll(2) over AF_XDP sockets, used by the forwarding worker to sleep while its sockets are idle
/// (copy-mode poll() also drives pending TX, afxdp.md §7).</summary>
public static unsafe class PollNative
{
    /// <summary>Waits up to <paramref name="timeoutMs"/>; returns the number of ready descriptors, 0 on
    /// timeout, -1 on EINTR (callers simply loop).</summary>
    public static int Wait(Span<SocketCalls.PollFd> fds, int timeoutMs)
    {
        fixed (SocketCalls.PollFd* p = fds)
        {
            int r = SocketCalls.Poll(p, (nuint)fds.Length, timeoutMs);
            if (r >= 0) return r;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) return -1;
            throw new PlatformException("poll", $"{fds.Length} AF_XDP sockets", errno);
        }
    }
}
