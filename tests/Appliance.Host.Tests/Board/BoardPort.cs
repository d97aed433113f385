using Appliance.Datapath.Tests.Engine;

namespace Appliance.Host.Tests.Board;

/// <summary>The host end of one board Ethernet port: a multi-queue tap (image/qemu-board.sh --netns) reached through
/// an AF_PACKET socket on it in the board's namespace. What it sends, the tap spreads over its queues by flow hash,
/// so the guest's virtio-net receives it on as many RX queues as there are flows (as a NIC's RSS does).</summary>
public sealed class BoardPort : IDisposable
{
    private const ushort EthPAll = 0x0003;
    private readonly PacketSocket _socket;
    private readonly byte[] _buffer = new byte[65536];

    public string Name { get; }

    public BoardPort(string name, string netns, string tap)
    {
        Name = name;
        _socket = PacketSocket.Open(netns, tap, EthPAll);
    }

    /// <summary>Puts a frame on the wire towards the board's port.</summary>
    public void Send(ReadOnlySpan<byte> frame) => _socket.Send(frame);

    /// <summary>Frames the board transmitted on this port until <paramref name="until"/> says stop or the timeout
    /// passes (whatever arrived by then is returned).</summary>
    public List<byte[]> Receive(TimeSpan timeout, Func<List<byte[]>, bool> until)
    {
        var frames = new List<byte[]>();
        var deadline = DateTime.UtcNow + timeout;
        while (!until(frames))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            var n = _socket.Receive(_buffer, (int)Math.Min(left.TotalMilliseconds, 200));
            if (n >= 0) frames.Add(_buffer[..n]);
        }
        return frames;
    }

    /// <summary>Discards whatever the board already sent (IPv6 neighbour discovery and the like).</summary>
    public void Drain()
    {
        while (_socket.Receive(_buffer, 0) >= 0) { }
    }

    public void Dispose() => _socket.Dispose();
}
