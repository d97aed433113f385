using Appliance.Datapath.Engine;
using Appliance.Datapath.Forwarding;

namespace Appliance.Datapath.Capture;

/// <summary>The datapath's decision with a capture beside it: while a capture runs, the engine asks this wrapper
/// instead of the <see cref="PairFrameHandler"/> (swapped between two batches, so without a capture the datapath
/// pays nothing). Per frame it hands the frame as received to the <see cref="CaptureRecorder"/>, lets the real
/// handler decide, and has the recorder publish the frame's records. Runs on the forwarding worker only; allocates nothing.</summary>
public sealed class CapturingFrameHandler(PairFrameHandler inner, CaptureRecorder recorder) : IFrameHandler
{
    public CaptureRecorder Recorder => recorder;

    public void BeginBatch() => inner.BeginBatch();

    /// <summary>Housekeeping (learning's clock and ageing) goes on while a capture runs.</summary>
    public void Tick(long nowTicks) => inner.Tick(nowTicks);

    public long NextTick => inner.NextTick;

    public FrameVerdict Decide(ref FrameView frame)
    {
        int length = frame.Length, received = recorder.Received(frame.Data);
        int ingress = frame.IngressPort;
        var verdict = inner.Decide(ref frame);
        recorder.Decided(received, length, ingress, verdict, inner.Pipeline.Decision, frame.Data);
        return verdict;
    }
}
