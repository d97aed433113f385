using System.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Runtime;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>The datapath's decision with a capture beside it: while a capture runs, the engine asks this wrapper
/// instead of the <see cref="PairFrameHandler"/> (swapped between two batches, so without a capture the datapath
/// pays nothing). Per frame it copies the frame as received into the next ring slot, lets the real handler decide,
/// and publishes a record per capture point the frame came in through (the received bytes) and went out through (the
/// bytes as forwarded, one more copy), with the verdict and the pipeline's <see cref="FrameDecision"/>. A full ring
/// costs a counted capture drop, never a wait. Runs on the forwarding worker only; allocates nothing.</summary>
public sealed class CapturingFrameHandler(PairFrameHandler inner, CaptureRing ring, CapturePoint[] points, CaptureVerdicts verdicts) : IFrameHandler
{
    private readonly long[] _seen = new long[points.Length];
    private readonly long[] _lost = new long[points.Length];

    public PairFrameHandler Inner => inner;
    public CaptureRing Ring => ring;
    public IReadOnlyList<CapturePoint> Points => points;
    /// <summary>Records that matched point i (captured or lost).</summary>
    public long Seen(int point) => Volatile.Read(ref _seen[point]);
    /// <summary>Records of point i lost to a full ring.</summary>
    public long Lost(int point) => Volatile.Read(ref _lost[point]);

    public void BeginBatch() => inner.BeginBatch();

    /// <summary>Housekeeping (learning's clock and ageing) goes on while a capture runs.</summary>
    public void Tick(long nowTicks) => inner.Tick(nowTicks);

    public FrameVerdict Decide(ref FrameView frame)
    {
        long at = ring.Head;
        bool room = ring.HasRoom(at);
        int inLength = frame.Length, inCopied = room ? ring.Copy(at, frame.Data) : 0;
        int ingress = frame.IngressPort;
        var verdict = inner.Decide(ref frame);
        ref readonly var d = ref inner.Pipeline.Decision;
        if (!Wanted(verdict, d)) return verdict;
        long next = at, timestamp = 0;
        for (int i = 0; i < points.Length; i++)
        {
            if (!points[i].In(ingress, d)) continue;
            _seen[i]++;
            if (!room || !ring.HasRoom(next))
            {
                Lose(i);
                continue;
            }
            if (next != at) ring.CopySlot(at, next, inCopied);
            if (timestamp == 0) timestamp = Stopwatch.GetTimestamp();
            Fill(next++, i, PacketDirection.Inbound, inCopied, inLength, verdict, d, timestamp);
        }
        if (verdict.Kind == VerdictKind.Forward)
        {
            for (int i = 0; i < points.Length; i++)
            {
                if (!points[i].Out(verdict.TargetPort, d)) continue;
                _seen[i]++;
                if (!ring.HasRoom(next))
                {
                    Lose(i);
                    continue;
                }
                if (timestamp == 0) timestamp = Stopwatch.GetTimestamp();
                Fill(next, i, PacketDirection.Outbound, ring.Copy(next, frame.Data), frame.Length, verdict, d, timestamp);
                next++;
            }
        }
        if (next != at) ring.Publish(next);
        return verdict;
    }

    private void Lose(int point)
    {
        _lost[point]++;
        ring.CountDrop();
    }

    private void Fill(long at, int point, PacketDirection direction, int copied, int length, FrameVerdict verdict, in FrameDecision d, long timestamp)
    {
        ref var slot = ref ring.Slot(at);
        slot.Timestamp = timestamp;
        slot.Point = point;
        slot.Direction = direction;
        slot.Length = copied;
        slot.OriginalLength = length;
        slot.Verdict = verdict;
        slot.Decision = d;
    }

    private bool Wanted(FrameVerdict verdict, in FrameDecision d)
    {
        if (verdicts == CaptureVerdicts.All) return true;
        var kind = verdict.Kind != VerdictKind.Forward ? CaptureVerdicts.Drop : d.RedirectIfindex != 0 ? CaptureVerdicts.Redirect : CaptureVerdicts.Pass;
        return (verdicts & kind) != 0;
    }
}
