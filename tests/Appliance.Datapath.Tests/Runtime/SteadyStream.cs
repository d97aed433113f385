using System.Buffers.Binary;
using System.Diagnostics;
using Appliance.Datapath.Tests.Engine;

namespace Appliance.Datapath.Tests.Runtime;

/// <summary>A steady stream of numbered test frames (about 2,000 a second) from one end to another, counted at the
/// receiver by sequence number: what a config change costs a tenant, in frames lost. Start it, change things, then
/// <see cref="Stop"/> and read <see cref="Sent"/>, <see cref="Received"/> and <see cref="Lost"/>.</summary>
public sealed class SteadyStream : IDisposable
{
    public const int FramesPerMillisecond = 2;

    private readonly PacketSocket _tx, _rx;
    private readonly byte[] _dst, _src;
    private readonly Thread _sender, _receiver;
    private readonly HashSet<int> _seen = [];
    private volatile bool _stopSending, _stopReceiving;
    private int _sent;

    public SteadyStream(string? fromNs, string fromIf, string? toNs, string toIf, byte[] dst, byte[] src)
    {
        _rx = PacketSocket.Open(toNs, toIf, TestFrames.EtherType);
        _tx = PacketSocket.Open(fromNs, fromIf, TestFrames.EtherType);
        _dst = dst;
        _src = src;
        _sender = new Thread(Send) { IsBackground = true, Name = "steady-stream tx" };
        _receiver = new Thread(Receive) { IsBackground = true, Name = "steady-stream rx" };
        _receiver.Start();
        _sender.Start();
    }

    public int Sent => Volatile.Read(ref _sent);
    public int Received { get { lock (_seen) return _seen.Count; } }
    public int Lost => Sent - Received;
    public double Seconds { get; private set; }

    private void Send()
    {
        var sw = Stopwatch.StartNew();
        int seq = 0;
        while (!_stopSending)
        {
            long due = sw.ElapsedMilliseconds * FramesPerMillisecond;
            while (seq < due && !_stopSending)
            {
                _tx.Send(TestFrames.Build(_dst, _src, 128, ++seq));
                Volatile.Write(ref _sent, seq);
            }
            Thread.Sleep(1);
        }
        Seconds = sw.Elapsed.TotalSeconds;
    }

    private void Receive()
    {
        var buf = new byte[2048];
        while (!_stopReceiving)
        {
            int n = _rx.Receive(buf, 100);
            // Only this stream's frames: another stream's on the same interface (its frames sent there included) is not ours.
            if (n < 18 || !buf.AsSpan(0, 6).SequenceEqual(_dst) || !buf.AsSpan(6, 6).SequenceEqual(_src)) continue;
            int seq = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(14));
            lock (_seen) _seen.Add(seq);
        }
    }

    /// <summary>Stops sending, waits until every frame sent arrived (or 2 s passed), stops receiving.</summary>
    public void Stop()
    {
        if (_stopReceiving) return;
        _stopSending = true;
        _sender.Join();
        var deadline = Environment.TickCount64 + 2000;
        while (Received < Sent && Environment.TickCount64 < deadline) Thread.Sleep(20);
        _stopReceiving = true;
        _receiver.Join();
    }

    public override string ToString() => $"{Sent} frames sent in {Seconds:F1} s, {Received} received, {Lost} lost";

    public void Dispose()
    {
        Stop();
        _tx.Dispose();
        _rx.Dispose();
    }
}
