namespace Appliance.Datapath.Capture;

/// <summary>Where a capture plugs into a datapath thread that is not the forwarding worker (the group-frame flooder):
/// the thread reads <see cref="Recorder"/> once per frame (one volatile read and a branch while no capture runs) and,
/// when set, records through it. Owned by the runtime, so a flooder made anew on a reload keeps the capture.</summary>
public sealed class CaptureTap
{
    private CaptureRecorder? _recorder;

    public CaptureRecorder? Recorder => Volatile.Read(ref _recorder);

    /// <summary>False when another capture holds the tap.</summary>
    public bool TryAttach(CaptureRecorder recorder) => Interlocked.CompareExchange(ref _recorder, recorder, null) is null;

    public void Detach(CaptureRecorder recorder) => Interlocked.CompareExchange(ref _recorder, null, recorder);
}
