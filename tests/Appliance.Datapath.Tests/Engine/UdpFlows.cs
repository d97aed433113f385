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
    private readonly bool[][] _seen;
    private readonly int _total;
    private int _received, _problems, _foreign;
    private string? _first;

    /// <summary>Starts receiving <paramref name="total"/> frames of <paramref name="flows"/> flows on <paramref name="rx"/>.</summary>
    public UdpFlows(PacketSocket rx, int flows, int total)
    {
        _next = new int[flows];
        _seen = [.. Enumerable.Range(0, flows).Select(_ => new bool[(total + flows - 1) / flows])];
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
                if ((uint)flow >= (uint)flows || (uint)seq >= (uint)_seen[flow].Length) { _foreign++; continue; }
                bool again = _seen[flow][seq];
                _seen[flow][seq] = true;
                if (seq != _next[flow])
                {
                    _problems++;
                    _first ??= $"flow {flow}: got seq {seq}{(again ? " again" : "")}, expected {_next[flow]}";
                }
                _next[flow] = seq + 1;
                Interlocked.Increment(ref _received);
            }
        }) { IsBackground = true };
        _receiver.Start();
    }

    /// <summary>Frames that were not the test's (other traffic on the interface).</summary>
    public int Foreign => _foreign;

    /// <summary>Sends the frames (frame i: flow i mod flows, sequence i / flows) with at most 128 sent and not yet
    /// received at the far end, so no ring on the way holds more than that: a frame lost is the datapath's, not the
    /// pacing's. (Pacing on the datapath's RX counter instead let a worker that hands frames to a descheduled one fill
    /// the 256-slot hand-off ring and drop.)</summary>
    public void Send(PacketSocket tx, byte[] dst, byte[] src)
    {
        var frame = new byte[64];
        long last = 0;
        var stall = Stopwatch.StartNew();
        for (int i = 0; i < _total; i++)
        {
            while (i - Volatile.Read(ref _received) > 128)
            {
                long now = Volatile.Read(ref _received);
                if (now != last) { last = now; stall.Restart(); }
                else if (stall.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail($"nothing arrived for 10 s at {now} of {i} sent; " + Summary());
                Thread.Yield();
            }
            TestFrames.Udp(frame, dst, src, i % _next.Length, i / _next.Length);
            tx.Send(frame);
        }
    }

    /// <summary>What a failure looks like over all flows: frames that never arrived (loss) and the count received.</summary>
    private string Summary()
    {
        var missing = Enumerable.Range(0, _seen.Length)
            .SelectMany(f => Enumerable.Range(0, _seen[f].Length).Where(q => !_seen[f][q]).Select(q => $"{f}/{q}")).ToList();
        return $"{_received} of {_total} received, {_problems} out of order, never arrived (flow/seq): "
            + (missing.Count == 0 ? "none" : string.Join(' ', missing.Take(20)) + (missing.Count > 20 ? $" … ({missing.Count})" : ""));
    }

    /// <summary>Waits for the receiver and checks every flow arrived whole, once and in order.</summary>
    public void AssertEveryFrameOnceInOrder()
    {
        Assert.True(_receiver.Join(TimeSpan.FromSeconds(30)), $"receiver still waiting: {_received} of {_total}");
        Assert.True(_first is null, _first + "; " + Summary());
        Assert.Equal(0, _problems);
        Assert.Equal(_total, _received);
        Assert.All(_next, n => Assert.Equal(_total / _next.Length, n));
    }
}
