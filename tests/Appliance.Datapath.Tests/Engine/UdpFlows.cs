using System.Buffers.Binary;
using System.Diagnostics;
using Xunit;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>Numbered UDP flows through the datapath (<see cref="TestFrames.Udp"/>: flow = source port, a sequence per
/// flow): a paced sender and a receiver that checks every frame of every flow arrives exactly once and in order.</summary>
public sealed class UdpFlows
{
    private readonly Thread _receiver;
    private readonly int[] _next;
    private readonly int _total;
    private int _received, _problems, _foreign;
    private string? _first;

    /// <summary>Starts receiving <paramref name="total"/> frames of <paramref name="flows"/> flows on <paramref name="rx"/>.</summary>
    public UdpFlows(PacketSocket rx, int flows, int total)
    {
        _next = new int[flows];
        _total = total;
        _receiver = new Thread(() =>
        {
            var buf = new byte[2048];
            while (Volatile.Read(ref _received) < total)
            {
                int n = rx.Receive(buf, 3000);
                if (n < 0) return;
                if (n < 50 || buf[23] != 17 || BinaryPrimitives.ReadUInt16BigEndian(buf.AsSpan(36)) != 7777) { _foreign++; continue; }
                int flow = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(42)), seq = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(46));
                if ((uint)flow >= (uint)flows) { _foreign++; continue; }
                if (seq != _next[flow])
                {
                    _problems++;
                    _first ??= $"flow {flow}: got seq {seq}, expected {_next[flow]}";
                }
                _next[flow] = seq + 1;
                Interlocked.Increment(ref _received);
            }
        }) { IsBackground = true };
        _receiver.Start();
    }

    /// <summary>Frames that were not the test's (other traffic on the interface).</summary>
    public int Foreign => _foreign;

    /// <summary>Sends the frames (frame i: flow i mod flows, sequence i / flows) with at most 128 between the sender
    /// and <paramref name="received"/> (the datapath's RX counter), so no kernel ring overflows.</summary>
    public void Send(PacketSocket tx, byte[] dst, byte[] src, Func<long> received)
    {
        var frame = new byte[64];
        long start = received(), last = 0;
        var stall = Stopwatch.StartNew();
        for (int i = 0; i < _total; i++)
        {
            while (i - (received() - start) > 128)
            {
                long now = received() - start;
                if (now != last) { last = now; stall.Restart(); }
                else if (stall.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail($"the datapath stopped receiving at {now} of {i} sent");
                Thread.Yield();
            }
            TestFrames.Udp(frame, dst, src, i % _next.Length, i / _next.Length);
            tx.Send(frame);
        }
    }

    /// <summary>Waits for the receiver and checks every flow arrived whole, once and in order.</summary>
    public void AssertEveryFrameOnceInOrder()
    {
        Assert.True(_receiver.Join(TimeSpan.FromSeconds(30)), $"receiver still waiting: {_received} of {_total}");
        Assert.True(_first is null, _first);
        Assert.Equal(0, _problems);
        Assert.Equal(_total, _received);
        Assert.All(_next, n => Assert.Equal(_total / _next.Length, n));
    }
}
