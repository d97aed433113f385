using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static Appliance.Interop.NetlinkConstants;

namespace Appliance.Interop;

/// <summary>Receives each reply message of a request (dump entries, or the single answer of a GET).</summary>
public delegate void NetlinkReplyHandler(in NetlinkMessage message);

/// <summary>A raw netlink socket (AF_NETLINK, SOCK_RAW) with extended acks on. It belongs to the network
/// namespace of the thread that opened it, for its whole life. Requests are serialized (one at a time).</summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    private readonly object _gate = new();
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private uint _sequence;
    private int _fd;

    private NetlinkSocket(int fd)
    {
        _fd = fd;
        _sequence = (uint)Environment.TickCount;
    }

    /// <summary>The file descriptor (also usable for SIOC* interface ioctls in this socket's namespace).</summary>
    public int Fd => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(NetlinkSocket));

    /// <summary>Opens and binds a socket of <paramref name="protocol"/> with NETLINK_EXT_ACK and NETLINK_CAP_ACK set.</summary>
    public static NetlinkSocket Open(int protocol = NETLINK_ROUTE)
    {
        int fd = SocketCalls.Socket(Tmds.Linux.LibC.AF_NETLINK, Tmds.Linux.LibC.SOCK_RAW | Tmds.Linux.LibC.SOCK_CLOEXEC, protocol);
        if (fd < 0) throw PlatformException.FromLastError("socket(AF_NETLINK)", $"netlink protocol {protocol}");
        var socket = new NetlinkSocket(fd);
        try
        {
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
            Span<byte> addr = stackalloc byte[12]; // sockaddr_nl { family, pad, pid = 0 (kernel assigns), groups }
            addr.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(addr, (ushort)Tmds.Linux.LibC.AF_NETLINK);
            fixed (byte* a = addr)
                if (SocketCalls.Bind(fd, a, addr.Length) < 0) throw PlatformException.FromLastError("bind(AF_NETLINK)");
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Subscribes to a multicast group (e.g. <see cref="NetlinkRoute.RTNLGRP_LINK"/>).</summary>
    public void JoinGroup(int group) =>
        SocketCalls.SetIntOption(Fd, Tmds.Linux.LibC.SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group, $"NETLINK_ADD_MEMBERSHIP {group}");

    /// <summary>Sets SO_RCVBUF(FORCE) so bursts of notifications are not lost (ENOBUFS).</summary>
    public void SetReceiveBuffer(int bytes)
    {
        int fd = Fd;
        if (SocketCalls.SetSockOpt(fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_RCVBUFFORCE, &bytes, sizeof(int)) < 0)
            SocketCalls.SetIntOption(fd, Tmds.Linux.LibC.SOL_SOCKET, Tmds.Linux.LibC.SO_RCVBUF, bytes, "SO_RCVBUF");
    }

    /// <summary>How many times a dump is taken again when the kernel says it was interrupted.</summary>
    public const int DumpAttempts = 8;

    /// <summary>Dumps the kernel marked interrupted and took again (all sockets of the process; `stats --json` and the
    /// metrics show it: many mean the board's links, addresses or routes change fast).</summary>
    public static long DumpsRestarted => Interlocked.Read(ref s_dumpsRestarted);
    private static long s_dumpsRestarted;

    /// <summary>Sends the request (built by <see cref="NetlinkWriter"/>; it must ask for an ack, NLM_F_ACK), passes each
    /// reply to <paramref name="onReply"/>, and returns at the ack. A kernel error throws
    /// <see cref="PlatformException"/> naming <paramref name="operation"/> and <paramref name="target"/>, with the
    /// kernel's extack text and <paramref name="hintFor"/>(errno) as advice.</summary>
    public void Transact(Span<byte> request, string operation, string? target, NetlinkReplyHandler? onReply = null,
        Func<int, string?>? hintFor = null)
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(request[6..]);
        if ((flags & NLM_F_DUMP) == NLM_F_DUMP)
            throw new ArgumentException("a dump goes through Dump, which retries an interrupted one", nameof(request));
        if ((flags & NLM_F_ACK) == 0)
            throw new ArgumentException("request must ask for an ack (NLM_F_ACK)", nameof(request));
        Exchange(request, operation, target, onReply, hintFor);
    }

    /// <summary>Sends the dump request (NLM_F_DUMP) and passes each entry to <paramref name="onReply"/>. When the kernel
    /// marks the dump interrupted (NLM_F_DUMP_INTR: the table changed while it was read out in parts, so an entry that
    /// was there all along may be missing), <paramref name="restart"/> runs (the caller forgets what it took) and the
    /// dump is taken again, up to <see cref="DumpAttempts"/> times; still interrupted then, it throws EINTR. A kernel
    /// error throws as <see cref="Transact"/> does.</summary>
    public void Dump(Span<byte> request, string operation, string? target, NetlinkReplyHandler onReply, Action? restart = null)
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(request[6..]);
        if ((flags & NLM_F_DUMP) != NLM_F_DUMP) throw new ArgumentException("request must ask for a dump (NLM_F_DUMP)", nameof(request));
        for (int attempt = 1; ; attempt++)
        {
            if (!Exchange(request, operation, target, onReply, null)) return;
            if (attempt == DumpAttempts)
                throw new PlatformException(operation, target, Errno.EINTR,
                    $"The kernel's table changed during each of {DumpAttempts} dumps (NLM_F_DUMP_INTR); try again when it is quieter");
            Interlocked.Increment(ref s_dumpsRestarted);
            restart?.Invoke();
        }
    }

    /// <summary>One request and its replies up to the ack or the dump's end; true when a reply of it carried
    /// NLM_F_DUMP_INTR.</summary>
    private bool Exchange(Span<byte> request, string operation, string? target, NetlinkReplyHandler? onReply, Func<int, string?>? hintFor)
    {
        lock (_gate)
        {
            bool interrupted = false;
            uint seq = ++_sequence;
            BinaryPrimitives.WriteUInt32LittleEndian(request[8..], seq);
            Send(request, operation, target);
            while (true)
            {
                int n = ReceiveBlocking(operation, target);
                var reader = new NetlinkMessageReader(_receiveBuffer.AsSpan(0, n));
                while (reader.TryRead(out var message))
                {
                    if (message.Sequence != seq) continue; // a late answer to an abandoned request
                    interrupted |= (message.Flags & NLM_F_DUMP_INTR) != 0;
                    if (message.Type is NLMSG_ERROR or NLMSG_DONE)
                    {
                        NetlinkError.Parse(message, out int errno, out string? kernelText);
                        if (errno != 0)
                            throw NetlinkError.ToException(errno, kernelText, operation, target, hintFor?.Invoke(errno));
                        return interrupted;
                    }
                    if (message.Type is NLMSG_NOOP or NLMSG_OVERRUN) continue;
                    onReply?.Invoke(message);
                }
                // The ack or the dump's end may have been in what could not be read; waiting on would hang.
                if (reader.Malformed)
                    throw new PlatformException($"recv(AF_NETLINK) for {operation}", target, Errno.EBADMSG,
                        $"The kernel's reply held a malformed netlink message ({n}-byte datagram)");
            }
        }
    }

    /// <summary>Reads one datagram (one or more messages) from the kernel into <paramref name="buffer"/>. Returns
    /// its length, or a negative errno for EAGAIN (non-blocking, nothing queued), EINTR and ENOBUFS (notifications
    /// were dropped because the receive buffer overflowed: resynchronise). Other errors throw. A datagram another
    /// socket sent (sender port id not 0: a process with CAP_NET_ADMIN in the namespace, a tenant's root, writing
    /// in the kernel's name) is dropped, as iproute2 drops it.</summary>
    public int Receive(Span<byte> buffer, bool nonBlocking)
    {
        uint* sender = stackalloc uint[3]; // sockaddr_nl { family, pad, nl_pid, nl_groups }
        fixed (byte* b = buffer)
        {
            while (true)
            {
                uint senderLength = 3 * sizeof(uint);
                nint n = SocketCalls.RecvFrom(Fd, b, (nuint)buffer.Length, nonBlocking ? Tmds.Linux.LibC.MSG_DONTWAIT : 0,
                    sender, &senderLength);
                if (n >= 0)
                {
                    if (sender[1] == 0) return (int)n;
                    continue;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno is Errno.EAGAIN or Errno.EINTR or Errno.ENOBUFS) return -errno;
                throw new PlatformException("recv(AF_NETLINK)", null, errno);
            }
        }
    }

    private void Send(ReadOnlySpan<byte> request, string operation, string? target)
    {
        Span<byte> kernel = stackalloc byte[12];
        kernel.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(kernel, (ushort)Tmds.Linux.LibC.AF_NETLINK);
        fixed (byte* r = request) fixed (byte* k = kernel)
        {
            while (true)
            {
                nint sent = SocketCalls.SendTo(Fd, r, (nuint)request.Length, 0, k, kernel.Length);
                if (sent >= 0) return;
                if (Marshal.GetLastPInvokeError() != Errno.EINTR)
                    throw PlatformException.FromLastError($"sendto(AF_NETLINK) for {operation}", target);
            }
        }
    }

    private int ReceiveBlocking(string operation, string? target)
    {
        while (true)
        {
            int n = Receive(_receiveBuffer, nonBlocking: false);
            if (n >= 0) return n;
            if (n == -Errno.EINTR) continue;
            throw new PlatformException($"recv(AF_NETLINK) for {operation}", target, -n);
        }
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) LibC.Close(fd);
    }
}
