using System.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>A capture of the running datapath (one at a time): starting it swaps every forwarding worker's handler
/// for a <see cref="CapturingFrameHandler"/> around that worker's own, each with a ring of its own (one producer per
/// ring: the workers never share one; the ring slots are split between them), and plugs a second recorder, on its own ring, into
/// the group-frame flooder's <see cref="CaptureTap"/> (broadcast and multicast are decided there, once per L2 pair of
/// the port); disposing it undoes both. The reader
/// (<see cref="Drain"/>, on the caller's thread) turns ring slots into pcapng packets: one interface per capture
/// point, direction in epb_flags, the decision (<see cref="DecisionText"/>) as the comment, wall-clock nanosecond
/// timestamps; <see cref="WriteStatistics"/> closes with each point's seen and lost counts.</summary>
public sealed class LiveCapture : IDisposable
{
    /// <summary>An AF_XDP frame is at most one 4 KiB page: no captured frame is longer.</summary>
    public const int MaxFrame = 4096;
    /// <summary>Ring slots the workers' captures share: each worker's ring holds Slots / workers rounded up to a power
    /// of two, at least <see cref="MinWorkerSlots"/> (a worker's bursts must fit between two drains).</summary>
    public const int Slots = 2048;
    private const int MinWorkerSlots = 256;

    private readonly ForwardingEngine _engine;
    private readonly PairFrameHandler[] _original;
    private readonly CapturingFrameHandler[] _capturing;
    private readonly CaptureRecorder? _group;
    private readonly CaptureTap? _tap;
    private readonly RuntimeTopology _topology;
    private readonly long _startUnixNs, _startTicks;
    private readonly CaptureRing.SlotReader _reader;
    private PcapngWriter? _writer;
    private int _interfaceBase;
    private bool _disposed;

    public int SnapLength { get; }
    public IReadOnlyList<CapturePoint> Points => _capturing[0].Recorder.Points;
    /// <summary>Packets handed to a writer so far.</summary>
    public long Written { get; private set; }
    /// <summary>Records lost because the ring was full (the reader was slow).</summary>
    public long Lost => _capturing.Sum(c => c.Recorder.Ring.Dropped) + (_group?.Ring.Dropped ?? 0);

    private LiveCapture(ForwardingEngine engine, PairFrameHandler[] original, CapturingFrameHandler[] capturing, CaptureTap? tap,
        CaptureRecorder? group, RuntimeTopology topology, int snapLength)
    {
        _engine = engine;
        _original = original;
        _capturing = capturing;
        _tap = tap;
        _group = group;
        _topology = topology;
        SnapLength = snapLength;
        _startTicks = Stopwatch.GetTimestamp();
        _startUnixNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        _reader = WriteSlot;
    }

    /// <param name="handlers">Each forwarding worker's handler (worker w's at w), as the engine runs them now.</param>
    /// <param name="groupFrames">The group-frame flooder's tap (the runtime's <c>GroupCapture</c>); null captures
    /// only what the forwarding workers decide.</param>
    /// <exception cref="InvalidOperationException">Another capture is running.</exception>
    public static LiveCapture Start(ForwardingEngine engine, IReadOnlyList<PairFrameHandler> handlers, RuntimeTopology topology, CapturePoint[] points,
        CaptureVerdicts verdicts = CaptureVerdicts.All, int snapLength = 262144, CaptureTap? groupFrames = null)
    {
        if (points.Length == 0) throw new ArgumentException("nothing to capture: no capture point", nameof(points));
        if (snapLength < 14) throw new ArgumentOutOfRangeException(nameof(snapLength), "the snap length must hold an Ethernet header (14 bytes)");
        int snap = Math.Min(snapLength, MaxFrame);
        int perWorker = Math.Max(MinWorkerSlots, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(Slots / handlers.Count)));
        var capturing = handlers.Select(h => new CapturingFrameHandler(h, new CaptureRecorder(new CaptureRing(perWorker, snap), points, verdicts))).ToArray();
        for (int w = 0; w < capturing.Length; w++)
        {
            if (engine.TrySwapHandler(handlers[w], capturing[w], w)) continue;
            for (int u = 0; u < w; u++) engine.TrySwapHandler(capturing[u], handlers[u], u);
            throw new InvalidOperationException("another capture is running; one capture at a time (stop it first)");
        }
        CaptureRecorder? group = null;
        if (groupFrames is not null)
        {
            // Group traffic is control traffic: a small ring of its own (its producer is the flooder's thread).
            group = new CaptureRecorder(new CaptureRing(GroupSlots, snap), points, verdicts);
            if (!groupFrames.TryAttach(group)) group = null;
        }
        return new LiveCapture(engine, [.. handlers], capturing, group is null ? null : groupFrames, group, topology, snapLength);
    }

    private const int GroupSlots = 256;

    /// <summary>One Interface Description Block per capture point, named PORT or PAIR/SIDE.</summary>
    public void WriteInterfaces(PcapngWriter writer)
    {
        _interfaceBase = -1;
        foreach (var p in Points)
        {
            int id = writer.AddInterface(p.Name, p.Pair is null ? "meta-appliance port" : "meta-appliance pair side");
            if (_interfaceBase < 0) _interfaceBase = id;
        }
    }

    /// <summary>Writes at most <paramref name="max"/> captured packets; returns how many.</summary>
    public int Drain(PcapngWriter writer, int max)
    {
        _writer = writer;
        int n = 0;
        foreach (var c in _capturing)
            if (n < max) n += c.Recorder.Ring.Drain(max - n, _reader);
        if (_group is not null && n < max) n += _group.Ring.Drain(max - n, _reader);
        Written += n;
        return n;
    }

    private void WriteSlot(in CaptureSlot slot, ReadOnlySpan<byte> data)
    {
        long ns = _startUnixNs + (long)((slot.Timestamp - _startTicks) * (1_000_000_000.0 / Stopwatch.Frequency));
        _writer!.WritePacket(_interfaceBase + slot.Point, ns, data, slot.OriginalLength, slot.Direction,
            DecisionText.Describe(_topology, slot.Verdict, slot.Decision));
    }

    /// <summary>An Interface Statistics Block per point: records seen (captured or lost) and lost.</summary>
    public void WriteStatistics(PcapngWriter writer)
    {
        long ns = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        for (int i = 0; i < Points.Count; i++)
            writer.WriteStatistics(_interfaceBase + i, ns, (ulong)(_capturing.Sum(c => c.Recorder.Seen(i)) + (_group?.Seen(i) ?? 0)),
                (ulong)(_capturing.Sum(c => c.Recorder.Lost(i)) + (_group?.Lost(i) ?? 0)));
    }

    /// <summary>Gives the engine its own handler back (the next batch runs without the capture).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int w = 0; w < _capturing.Length; w++) _engine.TrySwapHandler(_capturing[w], _original[w], w);
        if (_group is not null) _tap!.Detach(_group);
    }
}
