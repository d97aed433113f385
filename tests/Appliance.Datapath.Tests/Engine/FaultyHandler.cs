using Appliance.Datapath.Engine;

namespace Appliance.Datapath.Tests.Engine;

/// <summary>Cross-connects ports 0 and 1, but throws on frames whose byte 15 is 0xEE (<see cref="Poison"/>; in Decide,
/// inside the per-frame guard), and (while <see cref="FailBatches"/> is above zero) in BeginBatch, outside it.</summary>
public sealed class FaultyHandler : IFrameHandler
{
    public int FailBatches;

    public void BeginBatch()
    {
        if (Volatile.Read(ref FailBatches) <= 0) return;
        Interlocked.Decrement(ref FailBatches);
        throw new InvalidOperationException("injected batch fault");
    }

    public FrameVerdict Decide(ref FrameView frame)
    {
        if (frame.Data[15] == 0xEE) throw new InvalidOperationException("injected frame fault");
        return FrameVerdict.Forward(1 - frame.IngressPort);
    }

    /// <summary>Marks <paramref name="frame"/> as one Decide throws on (<paramref name="poison"/>) or clears the mark.</summary>
    public static byte[] Poison(byte[] frame, bool poison)
    {
        frame[15] = poison ? (byte)0xEE : (byte)0;
        return frame;
    }
}
