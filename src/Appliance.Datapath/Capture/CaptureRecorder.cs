using System.Diagnostics;
using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>Puts decided frames into one <see cref="CaptureRing"/>: a record per capture point the frame came in
/// through (the bytes as received) and, when forwarded, per point it went out through (the bytes as sent, one more
/// copy), each with the verdict and the pipeline's <see cref="FrameDecision"/>. Two calls per frame:
/// <see cref="Received"/> before the decision (programs may rewrite the frame in place), <see cref="Decided"/> after.
/// A full ring costs a counted capture drop, never a wait. One producer thread per recorder (the forwarding worker,
/// or the group-frame flooder); allocates nothing.</summary>
public sealed class CaptureRecorder(CaptureRing ring, CapturePoint[] points, CaptureVerdicts verdicts)
{
    private readonly long[] _seen = new long[points.Length];
    private readonly long[] _lost = new long[points.Length];

    public CaptureRing Ring => ring;
    public IReadOnlyList<CapturePoint> Points => points;
    /// <summary>Records that matched point i (captured or lost).</summary>
    public long Seen(int point) => Volatile.Read(ref _seen[point]);
    /// <summary>Records of point i lost to a full ring.</summary>
    public long Lost(int point) => Volatile.Read(ref _lost[point]);

    /// <summary>Copies the frame as received into the next free slot; the bytes copied, or -1 when the ring is full.</summary>
    public int Received(ReadOnlySpan<byte> frame)
    {
        long at = ring.Head;
        return ring.HasRoom(at) ? ring.Copy(at, frame) : -1;
    }

    /// <summary>Publishes the records of a decided frame: <paramref name="received"/> is what <see cref="Received"/>
    /// returned for it, <paramref name="receivedLength"/> its length on the wire, <paramref name="sent"/> the bytes
    /// as forwarded (read only when the verdict forwards).</summary>
    public void Decided(int received, int receivedLength, int ingress, FrameVerdict verdict, in FrameDecision d, ReadOnlySpan<byte> sent)
    {
        if (!Wanted(verdict, d)) return;
        long at = ring.Head, next = at, timestamp = 0;
        bool room = received >= 0;
        for (int i = 0; i < points.Length; i++)
        {
            if (!points[i].In(ingress, d)) continue;
            _seen[i]++;
            if (!room || !ring.HasRoom(next))
            {
                Lose(i);
                continue;
            }
            if (next != at) ring.CopySlot(at, next, received);
            if (timestamp == 0) timestamp = Stopwatch.GetTimestamp();
            Fill(next++, i, PacketDirection.Inbound, received, receivedLength, verdict, d, timestamp);
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
                Fill(next, i, PacketDirection.Outbound, ring.Copy(next, sent), sent.Length, verdict, d, timestamp);
                next++;
            }
        }
        if (next != at) ring.Publish(next);
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
