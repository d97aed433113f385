namespace Appliance.Datapath.Forwarding;

/// <summary>The group-frame flooder's transmit sockets: one non-blocking AF_PACKET socket per interface it sends into
/// (a pair's primary end, or a port a chain redirected a copy to), by engine port. A packet socket's send buffer holds
/// every frame it sent until the interface's queue lets go of it; one socket shared by every tenant let one tenant's
/// stalled queue (a qdisc that does not drain, a stopped queue) fill it and block the sends into all the others. Each
/// interface's own buffer fills only with its own copies, and a send that would wait fails at once (EAGAIN): that
/// tenant loses the copy, no one else waits. A socket is opened at the first copy for its interface (and again when
/// the engine port names another interface after a reload), so a copy costs the send alone.</summary>
public sealed class GroupFrameTransmitters : IDisposable
{
    private GroupFrameSocket?[] _sockets = [];
    private int[] _ifindexes = [];

    /// <summary>Sends <paramref name="frame"/> into engine port <paramref name="enginePort"/>, interface
    /// <paramref name="ifindex"/>, without waiting: 0, or the errno (<see cref="GroupFrameSocket.SendTo"/>; socket()'s when
    /// no socket could be opened for it).</summary>
    public int SendTo(ReadOnlySpan<byte> frame, int enginePort, int ifindex)
    {
        if ((uint)enginePort >= (uint)_sockets.Length) Grow(enginePort + 1);
        var socket = _sockets[enginePort];
        if (socket is null || _ifindexes[enginePort] != ifindex)
        {
            socket?.Dispose();
            _sockets[enginePort] = socket = GroupFrameSocket.TryOpenTransmitter($"flood transmitter {ifindex}", out int errno);
            _ifindexes[enginePort] = ifindex;
            if (socket is null) return errno;
        }
        return socket.SendTo(frame, ifindex);
    }

    private void Grow(int length)
    {
        Array.Resize(ref _sockets, length);
        Array.Resize(ref _ifindexes, length);
    }

    public void Dispose()
    {
        foreach (var s in _sockets) s?.Dispose();
        _sockets = [];
        _ifindexes = [];
    }
}
