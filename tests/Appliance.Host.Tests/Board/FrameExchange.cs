using Xunit;

namespace Appliance.Host.Tests.Board;

/// <summary>Sends numbered test frames into one board port and checks that each comes out of the other one
/// byte for byte.</summary>
public static class FrameExchange
{
    /// <summary>Sends <paramref name="count"/> frames (60..~1000 bytes, paced 20 ms) into <paramref name="into"/>
    /// and asserts all arrive unchanged at <paramref name="outOf"/>. Returns the number received.</summary>
    public static int AssertFramesCross(BoardPort into, BoardPort outOf, int count, TimeSpan timeout)
    {
        outOf.Drain();
        var sent = new Dictionary<uint, byte[]>();
        var seqBase = (uint)Random.Shared.Next(1, int.MaxValue / 2);
        for (var i = 0; i < count; i++)
        {
            var frame = TestFrame.Build(seqBase + (uint)i, 60 + i * 50);
            sent[seqBase + (uint)i] = frame;
            into.Send(frame);
            Thread.Sleep(20);
        }
        var received = outOf.Receive(timeout, got => got.Count(TestFrame.IsTestFrame) >= count)
            .Where(TestFrame.IsTestFrame).ToList();
        var bySeq = received.GroupBy(TestFrame.SequenceOf).ToDictionary(g => g.Key, g => g.First());
        var missing = sent.Keys.Where(s => !bySeq.ContainsKey(s)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {count} frames sent into {into.Name} never left {outOf.Name} (received {received.Count} test frames)");
        foreach (var (seq, frame) in sent) Assert.Equal(frame, bySeq[seq]);
        return received.Count;
    }
}
