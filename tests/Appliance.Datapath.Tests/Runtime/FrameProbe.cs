using Appliance.Datapath.Tests.Engine;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>Sends test frames (EtherType 0x88B5, see <see cref="TestFrames"/>) at one end and checks what arrives at
/// another, byte for byte.</summary>
public static class FrameProbe
{
    public const int Timeout = 3000;

    /// <summary>How long a test listens for frames that must not arrive (they would arrive within microseconds).</summary>
    public const int Absence = 500;

    /// <summary>Sends <paramref name="count"/> distinct frames from (<paramref name="fromNs"/>, <paramref name="fromIf"/>)
    /// to <paramref name="dst"/> and returns the frames received at (<paramref name="toNs"/>, <paramref name="toIf"/>)
    /// until <paramref name="count"/> arrived or the timeout passed.</summary>
    public static List<byte[]> Exchange(string? fromNs, string fromIf, string? toNs, string toIf, byte[] dst, byte[] src, int count,
        out List<byte[]> sent, int size = 128, int timeoutMs = Timeout)
    {
        using var rx = PacketSocket.Open(toNs, toIf, TestFrames.EtherType);
        using var tx = PacketSocket.Open(fromNs, fromIf, TestFrames.EtherType);
        sent = [];
        for (int i = 0; i < count; i++)
        {
            var f = TestFrames.Build(dst, src, size, i + 1);
            sent.Add(f);
            tx.Send(f);
        }
        return Collect(rx, count, timeoutMs);
    }

    public static List<byte[]> Collect(PacketSocket rx, int count, int timeoutMs)
    {
        var got = new List<byte[]>();
        var buf = new byte[9000];
        var deadline = Environment.TickCount64 + timeoutMs;
        while (got.Count < count)
        {
            int left = (int)(deadline - Environment.TickCount64);
            if (left <= 0) break;
            int n = rx.Receive(buf, left);
            if (n < 0) break;
            got.Add(buf[..n]);
        }
        return got;
    }

    /// <summary>Waits briefly for frames that must NOT arrive; returns what did.</summary>
    public static List<byte[]> Silence(PacketSocket rx, int ms = 600) => Collect(rx, int.MaxValue, ms);
}
