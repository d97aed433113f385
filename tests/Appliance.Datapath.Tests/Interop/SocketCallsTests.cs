using System.Runtime.InteropServices;
using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Interop;

/// <summary>The Tmds.LibC socket wrappers against the real kernel, where a wrong socklen_t, size_t or ssize_t
/// conversion would otherwise go unnoticed (a length not written back, a -1 read as a huge count).</summary>
public sealed unsafe class SocketCallsTests
{
    [Fact]
    public void GetSockOpt_reads_an_int_option_and_writes_its_length_back()
    {
        int fd = SocketCalls.Socket(Tmds.Linux.LibC.AF_INET, Tmds.Linux.LibC.SOCK_DGRAM | Tmds.Linux.LibC.SOCK_CLOEXEC, 0);
        Assert.True(fd >= 0, $"socket: {Marshal.GetLastPInvokeError()}");
        try
        {
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_RCVBUF, 8192, "SO_RCVBUF");
            long value = -1; // 8 bytes offered: the kernel writes 4 and says so in the length
            uint length = sizeof(long);
            Assert.Equal(0, SocketCalls.GetSockOpt(fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_RCVBUF, &value, &length));
            Assert.Equal((uint)sizeof(int), length);
            Assert.Equal(2 * 8192, (int)value); // the kernel doubles SO_RCVBUF for its bookkeeping
        }
        finally { LibC.Close(fd); }
    }

    [Fact]
    public void SendTo_and_RecvFrom_carry_byte_counts_and_the_sender_address_length()
    {
        var (a, b) = DatagramPair();
        try
        {
            // The sender gets an abstract AF_UNIX name (sa_family, then a NUL and the name), so the receiver
            // learns an address of a known length.
            byte[] name = System.Text.Encoding.ASCII.GetBytes($"\0libc-test-{Guid.NewGuid():N}");
            byte* bound = stackalloc byte[2 + name.Length];
            *(ushort*)bound = (ushort)Tmds.Linux.LibC.AF_UNIX;
            name.CopyTo(new Span<byte>(bound + 2, name.Length));
            Assert.Equal(0, SocketCalls.Bind(a, bound, 2 + name.Length));

            byte* payload = stackalloc byte[] { 1, 2, 3, 4, 5 };
            Assert.Equal(5, SocketCalls.SendTo(a, payload, 5, 0, null, 0));

            byte* received = stackalloc byte[64];
            byte* address = stackalloc byte[128];
            uint addressLength = 128;
            nint n = SocketCalls.RecvFrom(b, received, 64, Tmds.Linux.LibC.MSG_DONTWAIT, address, &addressLength);
            Assert.Equal(5, n);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, new ReadOnlySpan<byte>(received, 5).ToArray());
            Assert.Equal((uint)(2 + name.Length), addressLength);
            Assert.Equal((int)Tmds.Linux.LibC.AF_UNIX, (int)*(ushort*)address);
            Assert.Equal(name, new ReadOnlySpan<byte>(address + 2, name.Length).ToArray());
        }
        finally { LibC.Close(a); LibC.Close(b); }
    }

    [Fact]
    public void Recv_on_an_empty_socket_is_minus_one_with_EAGAIN()
    {
        var (a, b) = DatagramPair();
        try
        {
            byte* buffer = stackalloc byte[16];
            Marshal.SetLastPInvokeError(0);
            Assert.Equal(-1, SocketCalls.Recv(b, buffer, 16, Tmds.Linux.LibC.MSG_DONTWAIT));
            Assert.Equal(Errno.EAGAIN, Marshal.GetLastPInvokeError());
            Marshal.SetLastPInvokeError(0);
            Assert.Equal(-1, SocketCalls.RecvFrom(b, buffer, 16, Tmds.Linux.LibC.MSG_DONTWAIT, null, null));
            Assert.Equal(Errno.EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally { LibC.Close(a); LibC.Close(b); }
    }

    [Fact]
    public void RecvMsg_fills_the_iovec_and_returns_the_byte_count_or_minus_one_with_EAGAIN()
    {
        var (a, b) = DatagramPair();
        try
        {
            byte* payload = stackalloc byte[] { 9, 8, 7 };
            Assert.Equal(3, SocketCalls.SendTo(a, payload, 3, 0, null, 0));
            byte* received = stackalloc byte[32];
            var iov = new Tmds.Linux.iovec { iov_base = received, iov_len = 32 };
            var message = new Tmds.Linux.msghdr { msg_iov = &iov, msg_iovlen = 1 };
            Assert.Equal(3, SocketCalls.RecvMsg(b, &message, Tmds.Linux.LibC.MSG_DONTWAIT));
            Assert.Equal(new byte[] { 9, 8, 7 }, new ReadOnlySpan<byte>(received, 3).ToArray());
            Marshal.SetLastPInvokeError(0);
            Assert.Equal(-1, SocketCalls.RecvMsg(b, &message, Tmds.Linux.LibC.MSG_DONTWAIT));
            Assert.Equal(Errno.EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally { LibC.Close(a); LibC.Close(b); }
    }

    [Fact]
    public void Read_and_write_move_an_eventfd_counter()
    {
        int fd = SocketCalls.EventFd(0, Tmds.Linux.LibC.EFD_CLOEXEC | Tmds.Linux.LibC.EFD_NONBLOCK);
        Assert.True(fd >= 0, $"eventfd: {Marshal.GetLastPInvokeError()}");
        try
        {
            ulong add = 3;
            Assert.Equal(sizeof(ulong), SocketCalls.Write(fd, &add, sizeof(ulong)));
            Assert.Equal(sizeof(ulong), SocketCalls.Write(fd, &add, sizeof(ulong)));
            ulong value = 0;
            Assert.Equal(sizeof(ulong), SocketCalls.Read(fd, &value, sizeof(ulong)));
            Assert.Equal(6ul, value);
            Marshal.SetLastPInvokeError(0);
            Assert.Equal(-1, SocketCalls.Read(fd, &value, sizeof(ulong))); // drained and non-blocking
            Assert.Equal(Errno.EAGAIN, Marshal.GetLastPInvokeError());
        }
        finally { LibC.Close(fd); }
    }

    [Fact]
    public void Bind_failures_leave_their_errno()
    {
        int fd = SocketCalls.Socket(Tmds.Linux.LibC.AF_INET, Tmds.Linux.LibC.SOCK_DGRAM | Tmds.Linux.LibC.SOCK_CLOEXEC, 0);
        try
        {
            byte* tooShort = stackalloc byte[16];
            new Span<byte>(tooShort, 16).Clear();
            *(ushort*)tooShort = (ushort)Tmds.Linux.LibC.AF_INET;
            Marshal.SetLastPInvokeError(0);
            Assert.Equal(-1, SocketCalls.Bind(fd, tooShort, 4)); // shorter than sockaddr_in
            Assert.Equal(Errno.EINVAL, Marshal.GetLastPInvokeError());
        }
        finally { LibC.Close(fd); }
    }

    private static (int A, int B) DatagramPair()
    {
        int* pair = stackalloc int[2];
        Assert.Equal(0, Tmds.Linux.LibC.socketpair(Tmds.Linux.LibC.AF_UNIX, Tmds.Linux.LibC.SOCK_DGRAM | Tmds.Linux.LibC.SOCK_CLOEXEC, 0, pair));
        return (pair[0], pair[1]);
    }
}
