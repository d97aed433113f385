using System.Net;
using System.Net.Sockets;

namespace Appliance.Host.Tests.Board;

/// <summary>The host end of one board Ethernet port: QEMU's `-netdev dgram` carries one Ethernet frame per UDP
/// datagram between 127.0.0.1:GuestPort (QEMU) and 127.0.0.1:HostPort (this socket). No root, loopback only.</summary>
public sealed class UdpBoardPort : IDisposable
{
    private readonly Socket _socket;

    public string Name { get; }
    public int HostPort { get; }
    public int GuestPort { get; }

    public UdpBoardPort(string name, int guestPort)
    {
        Name = name;
        GuestPort = guestPort;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.ReceiveBufferSize = 1 << 20;
        HostPort = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    /// <summary>Puts a frame on the wire towards the board's port.</summary>
    public void Send(ReadOnlySpan<byte> frame) => _socket.SendTo(frame, new IPEndPoint(IPAddress.Loopback, GuestPort));

    /// <summary>Frames the board transmitted on this port until <paramref name="until"/> says stop or the timeout
    /// passes (whatever arrived by then is returned).</summary>
    public List<byte[]> Receive(TimeSpan timeout, Func<List<byte[]>, bool> until)
    {
        var frames = new List<byte[]>();
        var deadline = DateTime.UtcNow + timeout;
        var buffer = new byte[65536];
        while (!until(frames))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            if (!_socket.Poll((int)Math.Min(left.TotalMicroseconds, 200_000), SelectMode.SelectRead)) continue;
            var n = _socket.Receive(buffer);
            frames.Add(buffer[..n]);
        }
        return frames;
    }

    /// <summary>Discards whatever the board already sent (IPv6 neighbour discovery and the like).</summary>
    public void Drain()
    {
        var buffer = new byte[65536];
        while (_socket.Available > 0) _socket.Receive(buffer);
    }

    public void Dispose() => _socket.Dispose();
}
